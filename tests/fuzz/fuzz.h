/*
 * fuzz.h -- shared by the libFuzzer harnesses of tests/fuzz/.
 */
#ifndef PMC_FUZZ_H
#define PMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libFuzzer's entry points; offline.c has the first. */
int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * An invariant that must hold.  Broken, it aborts, which libFuzzer
 * reports as a crash and saves the input.
 */
#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#endif /* PMC_FUZZ_H */

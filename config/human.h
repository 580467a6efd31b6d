/*
 * human.h -- figures and text for people, shared by pmc and pmcd.
 */
#ifndef PMC_HUMAN_H
#define PMC_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 1234567 -> "1.2M", 530 -> "530B": binary units, one decimal. */
void	 human_size(uint64_t bytes, char *, size_t);
/*
 * Write len bytes of text that an app controls to fp, a terminal, so
 * that it cannot drive it: control characters (but tab and newline),
 * DEL, C1 controls and bytes that are not UTF-8 as vis(3) escapes
 * ("\r", "\033", "\302\233"); valid UTF-8 as it is.
 */
void	 human_text(FILE *, const char *, size_t);

#endif /* PMC_HUMAN_H */

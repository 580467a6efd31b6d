/*
 * human.h -- figures for people, shared by pmc and pmcd.
 */
#ifndef PMC_HUMAN_H
#define PMC_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* 1234567 -> "1.2M", 530 -> "530B": binary units, one decimal. */
void	 human_size(uint64_t bytes, char *, size_t);

#endif /* PMC_HUMAN_H */

/*
 * human.h -- figures and words as people write and read them, shared by
 * pmc and pmcd: durations, sizes, signals, yes and no, words for values.
 * Each parse has its format beside it, and a format's text parses back
 * to the same value.
 */
#ifndef PMC_HUMAN_H
#define PMC_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Durations and sizes are at most this (ms or bytes). */
#define HUMAN_VALUE_MAX	((uint64_t)INT64_MAX)

/* Digits only, at most max.  0, or -1. */
int	 parse_uint(const char *, uint64_t max, uint64_t *);

/* "0", "100ms", "5s", "1m", "2h".  0, or -1. */
int	 parse_duration_ms(const char *, uint64_t *);
/* In the largest unit that shows it exactly: "0", "1500ms", "2h". */
void	 format_duration(uint64_t ms, char *, size_t);

/* "4096", "512K", "10M", "1G" (binary units).  0, or -1. */
int	 parse_size(const char *, uint64_t *);
/* In the largest unit that shows it exactly: "0", "1536K", "10M". */
void	 format_size(uint64_t bytes, char *, size_t);
/* 1234567 -> "1.2M", 530 -> "530B": binary units, one decimal. */
void	 human_size(uint64_t bytes, char *, size_t);
/*
 * Write len bytes of text that an app controls to fp, a terminal, so
 * that it cannot drive it: control characters (but tab and newline),
 * DEL, C1 controls and bytes that are not UTF-8 as vis(3) escapes
 * ("\r", "\033", "\302\233"); valid UTF-8 as it is.
 */
void	 human_text(FILE *, const char *, size_t);

/* "TERM", "SIGHUP", "hup", "9", a real-time number; -1: none. */
int	 parse_signal(const char *);
/* "TERM", or "40" for a signal without a name. */
const char *signal_name(int);

/* "true", "yes", "on" (any case): 1; "false", "no", "off": 0; else -1. */
int	 parse_bool(const char *);
/* The index of s in a NULL-terminated list of words, or -1. */
int	 parse_word(const char *s, const char *const *words);
/* Word v of the list; the first one for a v past its end. */
const char *word_name(const char *const *words, int v);

#endif /* PMC_HUMAN_H */

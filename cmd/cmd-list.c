/*
 * cmd-list.c -- `pmc list [--json]`: every instance, as a table or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "human.h"
#include "protocol.h"
#include "spec.h"

#define STATUS_MAX	31

static int	cmd_list_exec(struct cmd *);

static const struct option cmd_list_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.getopt = "",
	.longopts = cmd_list_longopts,
	.lower = 0,
	.upper = 0,
	.usage = "[--json]",
	.help = "List every instance: pid, status, cpu, memory, uptime.",
	.exec = cmd_list_exec
};

/* One MSG_DATA record, checked. */
struct list_row {
	char			 name[SPEC_NAME_MAX + 1];
	unsigned long long	 instance;
	unsigned long long	 pid;
	char			 status[STATUS_MAX + 1];
	unsigned long long	 restarts;
	unsigned long long	 uptime_ms;
	double			 cpu;
	unsigned long long	 memory;
};

struct list_rows {
	struct list_row		*v;
	size_t			 n;
};

/* The columns of the table, in the order shown. */
enum table_column {
	T_NAME, T_INST, T_PID, T_STATUS, T_CPU, T_MEM, T_UPTIME, T_RESTARTS,
	T_NCOLUMNS
};

static const char *table_header[T_NCOLUMNS] = {
	"NAME", "INST", "PID", "STATUS", "CPU", "MEM", "UPTIME", "RESTARTS"
};

/* A decimal number of digits only, at most max; 0 or -1. */
static int
parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	const char		*p;
	unsigned long long	 n;

	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
	}
	errno = 0;
	n = strtoull(s, NULL, 10);
	if (errno != 0 || n > max)
		return (-1);
	*out = n;
	return (0);
}

/* "12.5": digits, optionally a point and digits. */
static int
parse_cpu(const char *s, double *out)
{
	const char	*p;

	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (p == s || p - s > 9)
		return (-1);
	if (*p == '.') {
		if (p[1] == '\0')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0')
		return (-1);
	*out = strtod(s, NULL);
	return (0);
}

static int
parse_status(const char *s, char *out, size_t len)
{
	const char	*p;

	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if ((*p < 'a' || *p > 'z') && *p != '-')
			return (-1);
	}
	return (strlcpy(out, s, len) >= len ? -1 : 0);
}

static int
parse_row(char **col, struct list_row *row)
{
	size_t	 len;

	len = strlen(col[LIST_NAME]);
	if (len == 0 || len > SPEC_NAME_MAX)
		return (-1);
	memcpy(row->name, col[LIST_NAME], len + 1);
	if (parse_number(col[LIST_INSTANCE], INT_MAX, &row->instance) == -1 ||
	    parse_number(col[LIST_PID], INT_MAX, &row->pid) == -1 ||
	    parse_status(col[LIST_STATUS], row->status,
	    sizeof(row->status)) == -1 ||
	    parse_number(col[LIST_RESTARTS], UINT64_MAX, &row->restarts) == -1 ||
	    parse_number(col[LIST_UPTIME_MS], UINT64_MAX,
	    &row->uptime_ms) == -1 ||
	    parse_cpu(col[LIST_CPU], &row->cpu) == -1 ||
	    parse_number(col[LIST_MEMORY], UINT64_MAX, &row->memory) == -1)
		return (-1);
	return (0);
}

/* client_data_fn: split a record at its tabs and keep it. */
static int
add_row(const char *record, void *arg)
{
	struct list_rows	*rows = arg;
	struct list_row		*v;
	char			*copy, *p, *col[LIST_NCOLUMNS];
	int			 n, r;

	if ((copy = strdup(record)) == NULL)
		return (-1);
	for (n = 0, p = copy; n < LIST_NCOLUMNS && p != NULL; n++)
		col[n] = strsep(&p, "\t");
	r = -1;
	if (n == LIST_NCOLUMNS && p == NULL) {
		v = reallocarray(rows->v, rows->n + 1, sizeof(*rows->v));
		if (v != NULL) {
			rows->v = v;
			r = parse_row(col, &rows->v[rows->n]);
			if (r == 0)
				rows->n++;
		}
	}
	free(copy);
	return (r);
}

/* 200000 -> "3m": the largest whole unit. */
static void
human_uptime(unsigned long long ms, char *buf, size_t len)
{
	unsigned long long	 s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh", s / 3600);
	else
		snprintf(buf, len, "%llud", s / 86400);
}

static const char *
status_colour(const char *status)
{
	if (strcmp(status, "online") == 0)
		return ("\033[32m");
	if (strcmp(status, "errored") == 0)
		return ("\033[31m");
	if (strcmp(status, "stopped") == 0)
		return (NULL);
	return ("\033[33m");	/* starting, stopping, backoff */
}

static int
use_colour(void)
{
	const char	*s;

	if (!isatty(STDOUT_FILENO))
		return (0);
	if ((s = getenv("NO_COLOR")) != NULL && *s != '\0')
		return (0);
	if ((s = getenv("TERM")) != NULL && strcmp(s, "dumb") == 0)
		return (0);
	return (1);
}

static void
format_row(const struct list_row *row, char cell[T_NCOLUMNS][80])
{
	int	 running = row->pid != 0;

	snprintf(cell[T_NAME], 80, "%s", row->name);
	snprintf(cell[T_INST], 80, "%llu", row->instance);
	snprintf(cell[T_STATUS], 80, "%s", row->status);
	snprintf(cell[T_RESTARTS], 80, "%llu", row->restarts);
	if (!running) {
		strlcpy(cell[T_PID], "-", 80);
		strlcpy(cell[T_CPU], "-", 80);
		strlcpy(cell[T_MEM], "-", 80);
		strlcpy(cell[T_UPTIME], "-", 80);
		return;
	}
	snprintf(cell[T_PID], 80, "%llu", row->pid);
	snprintf(cell[T_CPU], 80, "%.1f%%", row->cpu);
	human_size(row->memory, cell[T_MEM], 80);
	human_uptime(row->uptime_ms, cell[T_UPTIME], 80);
}

static void
print_line(const char **cell, const int *width, int colour)
{
	const char	*on;
	int		 i;

	for (i = 0; i < T_NCOLUMNS; i++) {
		on = NULL;
		if (colour && i == T_STATUS)
			on = status_colour(cell[i]);
		if (on != NULL)
			printf("%s%s\033[0m", on, cell[i]);
		else
			printf("%s", cell[i]);
		if (i < T_NCOLUMNS - 1)
			printf("%*s", width[i] - (int)strlen(cell[i]) + 2, "");
	}
	putchar('\n');
}

static int
print_table(const struct list_rows *rows)
{
	char		(*cells)[T_NCOLUMNS][80];
	const char	*line[T_NCOLUMNS];
	int		 width[T_NCOLUMNS], colour, len, i;
	size_t		 r;

	if ((cells = calloc(rows->n + 1, sizeof(*cells))) == NULL) {
		fprintf(stderr, "pmc: %s\n", strerror(errno));
		return (-1);
	}
	for (i = 0; i < T_NCOLUMNS; i++)
		width[i] = (int)strlen(table_header[i]);
	for (r = 0; r < rows->n; r++) {
		format_row(&rows->v[r], cells[r]);
		for (i = 0; i < T_NCOLUMNS; i++) {
			len = (int)strlen(cells[r][i]);
			if (len > width[i])
				width[i] = len;
		}
	}
	colour = use_colour();
	print_line(table_header, width, 0);
	for (r = 0; r < rows->n; r++) {
		for (i = 0; i < T_NCOLUMNS; i++)
			line[i] = cells[r][i];
		print_line(line, width, colour);
	}
	free(cells);
	return (0);
}

static void
json_string(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
print_json(const struct list_rows *rows)
{
	const struct list_row	*row;
	size_t			 r;

	if (rows->n == 0) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (r = 0; r < rows->n; r++) {
		row = &rows->v[r];
		printf("  {\"name\": ");
		json_string(row->name);
		printf(", \"instance\": %llu, \"pid\": %llu, \"status\": ",
		    row->instance, row->pid);
		json_string(row->status);
		printf(", \"restarts\": %llu, \"uptime_ms\": %llu, "
		    "\"cpu\": %.10g, \"memory\": %llu}%s\n", row->restarts,
		    row->uptime_ms, row->cpu, row->memory,
		    r + 1 < rows->n ? "," : "");
	}
	printf("]\n");
}

static int
cmd_list_exec(struct cmd *cmd)
{
	struct list_rows	 rows;
	struct pbuf		 pb;
	int			 fd, r;

	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&rows, 0, sizeof(rows));
	memset(&pb, 0, sizeof(pb));
	r = client_request(fd, MSG_LIST, &pb, add_row, &rows);
	close(fd);
	if (r == PMC_EXIT_OK) {
		if (cmd_has(cmd, 'j'))
			print_json(&rows);
		else if (print_table(&rows) == -1)
			r = PMC_EXIT_FAIL;
	}
	free(rows.v);
	return (r);
}

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
#include "listing.h"
#include "protocol.h"
#include "spec.h"

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

/* The columns of the table, in the order shown. */
enum table_column {
	T_NAME, T_INST, T_PID, T_STATUS, T_CPU, T_MEM, T_UPTIME, T_RESTARTS,
	T_NCOLUMNS
};

static const char *table_header[T_NCOLUMNS] = {
	"NAME", "INST", "PID", "STATUS", "CPU", "MEM", "UPTIME", "RESTARTS"
};

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
		    "\"cpu\": %.10g, \"memory\": %llu", row->restarts,
		    row->uptime_ms, row->cpu, row->memory);
		if (row->engine[0] != '\0') {
			printf(", \"balance\": ");
			json_string(row->balance);
			printf(", \"balance_engine\": ");
			json_string(row->engine);
			printf(", \"weight\": %llu", row->weight);
		}
		printf("}%s\n", r + 1 < rows->n ? "," : "");
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
	r = client_request(fd, MSG_LIST, &pb, listing_add, &rows);
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

/* SPDX-License-Identifier: MIT */
/*
 * vmm/cli_compact.h - `vmm compact --api PATH [--zone Z] [--order N]
 * [--json]`: run compaction in a running VM now and print what it did
 * (docs/api.md "compact").
 */
#ifndef VMM_CLI_COMPACT_H
#define VMM_CLI_COMPACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_compact_opts {
	const char *api_path; /* --api PATH (required) */
	const char *zone;     /* --zone Z; NULL: every zone */
	int order;	      /* --order N, -1 .. 10; -1: whole zone */
	bool json;	      /* --json: print the raw result */
	unsigned timeout_s;   /* --timeout S (default 5) */
};

extern const char cli_compact_help[];

/**
 * cli_compact_parse() - parse `vmm compact` arguments (argv[0] is
 * "compact").
 * Return: 0; 1 for --help; -EINVAL with a one-line message in @err.
 */
int cli_compact_parse(int argc, char **argv, struct cli_compact_opts *o,
		      char *err, size_t errlen);

/* The request object for @o (a new reference). */
json_t *cli_compact_request(const struct cli_compact_opts *o);

/* Human-readable output of a compact result. */
void cli_compact_print(FILE *out, json_t *result);

/*
 * `vmm stat`'s compaction section from stat's host.compaction: the vmstat
 * counters, and per zone the fragmentation score and the unusable and
 * extfrag indices by order (Linux's 3-decimal format). Nothing if absent.
 */
void cli_compact_print_stat(FILE *out, json_t *compaction);

/* Run `vmm compact`; the exit status: 0, 1 (no VMM, API error), 2. */
int cli_compact_main(int argc, char **argv);

#endif /* VMM_CLI_COMPACT_H */

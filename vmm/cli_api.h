/* SPDX-License-Identifier: MIT */
/*
 * vmm/cli_api.h - the control API's command-line clients: `vmm stat`,
 * `vmm balloon`, `vmm pause`, `vmm resume`, `vmm quit` (docs/api.md).
 * Parsing and printing are apart from the socket so unit tests drive them.
 */
#ifndef VMM_CLI_API_H
#define VMM_CLI_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_API_TIMEOUT_DEFAULT_S 5u  /* --timeout: one request */
#define CLI_API_WAIT_DEFAULT_S	  60u /* --timeout with balloon --wait */
#define CLI_API_POLL_MS		  100u

struct cli_api_opts {
	const char *api_path; /* --api PATH (required) */
	bool json;	      /* --json: print the raw result */
	bool has_target;      /* balloon: --target given */
	uint64_t target_bytes;
	bool wait; /* balloon: --wait */
	unsigned
		timeout_s; /* --timeout: give up after (5; balloon --wait 60) */
	bool has_timeout;  /* --timeout given */
};

/**
 * cli_api_parse() - parse `vmm @cmd` arguments (argv[0] is @cmd).
 * Return: 0; 1 for --help; -EINVAL with a one-line message in @err for bad
 * arguments, or an unknown @cmd.
 */
int cli_api_parse(const char *cmd, int argc, char **argv,
		  struct cli_api_opts *o, char *err, size_t errlen);

/**
 * cli_api_check_path() - a client's --api PATH must fit a UNIX socket
 * address (1 .. 107 bytes), as `vmm run --api` checks it.
 * Return: 0, or -EINVAL with a one-line message in @err.
 */
int cli_api_check_path(const char *path, char *err, size_t errlen);

/**
 * cli_api_parse_timeout() - a client's --timeout value: whole seconds in
 * 1 .. CLI_TIMEOUT_MAX.
 * Return: 0, or -EINVAL with a one-line message in @err.
 */
int cli_api_parse_timeout(const char *v, unsigned *timeout_s, char *err,
			  size_t errlen);

/**
 * cli_api_request() - send @request (consumed; NULL fails as -EINVAL) for
 * `vmm @cmd` to the VMM at @path, giving up after @timeout_s seconds
 * (connect, send and receive together).
 * Return: a new reference to the result object; NULL after printing why
 * (no VMM at @path; "timed out after N s waiting for the reply from PATH"
 * naming the step; the VMM's error code and message).
 */
json_t *cli_api_request(const char *cmd, const char *path, unsigned timeout_s,
			json_t *request);

/* The --help text of @cmd, or NULL for a command that is not a client. */
const char *cli_api_help(const char *cmd);

/**
 * cli_api_main() - run `vmm stat|balloon|pause|resume|quit` (argv[0] names
 * it). Return the exit status: 0 done, 1 no VMM / API error / --wait timed
 * out, 2 bad arguments.
 */
int cli_api_main(int argc, char **argv);

/* Human-readable `vmm stat` output of a stat result object. */
void cli_api_print_stat(FILE *out, json_t *result);

/* "512.0 MiB", "4.0 KiB", "0 B": @bytes in binary units, one decimal. */
void cli_api_format_bytes(uint64_t bytes, char *buf, size_t size);

#endif /* VMM_CLI_API_H */

/* SPDX-License-Identifier: MIT */
/*
 * vmm/cli.h - command-line parsing for `vmm run`, kept apart from main() so
 * that unit tests can drive it. Nothing here exits: errors come back as a
 * message in the caller's buffer and a negative errno.
 */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vm.h"

#define CLI_MEM_MIN	(16ull << 20)
#define CLI_MEM_MAX	(64ull << 30)
#define CLI_MEM_ALIGN	(2ull << 20)
#define CLI_MEM_DEFAULT (256ull << 20)
#define CLI_TIMEOUT_MAX 86400u
#define CLI_PAGE_SIZE	4096ull
/*
 * RAM --movable must leave to the other zones: the kernel, its page tables
 * and every allocation that cannot move, 64 MiB, plus a native guest's
 * frame database (16 bytes per 4 KiB frame: 1/256 of RAM), which must not
 * lie in ZONE_MOVABLE.
 */
#define CLI_MOVABLE_KEEP(mem) ((64ull << 20) + (mem) / 256)

/**
 * cli_parse_size() - parse "256M", "1G", "1536K", "4096" (bytes) into @bytes.
 * Units K, M, G, T (powers of 1024), optionally followed by "iB" or "B",
 * either case. Return 0, or -EINVAL (not a size) or -ERANGE (overflows).
 */
int cli_parse_size(const char *s, uint64_t *bytes);

/**
 * cli_parse_uint() - parse a decimal unsigned integer in [min, max].
 * Return 0, -EINVAL (not a number) or -ERANGE.
 */
int cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

/* Room for an argument quoted by cli_quote(), with its NUL. */
#define CLI_QUOTE_SIZE 96

/**
 * cli_quote() - @s as it may appear between quotes in a message: printable
 * ASCII and valid UTF-8 of printable characters as they are; a quote or a
 * backslash with a backslash before it; newline, tab and carriage return
 * as \n, \t, \r; every other control character (C0, DEL, C1) and every
 * byte that is not valid UTF-8 as \xNN. So an argument never ends a
 * message's line or reaches the terminal as a control sequence. Longer
 * than @size allows: cut at a character, "..." appended. @size >= 8.
 * Return: @buf.
 */
const char *cli_quote(const char *s, char *buf, size_t size);

/* cli_quote() into a buffer that lives until the end of the statement's block. */
#define CLI_Q(s) cli_quote((s), (char[CLI_QUOTE_SIZE]){0}, CLI_QUOTE_SIZE)

/**
 * cli_parse_run() - parse the arguments of `vmm run` (argv[0] is "run") into
 * @cfg, starting from the defaults. Strings in @cfg point into @argv.
 * Return 0; 1 if --help was asked for (nothing else parsed); or -EINVAL with a
 * one-line message (no newline) in @err.
 */
int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err,
		  size_t errlen);

/* The text `vmm run --help` prints. */
extern const char cli_run_help[];

#endif /* VMM_CLI_H */

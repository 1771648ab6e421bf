// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_cli.c - `vmm run`'s command line (vmm/cli.c) and its
 * size and number parsers, on any arguments.
 *
 * Input: the arguments after "run", separated by NUL bytes. An argument
 * "@G" becomes the path of a real guest file and one starting "@D" a real
 * 512-byte disk image (the rest, e.g. ",readonly", kept), so that inputs
 * can get past the file checks; other paths are only stat()ed.
 *
 * After every input:
 *   - cli_parse_run() returns 0, 1 (only for -h/--help) or -EINVAL with a
 *     reason: one line, no control character (C0, DEL, C1) whatever the
 *     arguments hold (they are quoted escaped); on 0 the
 *     configuration is one `vmm run` can start: RAM 16M .. 64G in 2 MiB
 *     steps, 1..32 vCPUs, a page limit (hosted only) of whole pages up to
 *     RAM, a CMA area of whole pageblocks below RAM in a real zone, a
 *     Movable zone of whole pageblocks leaving 64M and 1/256 of RAM, at most
 *     four disks, a socket path that fits, a guest among the arguments;
 *   - every argument through cli_parse_size(), cli_parse_uint() and
 *     vm_cma_parse() against reference parsers written here from the
 *     documented grammar: same verdict, same value.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "abi/boot.h"
#include "mm/mm.h"
#include "tests/fuzz/fuzz_common.h"
#include "vmm/cli.h"
#include "vmm/vm.h"
#include "vmm/vm_compaction.h"

#define MAX_ARGS 64

static char guest_path[64], disk_path[64];

static void make_file(char *path, const char *tmpl, size_t bytes)
{
	static const char zeros[512];
	int fd;

	snprintf(path, 64, "%s", tmpl);
	fd = mkstemp(path);
	FUZZ_ASSERT(fd >= 0 && write(fd, zeros, bytes) == (ssize_t)bytes &&
			    close(fd) == 0,
		    "cannot make %s", path);
}

static void remove_files(void)
{
	unlink(guest_path);
	unlink(disk_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	make_file(guest_path, "/tmp/fuzz-cli-guest.XXXXXX", 1);
	make_file(disk_path, "/tmp/fuzz-cli-disk.XXXXXX", 512);
	atexit(remove_files);
	return 0;
}

/* Reference parsers ------------------------------------------------------- */

/* SIZE: decimal digits (-ERANGE as soon as they pass 2^64 - 1), then
 * nothing, or K/M/G/T (any case) alone or with B or iB (any case); powers
 * of 1024; -ERANGE if the product passes 2^64 - 1. */
static int ref_size(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT64_MAX)
			return -ERANGE;
	}
	if (*p) {
		const char *u = strchr("KMGT", *p >= 'a' ? *p - 32 : *p);

		if (!u)
			return -EINVAL;
		shift = 10 * (unsigned)(u - "KMGT" + 1);
		p++;
		if (*p && strcasecmp(p, "B") != 0 && strcasecmp(p, "iB") != 0)
			return -EINVAL;
	}
	if ((v << shift) > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)(v << shift);
	return 0;
}

/* UINT: decimal digits only, read left to right: a non-digit -EINVAL,
 * passing 2^32 - 1 -ERANGE, whichever comes first. */
static int ref_uint(const char *s, unsigned *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (unsigned)v;
	return 0;
}

/* SIZE[@ZONE]: 1 .. 64G rounded up to 2 MiB; zone dma, dma32, normal. */
static int ref_cma(const char *s, uint64_t *bytes, int *zone)
{
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);
	char size[32];

	*zone = VM_CMA_ZONE_FIT;
	if (n == 0 || n >= sizeof(size))
		return -EINVAL;
	memcpy(size, s, n);
	size[n] = '\0';
	if (ref_size(size, bytes) < 0 || *bytes == 0 || *bytes > (64ull << 30))
		return -EINVAL;
	*bytes = (*bytes + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	if (!at)
		return 0;
	if (!strcasecmp(at + 1, "dma"))
		*zone = ZONE_DMA;
	else if (!strcasecmp(at + 1, "dma32"))
		*zone = ZONE_DMA32;
	else if (!strcasecmp(at + 1, "normal"))
		*zone = ZONE_NORMAL;
	else
		return -EINVAL;
	return 0;
}

static void check_parsers(const char *a)
{
	uint64_t got = 0, want = 0;
	unsigned ugot = 0, uwant = 0;
	int zgot, zwant, r, rr;
	char err[256];

	r = cli_parse_size(a, &got);
	rr = ref_size(a, &want);
	FUZZ_ASSERT(r == rr && (r || got == want),
		    "cli_parse_size('%s'): %d %llu, reference %d %llu", a, r,
		    (unsigned long long)got, rr, (unsigned long long)want);
	r = cli_parse_uint(a, 0, UINT32_MAX, &ugot);
	rr = ref_uint(a, &uwant);
	FUZZ_ASSERT(r == rr && (r || ugot == uwant),
		    "cli_parse_uint('%s'): %d %u, reference %d %u", a, r, ugot,
		    rr, uwant);
	err[0] = '\0';
	r = vm_cma_parse(a, &got, &zgot, err, sizeof(err));
	rr = ref_cma(a, &want, &zwant);
	FUZZ_ASSERT((r == 0) == (rr == 0) &&
			    (r || (got == want && zgot == zwant)),
		    "vm_cma_parse('%s'): %d, reference %d", a, r, rr);
	FUZZ_ASSERT(r == 0 || (r == -EINVAL && err[0]),
		    "vm_cma_parse('%s'): %d without a reason", a, r);
}

/* The command line ---------------------------------------------------------- */

static bool in_argv(const char *p, char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return true;
	return false;
}

static void check_config(const struct vm_config *c, char **argv, int argc)
{
	FUZZ_ASSERT(c->mem_size >= CLI_MEM_MIN && c->mem_size <= CLI_MEM_MAX &&
			    c->mem_size % CLI_MEM_ALIGN == 0,
		    "RAM %llu", (unsigned long long)c->mem_size);
	FUZZ_ASSERT(c->nr_vcpus >= 1 && c->nr_vcpus <= BVM_MAX_VCPUS,
		    "%u vCPUs", c->nr_vcpus);
	FUZZ_ASSERT(c->timeout_s <= CLI_TIMEOUT_MAX, "timeout %u",
		    c->timeout_s);
	FUZZ_ASSERT(!c->mem_limit || (c->memory_model == VM_MEMORY_HOSTED &&
				      c->mem_limit % CLI_PAGE_SIZE == 0 &&
				      c->mem_limit <= c->mem_size),
		    "page limit %llu", (unsigned long long)c->mem_limit);
	FUZZ_ASSERT(!c->cma_bytes || (c->cma_bytes % (2ull << 20) == 0 &&
				      c->cma_bytes < c->mem_size),
		    "CMA %llu", (unsigned long long)c->cma_bytes);
	FUZZ_ASSERT(
		!c->movable_bytes ||
			(c->movable_bytes % (2ull << 20) == 0 &&
			 c->movable_bytes + (64ull << 20) + c->mem_size / 256 <=
				 c->mem_size),
		"Movable zone %llu", (unsigned long long)c->movable_bytes);
	FUZZ_ASSERT(c->cma_zone == VM_CMA_ZONE_FIT || c->cma_zone == ZONE_DMA ||
			    c->cma_zone == ZONE_DMA32 ||
			    c->cma_zone == ZONE_NORMAL,
		    "CMA zone %d", c->cma_zone);
	FUZZ_ASSERT(c->memory_model == VM_MEMORY_HOSTED ||
			    c->memory_model == VM_MEMORY_NATIVE,
		    "memory model");
	FUZZ_ASSERT((unsigned)c->mem_backing < GUEST_MEM_NR_BACKINGS,
		    "backing");
	FUZZ_ASSERT(c->nr_disks <= VM_MAX_DISKS, "%u disks", c->nr_disks);
	for (unsigned i = 0; i < c->nr_disks; i++)
		FUZZ_ASSERT(strcmp(c->disks[i].path, disk_path) == 0,
			    "disk %u is '%s'", i, c->disks[i].path);
	FUZZ_ASSERT(!c->api_path ||
			    (c->api_path[0] && strlen(c->api_path) <= 107 &&
			     in_argv(c->api_path, argv, argc)),
		    "socket path");
	FUZZ_ASSERT(c->guest_path && in_argv(c->guest_path, argv, argc),
		    "guest path");
	FUZZ_ASSERT(c->cmdline &&
			    (!*c->cmdline || in_argv(c->cmdline, argv, argc)),
		    "command line");
}

/* Is -h or --help an option (not an option's value, not after "--")? */
static bool asks_help(char **argv, int argc)
{
	static const char *const takes_value[] = {
		"--mem",	  "--vcpus",	   "--cmdline", "--timeout",
		"--memory-model", "--mem-limit",   "--api",	"--disk",
		"--cma",	  "--mem-backing", "--movable"};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
		for (size_t k = 0;
		     k < sizeof(takes_value) / sizeof(takes_value[0]); k++)
			if (!strcmp(argv[i], takes_value[k])) {
				i++;
				break;
			}
	}
	return false;
}

/* No control character: C0, DEL, or a C1 one in UTF-8 (0xc2 0x80..0x9f). */
static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	char *subst[MAX_ARGS + 2] = {NULL};
	int argc = 1, r;
	struct vm_config cfg;
	char err[256];

	FUZZ_ASSERT(buf, "malloc");
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "run";
	for (char *p = buf; p < buf + size && argc <= MAX_ARGS;
	     p += strlen(p) + 1) {
		argv[argc] = p;
		if (!strcmp(p, "@G")) {
			argv[argc] = guest_path;
		} else if (!strncmp(p, "@D", 2)) {
			subst[argc] = malloc(strlen(disk_path) + strlen(p));
			FUZZ_ASSERT(subst[argc], "malloc");
			sprintf(subst[argc], "%s%s", disk_path, p + 2);
			argv[argc] = subst[argc];
		}
		check_parsers(argv[argc]);
		argc++;
	}
	argv[argc] = NULL;
	memset(err, 0, sizeof(err));
	r = cli_parse_run(argc, argv, &cfg, err, sizeof(err));
	if (r == 1)
		FUZZ_ASSERT(asks_help(argv, argc), "help without -h/--help");
	else if (r == 0)
		check_config(&cfg, argv, argc);
	else
		FUZZ_ASSERT(r == -EINVAL && err[0] && printable(err),
			    "cli_parse_run: %d, '%s'", r, err);
	for (int i = 0; i < argc; i++)
		free(subst[i]);
	free(buf);
	return 0;
}

// SPDX-License-Identifier: MIT
/* vmm/cli.c - parsing of `vmm run` options, sizes and counts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/cli.h"
#include "vmm/vm_compaction.h"

const char cli_run_help[] =
	"usage: vmm run [OPTIONS] GUEST.elf\n"
	"\n"
	"Boot GUEST.elf (an x86-64 ELF executable linked at 1 MiB) in a KVM\n"
	"virtual machine, entered directly in 64-bit long mode.\n"
	"\n"
	"options:\n"
	"  --mem SIZE          guest RAM (default 256M). SIZE is bytes or a\n"
	"                      number with K, M, G or T (powers of 1024);\n"
	"                      16M .. 64G, a multiple of 2M. RAM above 3G\n"
	"                      continues at 4G (the MMIO hole is [3G, 4G)).\n"
	"  --mem-backing B     host memory behind guest RAM: anon (default:\n"
	"                      private anonymous memory on transparent huge\n"
	"                      pages, 2M aligned), anon-4k (the same on 4K\n"
	"                      pages), memfd (shared memory, 4K pages) or\n"
	"                      hugetlbfs (2M pages from the host's hugetlb\n"
	"                      pool, which must hold all of --mem: exit\n"
	"                      status 1 otherwise)\n"
	"  --vcpus N           virtual CPUs, 1 .. 32 (default 1)\n"
	"  --cmdline STR       guest command line, /chosen/bootargs in the "
	"FDT\n"
	"                      (default empty; e.g. \"workload=smp\")\n"
	"  --timeout SECONDS   fail if the guest has not finished after\n"
	"                      SECONDS (default 0: wait forever)\n"
	"  --memory-model M    hosted (default: the host's buddy allocator is\n"
	"                      the guest's page allocator) or native (the "
	"guest\n"
	"                      owns all its RAM)\n"
	"  --mem-limit SIZE    hosted model: the guest's page limit (Xen's\n"
	"                      max_pages), a multiple of 4K up to --mem\n"
	"                      (default: all RAM). Allocations beyond it\n"
	"                      fail with -EDQUOT.\n"
	"  --disk PATH[,readonly][,direct]\n"
	"                      a virtio-blk disk over the raw image PATH (a\n"
	"                      nonzero multiple of 512 bytes; no commas in\n"
	"                      PATH), locked so that no other process writes\n"
	"                      it; up to 4, one --disk each. readonly: the\n"
	"                      guest cannot write (the image may be shared\n"
	"                      with other readers); direct: O_DIRECT, bypass\n"
	"                      the host page cache. A disk that is missing,\n"
	"                      unreadable or not a usable size is a bad\n"
	"                      command line (exit status 2); one locked by\n"
	"                      another process exits 1\n"
	"  --cma SIZE[@ZONE]   a CMA area for large DMA buffers: SIZE\n"
	"                      (rounded up to 2M) of pageblocks in ZONE\n"
	"                      (dma, dma32 or normal; default: dma32 if it\n"
	"                      fits, else normal) that serve movable\n"
	"                      allocations until a device needs them\n"
	"                      (native model: passed to the guest as cma=)\n"
	"  --movable SIZE      a MOVABLE zone of the top SIZE of RAM (as\n"
	"                      Linux's movablecore=): it serves only movable\n"
	"                      allocations, so its frames can always be\n"
	"                      compacted or ballooned. A multiple of 2M\n"
	"                      that leaves 64M and 1/256 of --mem below it\n"
	"                      (default: none); both memory models\n"
	"  --stats             at exit print the host view (buddyinfo,\n"
	"                      pagetypeinfo, zoneinfo, frame states, pvmem\n"
	"                      counters, host RSS of guest RAM) and the\n"
	"                      guest view it published (slabinfo, kmalloc)\n"
	"  --check             at exit run mm_check() over the host page\n"
	"                      database; a violation makes the exit status 1\n"
	"  --api PATH          serve the control API (docs/api.md) on a UNIX\n"
	"                      socket at PATH, mode 0600, for the VM's\n"
	"                      lifetime: vmm stat, balloon, pause, resume\n"
	"                      and quit talk to it. A live socket at PATH\n"
	"                      is an error (exit status 1); PATH is removed\n"
	"                      at exit\n"
	"  --no-seccomp        run without the system call filters that\n"
	"                      every VMM thread installs once setup is over\n"
	"                      (default: on); for debugging\n"
	"  -h, --help          show this help\n"
	"\n"
	"exit status:\n"
	"  0  the guest reported done (or wrote 0 to the exit port)\n"
	"  1  host-side error (KVM unavailable, bad ELF, out of memory,\n"
	"     --check found a broken page database, ...)\n"
	"  2  bad command line\n"
	"  3  guest assertion failure or guest exception\n"
	"  4  --timeout expired\n"
	"  5  guest crashed: triple fault, KVM internal error, unhandled exit\n"
	"     (the vCPU's registers are printed)\n"
	"  130, 143  stopped by SIGINT or SIGTERM (128 + the signal) as\n"
	"     `vmm quit` stops it: report, --stats, --check, socket removed;\n"
	"     a second signal, or a stop that takes over 10 s, exits at once\n"
	"  159  a VMM thread made a system call its seccomp filter forbids\n"
	"     (128 + SIGSYS; the thread and the call are named on stderr)\n";

static void cli_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cli_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Bytes of the UTF-8 sequence at @s if it is valid (shortest form, no
 * surrogate, at most U+10FFFF) and names a printable character (U+00A0
 * and up: not a C1 control); else 0. Stops at the first byte that is not
 * a continuation, so it never reads past the NUL.
 */
static size_t cli_utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = s[0] & (0x7f >> n);

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* One character of @s (@n bytes, 0: a single bad byte) as it is printed. */
static size_t cli_quote_char(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (n) {
		memcpy(out, s, n);
		return n;
	}
	out[0] = '\\';
	switch (*s) {
	case '\n':
		out[1] = 'n';
		return 2;
	case '\t':
		out[1] = 't';
		return 2;
	case '\r':
		out[1] = 'r';
		return 2;
	case '\'':
	case '\\':
		out[1] = (char)*s;
		return 2;
	}
	if (*s >= 0x20 && *s < 0x7f) {
		out[0] = (char)*s;
		return 1;
	}
	out[1] = 'x';
	out[2] = hex[*s >> 4];
	out[3] = hex[*s & 15];
	return 4;
}

/* Escape @s into @buf, at most @room bytes; return bytes of @s used. */
static size_t cli_quote_into(const unsigned char *s, char *buf, size_t room,
			     size_t *len)
{
	const unsigned char *p = s;

	*len = 0;
	while (*p) {
		char one[4];
		size_t n = *p < 0x80 ? 0 : cli_utf8_len(p);
		size_t w = cli_quote_char(p, n, one);

		if (*len + w > room)
			break;
		if (buf)
			memcpy(buf + *len, one, w);
		*len += w;
		p += n ? n : 1;
	}
	return (size_t)(p - s);
}

const char *cli_quote(const char *s, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;

	/* All of it if it fits, else what fits before "...". */
	if (!u[cli_quote_into(u, NULL, size - 1, &len)]) {
		cli_quote_into(u, buf, size - 1, &len);
		buf[len] = '\0';
		return buf;
	}
	cli_quote_into(u, buf, size - 4, &len);
	memcpy(buf + len, "...", 4);
	return buf;
}

static int cli_unit_shift(const char *unit, unsigned *shift)
{
	static const char units[] = "KMGT";
	const char *p;
	char c;

	if (*unit == '\0') {
		*shift = 0;
		return 0;
	}
	/* Fold to upper case; a non-letter must not fold to the NUL. */
	c = (char)(unit[0] & ~0x20);
	p = c ? strchr(units, c) : NULL;
	if (!p)
		return -EINVAL;
	*shift = 10 * (unsigned)(p - units + 1);
	unit++;
	if (*unit == '\0' || strcasecmp(unit, "B") == 0 ||
	    strcasecmp(unit, "iB") == 0)
		return 0;
	return -EINVAL;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t value = 0;
	unsigned shift;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_add_overflow(value, (uint64_t)(*p - '0'), &value))
			return -ERANGE;
	}
	if (cli_unit_shift(p, &shift) < 0)
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = value << shift;
	return 0;
}

int cli_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t value = 0;

	if (!s || *s == '\0')
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		value = value * 10 + (uint64_t)(*p - '0');
		if (value > UINT32_MAX)
			return -ERANGE;
	}
	if (value < min || value > max)
		return -ERANGE;
	*out = (unsigned)value;
	return 0;
}

static int cli_check_mem(const char *arg, uint64_t *bytes, char *err,
			 size_t errlen)
{
	int r = cli_parse_size(arg, bytes);

	if (r == -EINVAL) {
		cli_error(err, errlen,
			  "--mem: '%s' is not a size (use e.g. 256M, 1G, "
			  "1536M or bytes)",
			  CLI_Q(arg));
		return r;
	}
	if (r < 0 || *bytes < CLI_MEM_MIN || *bytes > CLI_MEM_MAX) {
		cli_error(err, errlen,
			  "--mem: '%s' is out of range (16M .. 64G)",
			  CLI_Q(arg));
		return -EINVAL;
	}
	if (*bytes % CLI_MEM_ALIGN) {
		cli_error(err, errlen,
			  "--mem: '%s' is not a multiple of 2M (the boot page "
			  "tables map 2 MiB pages)",
			  CLI_Q(arg));
		return -EINVAL;
	}
	return 0;
}

/* A size option that must be a nonzero multiple of @align. */
struct cli_size_rule {
	const char *option;  /* "--mem-limit" */
	const char *example; /* "64M" */
	const char *unit;    /* "4K": @align as the message says it */
	uint64_t align;
};

static int cli_check_size_rule(const struct cli_size_rule *rule,
			       const char *arg, uint64_t *bytes, char *err,
			       size_t errlen)
{
	int r = cli_parse_size(arg, bytes);

	if (r == -EINVAL) {
		cli_error(err, errlen, "%s: '%s' is not a size (use e.g. %s)",
			  rule->option, CLI_Q(arg), rule->example);
		return r;
	}
	if (r < 0 || *bytes == 0 || *bytes % rule->align) {
		cli_error(err, errlen,
			  "%s: '%s' is not a nonzero multiple of %s",
			  rule->option, CLI_Q(arg), rule->unit);
		return -EINVAL;
	}
	return 0;
}

static const struct cli_size_rule cli_mem_limit_rule = {"--mem-limit", "64M",
							"4K", CLI_PAGE_SIZE};
static const struct cli_size_rule cli_movable_rule = {"--movable", "128M", "2M",
						      CLI_MEM_ALIGN};

/* A UNIX socket path must fit sockaddr_un.sun_path (108 bytes with NUL). */
#define CLI_API_PATH_MAX 107

static int cli_check_api_path(const char *arg, const char **path, char *err,
			      size_t errlen)
{
	if (*arg == '\0' || strlen(arg) > CLI_API_PATH_MAX) {
		cli_error(err, errlen,
			  "--api: the socket path must have 1 .. %d bytes",
			  CLI_API_PATH_MAX);
		return -EINVAL;
	}
	*path = arg;
	return 0;
}

/* One flag after the path in --disk PATH[,readonly][,direct]. */
static int cli_disk_flag(struct vm_disk_config *d, const char *flag, size_t len,
			 char *err, size_t errlen)
{
	if (len == 8 && strncmp(flag, "readonly", len) == 0)
		d->readonly = true;
	else if (len == 6 && strncmp(flag, "direct", len) == 0)
		d->direct = true;
	else {
		char f[CLI_QUOTE_SIZE];

		snprintf(f, sizeof(f), "%.*s", (int)len, flag);
		cli_error(err, errlen,
			  "--disk: unknown flag '%s' (readonly, direct)",
			  CLI_Q(f));
		return -EINVAL;
	}
	return 0;
}

/* The image must exist, be readable (and writable unless readonly) and
 * have a usable size; the device takes its lock when the VM starts. */
static int cli_check_disk_file(const struct vm_disk_config *d, char *err,
			       size_t errlen)
{
	struct stat sb;

	if (access(d->path, d->readonly ? R_OK : R_OK | W_OK) < 0 ||
	    stat(d->path, &sb) < 0) {
		cli_error(err, errlen, "--disk: cannot open '%s'%s: %s",
			  CLI_Q(d->path), d->readonly ? "" : " read-write",
			  strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size < 512 || sb.st_size % 512) {
		cli_error(err, errlen,
			  "--disk: '%s' is not a raw image: need a regular "
			  "file of a nonzero multiple of 512 bytes",
			  CLI_Q(d->path));
		return -EINVAL;
	}
	return 0;
}

static int cli_check_disk(const char *arg, struct vm_config *cfg, char *err,
			  size_t errlen)
{
	struct vm_disk_config *d = &cfg->disks[cfg->nr_disks];
	size_t len = strcspn(arg, ",");
	const char *p = arg + len;

	if (cfg->nr_disks == VM_MAX_DISKS) {
		cli_error(err, errlen, "--disk: at most %d disks",
			  VM_MAX_DISKS);
		return -EINVAL;
	}
	if (len == 0 || len >= sizeof(d->path)) {
		cli_error(err, errlen,
			  "--disk: the path must have 1 .. %zu bytes",
			  sizeof(d->path) - 1);
		return -EINVAL;
	}
	*d = (struct vm_disk_config){0};
	memcpy(d->path, arg, len);
	while (*p == ',') {
		size_t n = strcspn(++p, ",");

		if (cli_disk_flag(d, p, n, err, errlen) < 0)
			return -EINVAL;
		p += n;
	}
	if (cli_check_disk_file(d, err, errlen) < 0)
		return -EINVAL;
	cfg->nr_disks++;
	return 0;
}

static int cli_apply_option(struct vm_config *cfg, const char *name,
			    const char *arg, char *err, size_t errlen)
{
	if (strcmp(name, "--mem") == 0)
		return cli_check_mem(arg, &cfg->mem_size, err, errlen);
	if (strcmp(name, "--mem-limit") == 0)
		return cli_check_size_rule(&cli_mem_limit_rule, arg,
					   &cfg->mem_limit, err, errlen);
	if (strcmp(name, "--vcpus") == 0) {
		if (cli_parse_uint(arg, 1, BVM_MAX_VCPUS, &cfg->nr_vcpus) == 0)
			return 0;
		cli_error(err, errlen,
			  "--vcpus: '%s' is not a number in 1 .. %d",
			  CLI_Q(arg), BVM_MAX_VCPUS);
		return -EINVAL;
	}
	if (strcmp(name, "--api") == 0)
		return cli_check_api_path(arg, &cfg->api_path, err, errlen);
	if (strcmp(name, "--disk") == 0)
		return cli_check_disk(arg, cfg, err, errlen);
	if (strcmp(name, "--movable") == 0)
		return cli_check_size_rule(&cli_movable_rule, arg,
					   &cfg->movable_bytes, err, errlen);
	if (strcmp(name, "--cma") == 0)
		return vm_cma_parse(arg, &cfg->cma_bytes, &cfg->cma_zone, err,
				    errlen);
	if (strcmp(name, "--mem-backing") == 0) {
		if (guest_mem_parse_backing(arg, &cfg->mem_backing) == 0)
			return 0;
		cli_error(err, errlen,
			  "--mem-backing: '%s' is not one of anon, anon-4k, "
			  "memfd, hugetlbfs",
			  CLI_Q(arg));
		return -EINVAL;
	}
	if (strcmp(name, "--cmdline") == 0) {
		cfg->cmdline = arg;
		return 0;
	}
	if (strcmp(name, "--timeout") == 0) {
		if (cli_parse_uint(arg, 0, CLI_TIMEOUT_MAX, &cfg->timeout_s) ==
		    0)
			return 0;
		cli_error(
			err, errlen,
			"--timeout: '%s' is not a number of seconds in 0 .. %u",
			CLI_Q(arg), CLI_TIMEOUT_MAX);
		return -EINVAL;
	}
	/* --memory-model */
	if (strcmp(arg, "hosted") == 0) {
		cfg->memory_model = VM_MEMORY_HOSTED;
		return 0;
	}
	if (strcmp(arg, "native") == 0) {
		cfg->memory_model = VM_MEMORY_NATIVE;
		return 0;
	}
	cli_error(err, errlen,
		  "--memory-model: '%s' is neither 'hosted' nor 'native'",
		  CLI_Q(arg));
	return -EINVAL;
}

static const char *const cli_value_options[] = {
	"--mem",	  "--vcpus",	   "--cmdline", "--timeout",
	"--memory-model", "--mem-limit",   "--api",	"--disk",
	"--cma",	  "--mem-backing", "--movable",
};

/* Options without a value: set a flag. */
static bool cli_apply_flag(struct vm_config *cfg, const char *arg)
{
	if (strcmp(arg, "--stats") == 0)
		cfg->print_stats = true;
	else if (strcmp(arg, "--check") == 0)
		cfg->check_mm = true;
	else if (strcmp(arg, "--no-seccomp") == 0)
		cfg->no_seccomp = true;
	else
		return false;
	return true;
}

static bool cli_is_value_option(const char *name)
{
	for (size_t i = 0;
	     i < sizeof(cli_value_options) / sizeof(cli_value_options[0]);
	     i++) {
		if (strcmp(name, cli_value_options[i]) == 0)
			return true;
	}
	return false;
}

/*
 * One option at argv[*i]: "--name value" or "--name=value". Advances *i past
 * what it consumed.
 */
static int cli_parse_option(int argc, char **argv, int *i,
			    struct vm_config *cfg, char *err, size_t errlen)
{
	char name[32];
	const char *arg = argv[*i];
	const char *eq = strchr(arg, '=');
	const char *value;
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (cli_apply_flag(cfg, arg)) {
		(*i)++;
		return 0;
	}
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	if (!cli_is_value_option(name)) {
		cli_error(err, errlen, "unknown option '%s'", CLI_Q(arg));
		return -EINVAL;
	}
	if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		cli_error(err, errlen, "option '%s' needs a value",
			  CLI_Q(name));
		return -EINVAL;
	}
	(*i)++;
	return cli_apply_option(cfg, name, value, err, errlen);
}

/* What the loader cannot even open as an ELF file is a bad command line. */
static int cli_check_guest(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (access(path, R_OK) < 0 || stat(path, &st) < 0) {
		cli_error(err, errlen, "cannot read guest '%s': %s",
			  CLI_Q(path), strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		cli_error(err, errlen, "guest '%s' %s, not an ELF file",
			  CLI_Q(path),
			  S_ISDIR(st.st_mode)	? "is a directory"
			  : S_ISREG(st.st_mode) ? "is empty"
						: "is not a regular file");
		return -EINVAL;
	}
	return 0;
}

/* Options that depend on each other, checked once all are known. */
static int cli_check_limit(const struct vm_config *cfg, char *err,
			   size_t errlen)
{
	if (!cfg->mem_limit)
		return 0;
	if (cfg->memory_model != VM_MEMORY_HOSTED) {
		cli_error(
			err, errlen,
			"--mem-limit applies to the hosted memory model only");
		return -EINVAL;
	}
	if (cfg->mem_limit > cfg->mem_size) {
		cli_error(err, errlen,
			  "--mem-limit: %llu bytes is more than --mem (%llu)",
			  (unsigned long long)cfg->mem_limit,
			  (unsigned long long)cfg->mem_size);
		return -EINVAL;
	}
	return 0;
}

static int cli_check_movable_fits(const struct vm_config *cfg, char *err,
				  size_t errlen)
{
	uint64_t keep = CLI_MOVABLE_KEEP(cfg->mem_size);

	if (!cfg->movable_bytes || (cfg->mem_size > keep &&
				    cfg->movable_bytes <= cfg->mem_size - keep))
		return 0;
	cli_error(err, errlen,
		  "--movable: %llu MiB leaves less than %llu MiB of --mem "
		  "(%llu MiB) below it (64M and 1/256 of RAM)",
		  (unsigned long long)(cfg->movable_bytes >> 20),
		  (unsigned long long)(keep >> 20),
		  (unsigned long long)(cfg->mem_size >> 20));
	return -EINVAL;
}

int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err,
		  size_t errlen)
{
	int i = 1;
	bool options_done = false;

	*cfg = (struct vm_config){
		.mem_size = CLI_MEM_DEFAULT,
		.nr_vcpus = 1,
		.cmdline = "",
		.memory_model = VM_MEMORY_HOSTED,
		.cma_zone = VM_CMA_ZONE_FIT,
	};
	while (i < argc) {
		const char *arg = argv[i];
		int r;

		if (!options_done &&
		    (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0))
			return 1;
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			i++;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			r = cli_parse_option(argc, argv, &i, cfg, err, errlen);
			if (r < 0)
				return r;
			continue;
		}
		if (cfg->guest_path) {
			cli_error(err, errlen, "unexpected argument '%s'",
				  CLI_Q(arg));
			return -EINVAL;
		}
		cfg->guest_path = arg;
		i++;
	}
	if (!cfg->guest_path) {
		cli_error(err, errlen, "missing GUEST.elf");
		return -EINVAL;
	}
	if (cli_check_limit(cfg, err, errlen) < 0)
		return -EINVAL;
	if (cfg->cma_bytes && cfg->cma_bytes >= cfg->mem_size) {
		cli_error(err, errlen,
			  "--cma: %llu MiB is not less than --mem (%llu MiB)",
			  (unsigned long long)(cfg->cma_bytes >> 20),
			  (unsigned long long)(cfg->mem_size >> 20));
		return -EINVAL;
	}
	if (cli_check_movable_fits(cfg, err, errlen) < 0)
		return -EINVAL;
	return cli_check_guest(cfg->guest_path, err, errlen);
}

// SPDX-License-Identifier: MIT
/*
 * vmm/vm_compaction.c - the VM's CMA area and the compaction section of
 * --stats (vm_compaction.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mm/fmt.h"
#include "mm/mm.h"
#include "vmm/cli.h"
#include "vmm/frame_db.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"
#include "vmm/vm_compaction.h"

#define CMA_ALIGN (2ull << 20)
#define CMA_MAX	  (64ull << 30)

static const struct {
	const char *name;
	enum zone_type zone;
} cma_zones[] = {
	{"dma", ZONE_DMA},
	{"dma32", ZONE_DMA32},
	{"normal", ZONE_NORMAL},
};

int vm_cma_parse(const char *arg, uint64_t *bytes, int *zone, char *err,
		 size_t errlen)
{
	const char *at = strchr(arg, '@');
	char size[32];
	size_t n = at ? (size_t)(at - arg) : strlen(arg);

	*zone = VM_CMA_ZONE_FIT;
	if (n == 0 || n >= sizeof(size)) {
		snprintf(err, errlen, "--cma: '%s' is not SIZE[@ZONE]",
			 CLI_Q(arg));
		return -EINVAL;
	}
	memcpy(size, arg, n);
	size[n] = '\0';
	if (cli_parse_size(size, bytes) < 0 || *bytes == 0 ||
	    *bytes > CMA_MAX) {
		snprintf(err, errlen,
			 "--cma: '%s' is not a size in 1 .. 64G (e.g. 128M)",
			 CLI_Q(size));
		return -EINVAL;
	}
	*bytes = (*bytes + CMA_ALIGN - 1) & ~(CMA_ALIGN - 1);
	if (!at)
		return 0;
	for (size_t i = 0; i < sizeof(cma_zones) / sizeof(cma_zones[0]); i++) {
		if (strcasecmp(at + 1, cma_zones[i].name) == 0) {
			*zone = (int)cma_zones[i].zone;
			return 0;
		}
	}
	snprintf(err, errlen, "--cma: unknown zone '%s' (dma, dma32, normal)",
		 CLI_Q(at + 1));
	return -EINVAL;
}

static const char *zone_arg(int zone)
{
	for (size_t i = 0; i < sizeof(cma_zones) / sizeof(cma_zones[0]); i++)
		if ((int)cma_zones[i].zone == zone)
			return cma_zones[i].name;
	return NULL;
}

/* Hosted: reserve in the frame database, in the zone asked or that fits. */
static int cma_reserve_host(struct vm *vm)
{
	static const enum zone_type fit[] = {ZONE_DMA32, ZONE_NORMAL, ZONE_DMA};
	struct mm *mm = frame_db_mm(vm->frame_db);
	uint64_t nr = vm->cfg.cma_bytes >> 12, pfn;
	int id = -ENOMEM;

	if (vm->cfg.cma_zone != VM_CMA_ZONE_FIT)
		id = mm_cma_reserve(mm, (enum zone_type)vm->cfg.cma_zone, nr,
				    &pfn);
	for (size_t i = 0; vm->cfg.cma_zone == VM_CMA_ZONE_FIT && id < 0 &&
			   i < sizeof(fit) / sizeof(fit[0]);
	     i++)
		id = mm_cma_reserve(mm, fit[i], nr, &pfn);
	if (id < 0) {
		fprintf(stderr,
			"vmm: --cma: no free range of %llu MiB in zone %s "
			"(%s): use a smaller area or another zone%s\n",
			(unsigned long long)(vm->cfg.cma_bytes >> 20),
			vm->cfg.cma_zone == VM_CMA_ZONE_FIT
				? "dma32, normal or dma"
				: zone_arg(vm->cfg.cma_zone),
			strerror(-id),
			vm->cfg.movable_bytes
				? " (--movable takes the top of RAM out of "
				  "them)"
				: "");
		return id;
	}
	return 0;
}

/* Native: the guest reserves it; tell it on its command line. */
static char *cma_cmdline;

static int cma_pass_to_guest(struct vm *vm)
{
	const char *zone = zone_arg(vm->cfg.cma_zone);
	const char *old = vm->cfg.cmdline ? vm->cfg.cmdline : "";

	if (asprintf(&cma_cmdline, "%s%scma=%lluM%s%s", old, *old ? " " : "",
		     (unsigned long long)(vm->cfg.cma_bytes >> 20),
		     zone ? "@" : "", zone ? zone : "") < 0) {
		cma_cmdline = NULL;
		return -ENOMEM;
	}
	vm->cfg.cmdline = cma_cmdline;
	return 0;
}

int vm_compaction_init(struct vm *vm)
{
	if (!vm->cfg.cma_bytes)
		return 0;
	if (vm->cfg.memory_model == VM_MEMORY_NATIVE)
		return cma_pass_to_guest(vm);
	return cma_reserve_host(vm);
}

void vm_compaction_exit(struct vm *vm)
{
	if (cma_cmdline && vm->cfg.cmdline == cma_cmdline)
		vm->cfg.cmdline = "";
	free(cma_cmdline);
	cma_cmdline = NULL;
}

/* Append one mm/ text format at @len of @buf (snprintf-like). */
static size_t append(struct mm *mm, char *buf, size_t size, size_t len,
		     int (*fn)(struct mm *mm, char *buf, size_t size))
{
	int n = len < size ? fn(mm, buf + len, size - len) : fn(mm, NULL, 0);

	return len + (n > 0 ? (size_t)n : 0);
}

/* Each zone's fragmentation score and the CMA areas. */
static int format_scores(struct mm *mm, char *buf, size_t size)
{
	struct mm_cma_info ci;
	struct mm_zone_info zi;
	struct mm_buf b;

	mm_buf_init(&b, buf, size);
	for (int z = 0; z < MM_NR_ZONES; z++)
		if (mm_zone_info(mm, (enum zone_type)z, &zi) == 0 &&
		    zi.populated)
			mm_buf_printf(
				&b, "fragmentation_score %s %u\n", zi.name,
				mm_fragmentation_score(mm, (enum zone_type)z));
	for (int id = 0; id < MM_MAX_CMA_AREAS; id++)
		if (mm_cma_info(mm, id, &ci) == 0)
			mm_buf_printf(&b,
				      "cma_area %d base_pfn %llu count %llu "
				      "allocated %llu free %llu\n",
				      id, (unsigned long long)ci.base_pfn,
				      (unsigned long long)ci.count,
				      (unsigned long long)ci.allocated,
				      (unsigned long long)ci.free);
	return (int)b.len;
}

int vm_compaction_format(struct mm *mm, char *buf, size_t size)
{
	size_t len = append(mm, buf, size, 0, mm_format_vmstat);

	len = append(mm, buf, size, len, format_scores);
	return (int)append(mm, buf, size, len, mm_format_fraginfo);
}

static int vm_compaction_format_cb(void *opaque, char *buf, size_t size)
{
	return vm_compaction_format(opaque, buf, size);
}

static void vm_compaction_print(struct vm *vm, enum vm_stats_place place,
				FILE *out)
{
	if (place == VM_STATS_SECTIONS && vm->frame_db)
		vm_stats_print_text(out, "compaction", vm_compaction_format_cb,
				    frame_db_mm(vm->frame_db));
}

const struct vm_stats_ops vm_compaction_stats = {
	.print = vm_compaction_print,
};

// SPDX-License-Identifier: MIT
/* vmm/vm_stats.c - the --stats report and the --check verdict at exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm/mm.h"
#include "vmm/frame_db.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define VM_STATS_TEXT_MAX (1u << 20)

int vm_stats_proc_status(const char *const keys[], unsigned n, uint64_t kib[])
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];

	for (unsigned i = 0; i < n; i++)
		kib[i] = VM_STATS_NOT_FOUND;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		for (unsigned i = 0; i < n; i++) {
			size_t len = strlen(keys[i]);
			unsigned long long v;
			char *end;

			if (strncmp(line, keys[i], len) != 0)
				continue;
			v = strtoull(line + len, &end, 10);
			if (end != line + len)
				kib[i] = v;
		}
	}
	fclose(f);
	return 0;
}

int vm_stats_ram_resident(const struct guest_mem *mem, uint64_t *bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t resident = 0;
	unsigned char *vec;
	size_t pages;

	if (!mem->nr_regions || page <= 0)
		return -EINVAL;
	pages = (mem->size + (uint64_t)page - 1) / (uint64_t)page;
	vec = malloc(pages);
	if (!vec)
		return -ENOMEM;
	/* One mapping holds all of RAM (vmm/vm.c), regions[0] starts it. */
	if (mincore(mem->regions[0].hva, mem->size, vec) < 0) {
		int r = -errno;

		free(vec);
		return r;
	}
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);
	*bytes = resident * (uint64_t)page;
	return 0;
}

void vm_stats_print_text(FILE *out, const char *name,
			 int (*format)(void *opaque, char *buf, size_t size),
			 void *opaque)
{
	size_t size = 16384;
	char *buf = NULL;
	int n;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb)
			break;
		buf = nb;
		n = format(opaque, buf, size);
		if (n < 0 || (size_t)n < size || size >= VM_STATS_TEXT_MAX)
			break;
		size *= 2;
	}
	fprintf(out, "== %s ==\n%s", name, buf ? buf : "(out of memory)\n");
	free(buf);
}

typedef int (*vm_stats_mm_fn)(struct mm *mm, char *buf, size_t size);

struct vm_stats_mm_section {
	struct mm *mm;
	vm_stats_mm_fn fn;
};

static int vm_stats_mm_format(void *opaque, char *buf, size_t size)
{
	const struct vm_stats_mm_section *sec = opaque;

	return sec->fn(sec->mm, buf, size);
}

static void vm_stats_print_frame_db(struct mm *mm, FILE *out)
{
	static const struct {
		const char *name;
		vm_stats_mm_fn fn;
	} sections[] = {
		{"buddyinfo", mm_format_buddyinfo},
		{"pagetypeinfo", mm_format_pagetypeinfo},
		{"zoneinfo", mm_format_zoneinfo},
		{"frames", mm_format_frames},
	};

	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		struct vm_stats_mm_section sec = {mm, sections[i].fn};

		vm_stats_print_text(out, sections[i].name, vm_stats_mm_format,
				    &sec);
	}
}

/* Every recorded step's part of the report at @place, in init order. */
static void vm_stats_print_steps(struct vm *vm, enum vm_stats_place place,
				 FILE *out)
{
	for (unsigned i = 0; i < vm->nr_done; i++) {
		const struct vm_stats_ops *ops = vm->done[i]->stats;

		if (ops && ops->print)
			ops->print(vm, place, out);
	}
}

static void vm_stats_print_rss(struct vm *vm, FILE *out)
{
	uint64_t resident = 0;
	int r = vm_stats_ram_resident(&vm->mem, &resident);

	fprintf(out, "== host memory ==\n");
	if (r < 0) {
		fprintf(out, "ram_resident unavailable (%s)\n", strerror(-r));
		return;
	}
	fprintf(out,
		"ram_bytes %llu\nram_resident_bytes %llu\nram_backing %s\n",
		(unsigned long long)vm->mem.size, (unsigned long long)resident,
		guest_mem_backing_name(vm->mem.backing));
	vm_stats_print_steps(vm, VM_STATS_HOST_MEMORY, out);
	fprintf(out, "reserved_bytes %llu\n",
		(unsigned long long)vm->kernel_end);
}

static void vm_stats_print_guest(FILE *out)
{
	size_t len = guest_stats_copy(NULL, 0);
	char *text = malloc(len + 1);

	fprintf(out, "== guest (publications: %lu) ==\n",
		guest_stats_updates());
	if (!text)
		return;
	len = guest_stats_copy(text, len + 1);
	fputs(len ? text : "(the guest published nothing)\n", out);
	if (len && text[len - 1] != '\n')
		fputc('\n', out);
	free(text);
}

void vm_stats_print(struct vm *vm, FILE *out)
{
	if (vm->frame_db)
		vm_stats_print_frame_db(frame_db_mm(vm->frame_db), out);
	vm_stats_print_steps(vm, VM_STATS_SECTIONS, out);
	vm_stats_print_rss(vm, out);
	fprintf(out, "== virtio ==\n");
	vm_stats_print_steps(vm, VM_STATS_VIRTIO, out);
	vm_stats_print_guest(out);
	fflush(out);
}

int vm_stats_check(struct vm *vm)
{
	char why[256] = "";

	if (!vm->frame_db)
		return 0;
	if (mm_check(frame_db_mm(vm->frame_db), why, sizeof(why)) < 0) {
		fprintf(stderr, "vmm: --check: page database: %s\n", why);
		return -EUCLEAN;
	}
	for (unsigned i = 0; i < vm->nr_done; i++) {
		const struct vm_stats_ops *ops = vm->done[i]->stats;
		int r = ops && ops->check ? ops->check(vm) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

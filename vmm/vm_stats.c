// SPDX-License-Identifier: MIT
/* vmm/vm_stats.c - the --stats report and the --check verdict at exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/pvmem_vm.h"
#include "devices/virtio_vm_stats.h"
#include "mm/mm.h"
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

			if (strncmp(line, keys[i], len) == 0 &&
			    sscanf(line + len, "%llu", &v) == 1)
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

typedef int (*vm_stats_format_fn)(struct mm *mm, char *buf, size_t size);

/* One "== name ==" section from an mm formatter, grown to fit. */
static void vm_stats_section(FILE *out, const char *name, vm_stats_format_fn fn,
			     struct mm *mm)
{
	size_t size = 16384;
	char *buf = NULL;
	int n;

	for (;;) {
		char *nb = realloc(buf, size);

		if (!nb)
			break;
		buf = nb;
		n = fn(mm, buf, size);
		if (n < 0 || (size_t)n < size || size >= VM_STATS_TEXT_MAX)
			break;
		size *= 2;
	}
	fprintf(out, "== %s ==\n%s", name, buf ? buf : "(out of memory)\n");
	free(buf);
}

static int vm_stats_pvmem_format(struct mm *mm, char *buf, size_t size)
{
	return pvmem_format_stats(pvmem_vm_device(), buf, size);
}

static void vm_stats_print_rss(struct vm *vm, FILE *out)
{
	struct pvmem *pv = pvmem_vm_device();
	uint64_t resident = 0;
	int r = vm_stats_ram_resident(&vm->mem, &resident);

	fprintf(out, "== host memory ==\n");
	if (r < 0) {
		fprintf(out, "ram_resident unavailable (%s)\n", strerror(-r));
		return;
	}
	fprintf(out, "ram_bytes %llu\nram_resident_bytes %llu\n",
		(unsigned long long)vm->mem.size, (unsigned long long)resident);
	if (pv)
		fprintf(out, "guest_held_bytes %llu\n",
			(unsigned long long)(pvmem_tot_pages(pv) << 12));
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
	struct frame_db *fdb = vm->frame_db;
	struct mm *mm = fdb ? frame_db_mm(fdb) : NULL;

	if (mm) {
		vm_stats_section(out, "buddyinfo", mm_format_buddyinfo, mm);
		vm_stats_section(out, "pagetypeinfo", mm_format_pagetypeinfo,
				 mm);
		vm_stats_section(out, "zoneinfo", mm_format_zoneinfo, mm);
		vm_stats_section(out, "frames", mm_format_frames, mm);
	}
	if (mm && pvmem_vm_device())
		vm_stats_section(out, "pvmem", vm_stats_pvmem_format, mm);
	vm_stats_print_rss(vm, out);
	virtio_vm_print_stats(out);
	vm_stats_print_guest(out);
	fflush(out);
}

int vm_stats_check(struct vm *vm)
{
	struct frame_db *fdb = vm->frame_db;
	struct pvmem *pv = pvmem_vm_device();
	struct mm_stats st;
	char why[256] = "";

	if (!fdb)
		return 0;
	if (mm_check(frame_db_mm(fdb), why, sizeof(why)) < 0) {
		fprintf(stderr, "vmm: --check: page database: %s\n", why);
		return -EUCLEAN;
	}
	mm_get_stats(frame_db_mm(fdb), &st);
	if (pv && pvmem_tot_pages(pv) !=
			  st.frames[FRAME_GUEST] + st.frames[FRAME_DMA]) {
		fprintf(stderr,
			"vmm: --check: tot_pages %llu != GUEST %llu + DMA "
			"%llu frames\n",
			(unsigned long long)pvmem_tot_pages(pv),
			(unsigned long long)st.frames[FRAME_GUEST],
			(unsigned long long)st.frames[FRAME_DMA]);
		return -EUCLEAN;
	}
	return 0;
}

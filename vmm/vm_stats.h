/* SPDX-License-Identifier: MIT */
/*
 * vmm/vm_stats.h - what `vmm run --stats` and `--check` do at exit: the host
 * view of the VM's memory (page database in Linux's /proc formats, pvmem
 * counters, host RSS of guest RAM), the guest's published view, and the
 * page database's invariant check.
 */
#ifndef VMM_VM_STATS_H
#define VMM_VM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "vmm/guest_mem.h"

struct vm;

/*
 * A step's part of the report (struct vm_initcall.stats), so that vmm/
 * prints and checks a device without including it. The report is, in
 * order: the frame database's sections, then each step's own sections
 * (VM_STATS_SECTIONS), "== host memory ==" with each step's lines
 * (VM_STATS_HOST_MEMORY), "== virtio ==" with each step's lines
 * (VM_STATS_VIRTIO), and the guest's own view. Steps run in init order.
 */
enum vm_stats_place {
	VM_STATS_SECTIONS,    /* whole sections, each "== name ==" first */
	VM_STATS_HOST_MEMORY, /* "key value" lines */
	VM_STATS_VIRTIO,      /* "key value" lines */
};

struct vm_stats_ops {
	/* Print what the step has for @place; called once per place. */
	void (*print)(struct vm *vm, enum vm_stats_place place, FILE *out);
	/* --check: 0, or -EUCLEAN after printing why to stderr. May be NULL. */
	int (*check)(struct vm *vm);
};

/**
 * vm_stats_print_text() - one "== @name ==" section whose text @format
 * writes (snprintf-like: returns the full length), grown until it fits.
 */
void vm_stats_print_text(FILE *out, const char *name,
			 int (*format)(void *opaque, char *buf, size_t size),
			 void *opaque);

/**
 * vm_stats_ram_resident() - bytes of guest RAM that have host backing now
 * (mincore() over the mapping: pages present, whatever the backing).
 * Return: 0 and *@bytes, or a negative errno.
 */
int vm_stats_ram_resident(const struct guest_mem *mem, uint64_t *bytes);

#define VM_STATS_NOT_FOUND UINT64_MAX

/**
 * vm_stats_proc_status() - read the @n fields named in @keys (with their
 * colon, e.g. "VmRSS:") from /proc/self/status into @kib (KiB); a field the
 * kernel does not report is left VM_STATS_NOT_FOUND.
 * Return: 0, or a negative errno if the file cannot be read.
 */
int vm_stats_proc_status(const char *const keys[], unsigned n, uint64_t kib[]);

/**
 * vm_stats_print() - write every section (each starts with a "== name =="
 * line) to @out. Call after vm_run(), before vm_destroy(); sections of a
 * model the VM does not use are skipped.
 */
void vm_stats_print(struct vm *vm, FILE *out);

/**
 * vm_stats_check() - mm_check() over the hosted page database, and
 * tot_pages == GUEST + DMA frames. Prints the first violation to stderr.
 * Return: 0 (also when there is no page database), or -EUCLEAN.
 */
int vm_stats_check(struct vm *vm);

#endif /* VMM_VM_STATS_H */

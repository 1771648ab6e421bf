/* SPDX-License-Identifier: MIT */
/*
 * vmm/guest_stats.h - the guest's published statistics (abi/boot.h,
 * BVM_DEBUG_GUEST_STATS): the latest text the guest sent, copied out of
 * guest RAM, bounded and made printable, kept for --stats and the control
 * API.
 */
#ifndef VMM_GUEST_STATS_H
#define VMM_GUEST_STATS_H

#include <stddef.h>

struct vm;

/* Initcall (VM_LEVEL_DEVICE): register the port and the MMIO register. */
int guest_stats_init(struct vm *vm);
/* Free the kept copy. */
void guest_stats_exit(struct vm *vm);

/**
 * guest_stats_copy() - copy the latest guest statistics into @buf
 * (NUL-terminated, truncated to @size - 1 bytes).
 * Return: the full length of the text (0 if the guest never published), as
 * snprintf() does.
 */
size_t guest_stats_copy(char *buf, size_t size);

/* How many times the guest published (tests and the API show it). */
unsigned long guest_stats_updates(void);

#endif /* VMM_GUEST_STATS_H */

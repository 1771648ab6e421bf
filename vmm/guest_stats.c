// SPDX-License-Identifier: MIT
/*
 * vmm/guest_stats.c - keep the latest statistics text the guest published.
 * The guest is untrusted: the header is copied once before its length is
 * checked, the text is bounded by BVM_GUEST_STATS_MAX and taken through
 * guest_mem_ptr(), and bytes that are not printable (or newline/tab) become
 * '?' so that a guest cannot send escape sequences to the operator's
 * terminal through --stats.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"

static pthread_mutex_t guest_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static char *guest_stats_text; /* malloc'd, NUL-terminated */
static size_t guest_stats_len;
static unsigned long guest_stats_count;

static void guest_stats_sanitize(char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c != '\n' && c != '\t' && (c < 0x20 || c >= 0x7f))
			text[i] = '?';
	}
}

/* Swap in a new copy; the old one is freed outside the lock. */
static void guest_stats_store(char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&guest_stats_lock);
	old = guest_stats_text;
	guest_stats_text = text;
	guest_stats_len = len;
	guest_stats_count++;
	pthread_mutex_unlock(&guest_stats_lock);
	free(old);
}

static int guest_stats_handler(void *opaque, uint64_t offset, void *data,
			       unsigned len, bool is_write)
{
	struct vm *vm = opaque;
	struct bvm_guest_stats hdr;
	uint32_t gpa = 0;
	const void *p;
	char *copy;

	if (!is_write || len != 4)
		return -EINVAL;
	memcpy(&gpa, data, sizeof(gpa));
	p = guest_mem_ptr(&vm->mem, gpa, sizeof(hdr));
	if (!p)
		return -EFAULT;
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.len > BVM_GUEST_STATS_MAX)
		return -E2BIG;
	p = hdr.len ? guest_mem_ptr(&vm->mem, (uint64_t)gpa + sizeof(hdr),
				    hdr.len)
		    : "";
	if (!p)
		return -EFAULT;
	copy = malloc(hdr.len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, hdr.len);
	copy[hdr.len] = '\0';
	guest_stats_sanitize(copy, hdr.len);
	guest_stats_store(copy, hdr.len);
	return 0;
}

int guest_stats_init(struct vm *vm)
{
	int r = bus_register(vm->bus, BUS_PIO, BVM_PORT_GUEST_STATS, 4,
			     guest_stats_handler, vm);

	if (r == 0)
		r = bus_register(vm->bus, BUS_MMIO,
				 BVM_DEBUG_MMIO_BASE + BVM_DEBUG_GUEST_STATS, 4,
				 guest_stats_handler, vm);
	return r;
}

void guest_stats_exit(struct vm *vm)
{
	pthread_mutex_lock(&guest_stats_lock);
	free(guest_stats_text);
	guest_stats_text = NULL;
	guest_stats_len = 0;
	guest_stats_count = 0;
	pthread_mutex_unlock(&guest_stats_lock);
}

size_t guest_stats_copy(char *buf, size_t size)
{
	size_t len, n;

	pthread_mutex_lock(&guest_stats_lock);
	len = guest_stats_len;
	if (size) {
		n = len < size - 1 ? len : size - 1;
		if (n)
			memcpy(buf, guest_stats_text, n);
		buf[n] = '\0';
	}
	pthread_mutex_unlock(&guest_stats_lock);
	return len;
}

unsigned long guest_stats_updates(void)
{
	unsigned long n;

	pthread_mutex_lock(&guest_stats_lock);
	n = guest_stats_count;
	pthread_mutex_unlock(&guest_stats_lock);
	return n;
}

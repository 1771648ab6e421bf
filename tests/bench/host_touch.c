// SPDX-License-Identifier: MIT
/*
 * tests/bench/host_touch.c - the host's own touch and release of 1 GiB on a
 * guest RAM backing, mapped as vmm/guest_mem.c maps it: the peer of the
 * guest's touch in tests/bench/balloon_bench.sh (and of
 * scripts/mem-backing-touch.sh's table). Writes one word per 4 KiB page
 * ("touch", the default) or every byte of it ("fill": what the guest's
 * balloon.touch does without balloon.touch_one), then releases it all as
 * guest_mem_discard() does; twice, and prints the second (warm) round as
 * "TOUCH_MS RELEASE_MS": the first may pay for the machine's own lazy
 * backing.
 *
 * usage: host_touch [anon|anon-4k|memfd] [touch|fill]
 *        (default anon: THP, MADV_HUGEPAGE; touch)
 * Built by the scripts that run it (cc -O2), not by the Makefile.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE (1ull << 30)
#define HUGE (2ull << 20)

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint8_t *map_backing(const char *b, int *fd)
{
	uint8_t *raw, *p;

	raw = mmap(NULL, SIZE + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	p = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	*fd = -1;
	if (strcmp(b, "memfd") == 0) {
		*fd = memfd_create("touch", 0);
		if (*fd < 0 || ftruncate(*fd, SIZE) < 0 ||
		    mmap(p, SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, *fd, 0) == MAP_FAILED)
			return NULL;
	} else if (madvise(p, SIZE,
			   strcmp(b, "anon") == 0 ? MADV_HUGEPAGE
						  : MADV_NOHUGEPAGE) < 0) {
		return NULL;
	}
	return p;
}

int main(int argc, char **argv)
{
	const char *b = argc > 1 ? argv[1] : "anon";
	const char *w = argc > 2 ? argv[2] : "touch";
	double t0, t1 = 0, t2 = 0;
	uint8_t *p;
	int fd;

	if ((strcmp(b, "anon") && strcmp(b, "anon-4k") && strcmp(b, "memfd")) ||
	    (strcmp(w, "touch") && strcmp(w, "fill"))) {
		fprintf(stderr, "usage: host_touch [anon|anon-4k|memfd] "
				"[touch|fill]\n");
		return 2;
	}
	p = map_backing(b, &fd);
	if (!p) {
		perror("host_touch: map");
		return 1;
	}
	for (int round = 0; round < 2; round++) {
		t0 = now_ms();
		for (uint64_t off = 0; off < SIZE; off += 4096) {
			if (*w == 'f')
				memset(p + off, 0x5a, 4096);
			else
				*(volatile uint64_t *)(p + off) = off;
		}
		t1 = now_ms();
		if (fd >= 0)
			fallocate(fd,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				  SIZE);
		else
			madvise(p, SIZE, MADV_DONTNEED);
		t2 = now_ms();
		t1 -= t0;
		t2 -= t0 + t1;
	}
	printf("%.1f %.1f\n", t1, t2);
	return 0;
}

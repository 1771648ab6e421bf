// SPDX-License-Identifier: MIT
/*
 * guest/lib/prng.c - the workloads' PRNG (xorshift64*), seeded from the
 * command line so that a failing run can be repeated.
 */
#include "prng.h"

#include "guest.h"
#include "mm/fmt.h"

void guest_rng_init(struct guest_rng *r, const char *workload)
{
	char key[40];
	uint64_t seed;

	mm_snprintf(key, sizeof(key), "%s.seed", workload);
	seed = guest_cmdline_ulong(key, 0);
	if (!seed)
		seed = rdtsc() | 1;
	r->state = seed;
	guest_printf("%s: seed %llu (set %s=N to repeat)\n", workload,
		     (unsigned long long)seed, key);
}

uint64_t guest_rng_next(struct guest_rng *r)
{
	uint64_t x = r->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t guest_rng_below(struct guest_rng *r, uint64_t n)
{
	return guest_rng_next(r) % n;
}

/* SPDX-License-Identifier: MIT */
/*
 * guest/include/prng.h - a small PRNG for the workloads (xorshift64*,
 * guest/lib/prng.c), seeded once per workload.
 */
#ifndef GUEST_PRNG_H
#define GUEST_PRNG_H

#include <stdint.h>

struct guest_rng {
	uint64_t state;
};

/* Seed from "<workload>.seed=N" on the command line, else the TSC; prints it. */
void guest_rng_init(struct guest_rng *r, const char *workload);
uint64_t guest_rng_next(struct guest_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t guest_rng_below(struct guest_rng *r, uint64_t n);

#endif /* GUEST_PRNG_H */

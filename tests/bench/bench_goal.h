/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/bench_goal.h - the verdict every `make bench` figure with a
 * goal prints beside it, in one format: "goal <= 25 ns: met" or
 * "goal <= 25 ns: MISSED" (tests/bench/bench_goal.sh for the scripts;
 * docs/testing.md "Benchmarks").
 */
#ifndef TESTS_BENCH_BENCH_GOAL_H
#define TESTS_BENCH_BENCH_GOAL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define BENCH_GOAL_LEN 80

/*
 * "goal OP GOAL UNIT: met|MISSED" in @buf for @value; @op is "<=" or ">=".
 * Returns @buf.
 */
static inline const char *bench_goal(char *buf, size_t len, double value,
				     const char *op, double goal,
				     const char *unit)
{
	bool met = strcmp(op, "<=") == 0 ? value <= goal : value >= goal;

	/* "25 ns", "1.2x", "50%": a ratio's unit sticks to the number. */
	bool space = *unit && *unit != 'x' && *unit != '%';

	snprintf(buf, len, "goal %s %g%s%s: %s", op, goal, space ? " " : "",
		 unit, met ? "met" : "MISSED");
	return buf;
}

#endif /* TESTS_BENCH_BENCH_GOAL_H */

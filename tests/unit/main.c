// SPDX-License-Identifier: MIT
/*
 * tests/unit/main.c - runs every registered Check suite.
 * CK_RUN_SUITE / CK_RUN_CASE select a subset (Check's own variables).
 */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

#define MAX_SUITES 64

static unit_suite_fn suites[MAX_SUITES];
static int nr_suites;

void unit_register(unit_suite_fn make)
{
	if (nr_suites == MAX_SUITES) {
		fprintf(stderr, "unit: more than %d suites; raise MAX_SUITES\n",
			MAX_SUITES);
		abort();
	}
	suites[nr_suites++] = make;
}

unsigned long unit_seed(void)
{
	const char *s = getenv("UNIT_SEED");

	return s ? strtoul(s, NULL, 0) : 20261122ul;
}

int unit_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#else
	return 0;
#endif
}

int main(void)
{
	SRunner *runner;
	int failed;

	if (nr_suites == 0) {
		fprintf(stderr, "unit: no suites registered\n");
		return 1;
	}
	runner = srunner_create(suites[0]());
	for (int i = 1; i < nr_suites; i++)
		srunner_add_suite(runner, suites[i]());
	printf("unit: %d suites, seed %lu (set UNIT_SEED to change)\n",
	       nr_suites, unit_seed());
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? 1 : 0;
}

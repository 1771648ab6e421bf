/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/unit.h - every unit-test file registers its Check suites with
 * UNIT_SUITE(fn); tests/unit/main.c runs them all in one SRunner, so there is
 * one summary line and no central list to edit when a file is added.
 */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <check.h>

typedef Suite *(*unit_suite_fn)(void);
void unit_register(unit_suite_fn make);

#define UNIT_SUITE(fn)                                                         \
	static void __attribute__((constructor)) fn##_register(void)           \
	{                                                                      \
		unit_register(fn);                                             \
	}

/* Seed for randomized tests: $UNIT_SEED if set, else a fixed default. */
unsigned long unit_seed(void);

/* True when built with ASan (tests scale their iteration counts down). */
int unit_sanitized(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_slab_fixture.h - shared set-up for the slab, kmalloc and
 * mempool suites: a host page source, the slab layer on it, and a captured
 * mm_log.
 */
#ifndef TESTS_SLAB_FIXTURE_H
#define TESTS_SLAB_FIXTURE_H

#include <stdbool.h>

#include "host_page_source.h"

extern struct host_page_source *fx_hps;

/* Checked fixtures: slab_init(nr_cpus 2) on a 64 MiB arena (4 MiB DMA). */
void fx_slab_setup(void);
/* Tears down; asserts every cache is gone and every page returned. */
void fx_slab_teardown(void);
/* As above, plus kmalloc_init() / kmalloc_exit(). */
void fx_kmalloc_setup(void);
void fx_kmalloc_teardown(void);

/* The log captured since the last fx_log_clear(). */
const char *fx_log(void);
bool fx_log_has(const char *needle);
void fx_log_clear(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/slab_fx.h - shared set-up for the slab, kmalloc and
 * mempool suites: a host page source, the slab layer on it, and a captured
 * mm_log.
 */
#ifndef TESTS_UNIT_SLAB_FX_H
#define TESTS_UNIT_SLAB_FX_H

#include <stdbool.h>

#include "host_page_source.h"

extern struct host_page_source *slab_fx_hps;

/* Checked fixtures: slab_init(nr_cpus 2) on a 64 MiB arena (4 MiB DMA). */
void slab_fx_setup(void);
/* Tears down; asserts every cache is gone and every page returned. */
void slab_fx_teardown(void);
/* As above, plus kmalloc_init() / kmalloc_exit(). */
void slab_fx_kmalloc_setup(void);
void slab_fx_kmalloc_teardown(void);

/* The log captured since the last slab_fx_log_clear(). */
const char *slab_fx_log(void);
bool slab_fx_log_has(const char *needle);
void slab_fx_log_clear(void);

#endif

// SPDX-License-Identifier: MIT
/* tests/unit/slab_fx.c - see slab_fx.h. */
#include "slab_fx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/kmalloc.h"
#include "mm/slab.h"
#include "mm_port_impl.h"
#include "unit.h"

#define FX_ARENA_PAGES (64ul << (20 - PS_PAGE_SHIFT))
#define FX_DMA_PAGES   (4ul << (20 - PS_PAGE_SHIFT))

struct host_page_source *slab_fx_hps;

static pthread_mutex_t slab_fx_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char slab_fx_log_buf[64 * 1024];
static size_t slab_fx_log_len;

static void slab_fx_log_sink(const char *line)
{
	size_t n = strlen(line);

	pthread_mutex_lock(&slab_fx_log_lock);
	if (slab_fx_log_len + n + 2 < sizeof(slab_fx_log_buf)) {
		memcpy(slab_fx_log_buf + slab_fx_log_len, line, n);
		slab_fx_log_len += n;
		slab_fx_log_buf[slab_fx_log_len++] = '\n';
		slab_fx_log_buf[slab_fx_log_len] = '\0';
	}
	pthread_mutex_unlock(&slab_fx_log_lock);
	if (getenv("FX_LOG_ECHO"))
		fprintf(stderr, "mm: %s\n", line);
}

const char *slab_fx_log(void)
{
	return slab_fx_log_buf;
}

bool slab_fx_log_has(const char *needle)
{
	bool has;

	pthread_mutex_lock(&slab_fx_log_lock);
	has = strstr(slab_fx_log_buf, needle) != NULL;
	pthread_mutex_unlock(&slab_fx_log_lock);
	return has;
}

void slab_fx_log_clear(void)
{
	pthread_mutex_lock(&slab_fx_log_lock);
	slab_fx_log_len = 0;
	slab_fx_log_buf[0] = '\0';
	pthread_mutex_unlock(&slab_fx_log_lock);
}

void slab_fx_setup(void)
{
	slab_fx_log_clear();
	mm_port_set_log_sink(slab_fx_log_sink);
	slab_fx_hps = host_page_source_create(FX_ARENA_PAGES, FX_DMA_PAGES);
	ck_assert_ptr_nonnull(slab_fx_hps);
	ck_assert_int_eq(slab_init(host_page_source_ps(slab_fx_hps), 2), 0);
}

void slab_fx_teardown(void)
{
	ck_assert_int_eq(slab_exit(), 0);
	ck_assert_int_eq(host_page_source_outstanding(slab_fx_hps), 0);
	host_page_source_destroy(slab_fx_hps);
	slab_fx_hps = NULL;
	mm_port_set_log_sink(NULL);
}

void slab_fx_kmalloc_setup(void)
{
	slab_fx_setup();
	ck_assert_int_eq(kmalloc_init(host_page_source_ps(slab_fx_hps), 0), 0);
}

void slab_fx_kmalloc_teardown(void)
{
	ck_assert_int_eq(kmalloc_exit(), 0);
	slab_fx_teardown();
}

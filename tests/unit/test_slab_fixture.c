// SPDX-License-Identifier: MIT
/* tests/unit/test_slab_fixture.c - see test_slab_fixture.h. */
#include "test_slab_fixture.h"

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

struct host_page_source *fx_hps;

static pthread_mutex_t fx_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char fx_log_buf[64 * 1024];
static size_t fx_log_len;

static void fx_log_sink(const char *line)
{
	size_t n = strlen(line);

	pthread_mutex_lock(&fx_log_lock);
	if (fx_log_len + n + 2 < sizeof(fx_log_buf)) {
		memcpy(fx_log_buf + fx_log_len, line, n);
		fx_log_len += n;
		fx_log_buf[fx_log_len++] = '\n';
		fx_log_buf[fx_log_len] = '\0';
	}
	pthread_mutex_unlock(&fx_log_lock);
	if (getenv("FX_LOG_ECHO"))
		fprintf(stderr, "mm: %s\n", line);
}

const char *fx_log(void)
{
	return fx_log_buf;
}

bool fx_log_has(const char *needle)
{
	bool has;

	pthread_mutex_lock(&fx_log_lock);
	has = strstr(fx_log_buf, needle) != NULL;
	pthread_mutex_unlock(&fx_log_lock);
	return has;
}

void fx_log_clear(void)
{
	pthread_mutex_lock(&fx_log_lock);
	fx_log_len = 0;
	fx_log_buf[0] = '\0';
	pthread_mutex_unlock(&fx_log_lock);
}

void fx_slab_setup(void)
{
	fx_log_clear();
	mm_port_set_log_sink(fx_log_sink);
	fx_hps = host_page_source_create(FX_ARENA_PAGES, FX_DMA_PAGES);
	ck_assert_ptr_nonnull(fx_hps);
	ck_assert_int_eq(slab_init(host_page_source_ps(fx_hps), 2), 0);
}

void fx_slab_teardown(void)
{
	ck_assert_int_eq(slab_exit(), 0);
	ck_assert_int_eq(host_page_source_outstanding(fx_hps), 0);
	host_page_source_destroy(fx_hps);
	fx_hps = NULL;
	mm_port_set_log_sink(NULL);
}

void fx_kmalloc_setup(void)
{
	fx_slab_setup();
	ck_assert_int_eq(kmalloc_init(host_page_source_ps(fx_hps), 0), 0);
}

void fx_kmalloc_teardown(void)
{
	ck_assert_int_eq(kmalloc_exit(), 0);
	fx_slab_teardown();
}

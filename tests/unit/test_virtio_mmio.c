// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/virtio_mmio.c: the register interface as a guest
 * driver sees it, through the bus handler, with an echo device behind it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtio_mmio.h"
#include "virtq_ring_fx.h"
#include "unit.h"

#define F_V1	      VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_EVENT_IDX   VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_DEV_A	      VIRTIO_BIT(0) /* a device feature the device accepts */
#define F_DEV_REFUSED VIRTIO_BIT(5) /* offered, but refused at FEATURES_OK */
#define OFFERED	      (F_V1 | F_EVENT_IDX | F_DEV_A | F_DEV_REFUSED)
#define CONFIG_SIZE   12

/* The echo device: copies what it reads into what it may write. */
struct echo {
	unsigned notifies, resets, driver_oks, chains;
	uint8_t config[CONFIG_SIZE];
	struct virtq_seg segs[8];
	struct virtq_chain chain;
};

struct irq_line {
	bool level;
	unsigned raises;
};

static struct tram ram;
static struct tring ring;
static struct echo echo;
static struct irq_line line;
static struct virtio_mmio_dev *dev;
static char last_log[256];

static int echo_handle(void *opaque, struct virtq *vq, struct virtq_chain *c,
		       uint32_t *written)
{
	struct echo *e = opaque;
	uint32_t done = 0;

	for (unsigned i = c->nr_read; i < c->nr_segs && c->nr_read; i++) {
		uint32_t n = c->segs[i].len < c->segs[0].len ? c->segs[i].len
							     : c->segs[0].len;

		memcpy(c->segs[i].host, c->segs[0].host, n);
		done += n;
	}
	e->chains++;
	*written = done;
	return 0;
}

static void echo_notify(struct virtio_mmio_dev *d, unsigned queue)
{
	struct echo *e = virtio_mmio_priv(d);

	e->notifies++;
	__virtio_mmio_process_queue(d, queue, &e->chain, echo_handle, e);
}

static void echo_reset(struct virtio_mmio_dev *d)
{
	struct echo *e = virtio_mmio_priv(d);

	e->resets++;
}

static void echo_config_read(struct virtio_mmio_dev *d, uint32_t offset,
			     void *data, unsigned len)
{
	struct echo *e = virtio_mmio_priv(d);

	memcpy(data, e->config + offset, len);
}

static void echo_config_write(struct virtio_mmio_dev *d, uint32_t offset,
			      const void *data, unsigned len)
{
	struct echo *e = virtio_mmio_priv(d);

	memcpy(e->config + offset, data, len);
}

static int echo_features_ok(struct virtio_mmio_dev *d, uint64_t features)
{
	return features & F_DEV_REFUSED ? -EOPNOTSUPP : 0;
}

static void echo_driver_ok(struct virtio_mmio_dev *d)
{
	struct echo *e = virtio_mmio_priv(d);

	e->driver_oks++;
}

static const struct virtio_mmio_ops echo_ops = {
	.notify = echo_notify,
	.reset = echo_reset,
	.config_read = echo_config_read,
	.config_write = echo_config_write,
	.features_ok = echo_features_ok,
	.driver_ok = echo_driver_ok,
};

static void irq_set(void *opaque, uint32_t irq, bool level)
{
	struct irq_line *l = opaque;

	ck_assert_uint_eq(irq, 9);
	l->level = level;
	if (level)
		l->raises++;
}

static void capture_log(void *opaque, const char *msg)
{
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static struct virtio_mmio_params echo_params(void)
{
	return (struct virtio_mmio_params){
		.name = "echo",
		.device_id = VIRTIO_ID_CONSOLE,
		.features = OFFERED,
		.nr_queues = 2,
		.queue_max = {256, 64},
		.config_size = CONFIG_SIZE,
		.ops = &echo_ops,
		.priv = &echo,
		.base = 0xD0000000ull,
		.irq = 9,
		.translate = tram_translate,
		.translate_opaque = &ram,
		.irq_set = irq_set,
		.irq_opaque = &line,
		.log = capture_log,
	};
}

static void setup(void)
{
	struct virtio_mmio_params p = echo_params();

	memset(&echo, 0, sizeof(echo));
	memset(&line, 0, sizeof(line));
	echo.chain = (struct virtq_chain){.segs = echo.segs, .max_segs = 8};
	memcpy(echo.config, "buddyvm-cfg", CONFIG_SIZE);
	tram_init(&ram);
	tring_init(&ring, &ram, 16);
	ck_assert_int_eq(virtio_mmio_create(&p, &dev), 0);
}

static void teardown(void)
{
	virtio_mmio_destroy(dev);
	tram_fini(&ram);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	ck_assert_int_eq(virtio_mmio_access(dev, off, &v, 4, false), 0);
	return v;
}

static int wr(uint64_t off, uint32_t v)
{
	return virtio_mmio_access(dev, off, &v, 4, true);
}

static void wr_ok(uint64_t off, uint32_t v)
{
	ck_assert_int_eq(wr(off, v), 0);
}

/* The driver's side of feature negotiation; returns the status read back. */
static uint32_t negotiate(uint64_t features)
{
	wr_ok(VIRTIO_MMIO_STATUS, 0);
	wr_ok(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr_ok(VIRTIO_MMIO_STATUS,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr_ok(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr_ok(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr_ok(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr_ok(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr_ok(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
					  VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS);
}

static void setup_queue(unsigned q, const struct tring *r)
{
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, q);
	wr_ok(VIRTIO_MMIO_QUEUE_NUM, r->size);
	wr_ok(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc_gpa);
	wr_ok(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc_gpa >> 32));
	wr_ok(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail_gpa);
	wr_ok(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(r->avail_gpa >> 32));
	wr_ok(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used_gpa);
	wr_ok(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(r->used_gpa >> 32));
	wr_ok(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* A live device with queue 0 on `ring`. */
static void bring_up(uint64_t features)
{
	ck_assert_uint_eq(negotiate(features) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, &ring);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr_ok(VIRTIO_MMIO_STATUS,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(echo.driver_oks, 1);
}

/* Post one echo request (8 bytes out, 8 bytes back) at descriptors 0, 1. */
static void post_echo(uint64_t *out)
{
	uint64_t in = tring_alloc(&ring, 8);

	*out = tring_alloc(&ring, 8);
	memcpy(tram_ptr(&ram, in), "ping1234", 8);
	tring_set_desc(&ring, 0, in, 8, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, *out, 8, VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 0);
}

START_TEST(test_identity_registers)
{
	struct virtio_mmio_info info;

	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_VENDOR_BUDDYVM);
	wr_ok(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)OFFERED);
	wr_ok(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), OFFERED >> 32);
	wr_ok(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_mmio_get_info(dev, &info);
	ck_assert_str_eq(info.name, "echo");
	ck_assert_uint_eq(info.base, 0xD0000000ull);
	ck_assert_uint_eq(info.size, 0x200);
	ck_assert_uint_eq(info.irq, 9);
	ck_assert_uint_eq(info.device_id, VIRTIO_ID_CONSOLE);
}
END_TEST

START_TEST(test_features_subset_accepted)
{
	ck_assert(negotiate(F_V1 | F_DEV_A) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(__virtio_mmio_features(dev), F_V1 | F_DEV_A);
	/* Frozen once FEATURES_OK is set. */
	wr_ok(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	ck_assert_int_eq(wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff), -EBUSY);
	ck_assert_uint_eq(__virtio_mmio_features(dev), F_V1 | F_DEV_A);
}
END_TEST

START_TEST(test_features_superset_rejected)
{
	uint32_t status = negotiate(F_V1 | VIRTIO_BIT(7));

	ck_assert(!(status & VIRTIO_STATUS_FEATURES_OK));
	ck_assert_uint_eq(status,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ck_assert_uint_eq(__virtio_mmio_features(dev), 0);
	ck_assert_ptr_nonnull(strstr(last_log, "not offered"));
}
END_TEST

START_TEST(test_features_without_version_1_rejected)
{
	ck_assert(!(negotiate(F_DEV_A) & VIRTIO_STATUS_FEATURES_OK));
}
END_TEST

START_TEST(test_features_refused_by_device)
{
	ck_assert(
		!(negotiate(F_V1 | F_DEV_REFUSED) & VIRTIO_STATUS_FEATURES_OK));
	ck_assert_ptr_nonnull(strstr(last_log, "refused"));
	/* The driver may try again with fewer features after a reset. */
	ck_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
}
END_TEST

START_TEST(test_driver_ok_needs_features_ok)
{
	wr_ok(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
					  VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS),
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ck_assert_uint_eq(echo.driver_oks, 0);
}
END_TEST

START_TEST(test_status_bits_cannot_be_cleared)
{
	wr_ok(VIRTIO_MMIO_STATUS,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ck_assert_int_eq(wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE),
			 -EINVAL);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS),
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* Nor can the driver set NEEDS_RESET: that bit is the device's. */
	wr_ok(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
					  VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS),
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}
END_TEST

START_TEST(test_queue_setup_and_notify)
{
	uint64_t out;

	bring_up(F_V1);
	post_echo(&out);
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(echo.notifies, 1);
	ck_assert_uint_eq(echo.chains, 1);
	ck_assert_mem_eq(tram_ptr(&ram, out), "ping1234", 8);
	ck_assert_uint_eq(ring.used->idx, 1);
	ck_assert_uint_eq(ring.used->ring[0].id, 0);
	ck_assert_uint_eq(ring.used->ring[0].len, 8);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_VRING);
	ck_assert(line.level);
	ck_assert_uint_eq(line.raises, 1);
	wr_ok(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert(!line.level);
	/* Kicks for an absent or unready queue reach nobody. */
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	ck_assert_uint_eq(echo.notifies, 1);
}
END_TEST

START_TEST(test_ready_queue_is_frozen)
{
	struct tring other;
	uint64_t out;

	bring_up(F_V1);
	tring_init(&other, &ram, 8);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(VIRTIO_MMIO_QUEUE_NUM, 8), -EBUSY);
	ck_assert_int_eq(wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000), -EBUSY);
	ck_assert_int_eq(wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 1), -EBUSY);
	/* Still the original 16-entry rings. */
	post_echo(&out);
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(echo.chains, 1);
	ck_assert_uint_eq(ring.used->idx, 1);
	/* Disabling the queue unfreezes it. */
	wr_ok(VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr_ok(VIRTIO_MMIO_QUEUE_NUM, 8);
}
END_TEST

START_TEST(test_reset_clears_everything)
{
	uint64_t out;

	bring_up(F_V1 | F_EVENT_IDX);
	post_echo(&out);
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert(line.level);
	echo.resets = 0;
	wr_ok(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(echo.resets, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert(!line.level);
	ck_assert_uint_eq(__virtio_mmio_features(dev), 0);
	for (unsigned q = 0; q < 2; q++) {
		wr_ok(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	}
	/* Staged queue size is gone too: readying without it fails. */
	ck_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr_ok(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Kicks after the reset do nothing until the driver is OK again. */
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(echo.notifies, 1);
}
END_TEST

START_TEST(test_bad_accesses)
{
	static const struct {
		uint64_t off;
		unsigned len;
		bool write;
	} bad[] = {
		{VIRTIO_MMIO_MAGIC_VALUE, 1, false},
		{VIRTIO_MMIO_MAGIC_VALUE, 2, false},
		{VIRTIO_MMIO_MAGIC_VALUE, 8, false},
		{VIRTIO_MMIO_STATUS, 2, true},
		{VIRTIO_MMIO_STATUS, 8, true},
		{VIRTIO_MMIO_VERSION + 2, 4, false},
		{VIRTIO_MMIO_MAGIC_VALUE, 4, true},	 /* read-only */
		{VIRTIO_MMIO_INTERRUPT_STATUS, 4, true}, /* read-only */
		{VIRTIO_MMIO_QUEUE_NOTIFY, 4, false},	 /* write-only */
		{VIRTIO_MMIO_DRIVER_FEATURES, 4, false}, /* write-only */
		{0x0f0, 4, false},			 /* unassigned */
		{0x0f0, 4, true},
		{VIRTIO_MMIO_SIZE, 4, false},	  /* past the window */
		{VIRTIO_MMIO_SIZE - 2, 4, false}, /* straddles its end */
		{UINT64_MAX - 1, 4, true},	  /* wraps */
		{VIRTIO_MMIO_CONFIG + CONFIG_SIZE, 1, false},
		{VIRTIO_MMIO_CONFIG + CONFIG_SIZE - 2, 4, true},
		{VIRTIO_MMIO_CONFIG, 3, false},
		{VIRTIO_MMIO_CONFIG, 16, false},
	};
	uint8_t data[16];

	wr_ok(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(data, 0x5a, sizeof(data));
		ck_assert_msg(virtio_mmio_access(dev, bad[i].off, data,
						 bad[i].len,
						 bad[i].write) == -EINVAL,
			      "access %u at 0x%llx accepted", i,
			      (unsigned long long)bad[i].off);
		if (!bad[i].write && bad[i].len <= 8)
			for (unsigned b = 0; b < bad[i].len; b++)
				ck_assert_uint_eq(data[b], 0);
	}
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_mem_eq(echo.config, "buddyvm-cfg", CONFIG_SIZE);
}
END_TEST

START_TEST(test_config_space)
{
	uint8_t b;
	uint16_t h;
	uint32_t w;
	uint64_t q;

	ck_assert_int_eq(virtio_mmio_access(dev, 0x100, &b, 1, false), 0);
	ck_assert_uint_eq(b, 'b');
	ck_assert_int_eq(virtio_mmio_access(dev, 0x101, &h, 2, false), 0);
	ck_assert_mem_eq(&h, "ud", 2);
	ck_assert_int_eq(virtio_mmio_access(dev, 0x108, &w, 4, false), 0);
	ck_assert_mem_eq(&w, "cfg", 4);
	ck_assert_int_eq(virtio_mmio_access(dev, 0x100, &q, 8, false), 0);
	ck_assert_mem_eq(&q, "buddyvm-", 8);
	w = 0x44434241;
	ck_assert_int_eq(virtio_mmio_access(dev, 0x104, &w, 4, true), 0);
	ck_assert_mem_eq(echo.config, "buddABCDcfg", CONFIG_SIZE);
	/* A config change before DRIVER_OK bumps the generation only. */
	virtio_mmio_config_changed(dev);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	bring_up(F_V1);
	virtio_mmio_config_changed(dev);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_CONFIG);
	ck_assert(line.level);
}
END_TEST

START_TEST(test_needs_reset_on_bad_chain)
{
	uint64_t a;

	bring_up(F_V1);
	a = tring_alloc(&ring, 8);
	/* A buffer in the MMIO hole: not guest RAM. */
	tring_set_desc(&ring, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
	tring_set_desc(&ring, 1, 0xD0000000ull, 8, VIRTQ_DESC_F_WRITE, 0);
	tring_post(&ring, 0);
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_CONFIG);
	ck_assert(line.level);
	ck_assert_uint_eq(line.raises, 1);
	ck_assert_msg(strstr(__virtio_mmio_last_error(dev), "outside"), "%s",
		      __virtio_mmio_last_error(dev));
	ck_assert_ptr_nonnull(strstr(last_log, "needs reset"));
	ck_assert_uint_eq(ring.used->idx, 0);
	/* The device ignores the queue until the driver resets it. */
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(echo.notifies, 1);
	wr_ok(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_str_eq(__virtio_mmio_last_error(dev), "");
}
END_TEST

START_TEST(test_bad_queue_setup_needs_reset)
{
	ck_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr_ok(VIRTIO_MMIO_QUEUE_NUM, 128); /* above QueueNumMax 64 */
	wr_ok(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Before DRIVER_OK the spec asks for no interrupt. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* Rings outside guest RAM are refused the same way. */
	ck_assert(negotiate(F_V1) & VIRTIO_STATUS_FEATURES_OK);
	wr_ok(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr_ok(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr_ok(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr_ok(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_ptr_nonnull(
		strstr(__virtio_mmio_last_error(dev), "outside guest memory"));
}
END_TEST

START_TEST(test_interrupt_ack)
{
	virtio_mmio_interrupt(dev,
			      VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	ck_assert(line.level);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
	wr_ok(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_CONFIG);
	ck_assert(line.level);
	wr_ok(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert(!line.level);
}
END_TEST

START_TEST(test_create_rejects_bad_params)
{
	struct virtio_mmio_dev *d = NULL;
	struct virtio_mmio_params p;

	p = echo_params();
	p.features = F_DEV_A;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	p = echo_params();
	p.nr_queues = 0;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	p.nr_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	p = echo_params();
	p.queue_max[1] = 48;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	p = echo_params();
	p.config_size = VIRTIO_MMIO_CONFIG_MAX + 1;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	p = echo_params();
	p.translate = NULL;
	ck_assert_int_eq(virtio_mmio_create(&p, &d), -EINVAL);
	ck_assert_ptr_null(d);
}
END_TEST

struct kicker {
	unsigned kicks;
};

static void *kick_thread(void *arg)
{
	struct kicker *k = arg;

	for (unsigned i = 0; i < k->kicks; i++) {
		uint32_t v = 0;

		virtio_mmio_access(dev, VIRTIO_MMIO_QUEUE_NOTIFY, &v, 4, true);
		virtio_mmio_access(dev, VIRTIO_MMIO_INTERRUPT_STATUS, &v, 4,
				   false);
	}
	return NULL;
}

/* Two vCPUs kicking at once: each chain is still handled exactly once. */
START_TEST(test_concurrent_kicks)
{
	struct kicker k = {.kicks = unit_sanitized() ? 2000 : 20000};
	uint64_t in, out;
	pthread_t t1, t2;

	tring_init(&ring, &ram, 256);
	bring_up(F_V1);
	in = tring_alloc(&ring, 8);
	out = tring_alloc(&ring, 8);
	for (uint16_t i = 0; i < 128; i++) {
		tring_set_desc(&ring, 2 * i, in, 8, VIRTQ_DESC_F_NEXT,
			       2 * i + 1);
		tring_set_desc(&ring, 2 * i + 1, out, 8, VIRTQ_DESC_F_WRITE, 0);
	}
	ck_assert_int_eq(pthread_create(&t1, NULL, kick_thread, &k), 0);
	ck_assert_int_eq(pthread_create(&t2, NULL, kick_thread, &k), 0);
	for (unsigned i = 0; i < 2000; i++) {
		/* Keep at most a ring's worth outstanding, as a driver does. */
		while ((uint16_t)(ring.avail->idx -
				  __atomic_load_n(&ring.used->idx,
						  __ATOMIC_ACQUIRE)) >= 128)
			wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		tring_post(&ring, (uint16_t)(2 * (i % 128)));
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	/* A last kick for anything posted after the threads stopped. */
	wr_ok(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(echo.chains, 2000);
	ck_assert_uint_eq(ring.used->idx, 2000);
	ck_assert(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}
END_TEST

static Suite *virtio_mmio_suite(void)
{
	Suite *s = suite_create("virtio_mmio");
	TCase *tc = tcase_create("registers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_identity_registers);
	tcase_add_test(tc, test_features_subset_accepted);
	tcase_add_test(tc, test_features_superset_rejected);
	tcase_add_test(tc, test_features_without_version_1_rejected);
	tcase_add_test(tc, test_features_refused_by_device);
	tcase_add_test(tc, test_driver_ok_needs_features_ok);
	tcase_add_test(tc, test_status_bits_cannot_be_cleared);
	tcase_add_test(tc, test_queue_setup_and_notify);
	tcase_add_test(tc, test_ready_queue_is_frozen);
	tcase_add_test(tc, test_reset_clears_everything);
	tcase_add_test(tc, test_bad_accesses);
	tcase_add_test(tc, test_config_space);
	tcase_add_test(tc, test_needs_reset_on_bad_chain);
	tcase_add_test(tc, test_bad_queue_setup_needs_reset);
	tcase_add_test(tc, test_interrupt_ack);
	tcase_add_test(tc, test_create_rejects_bad_params);
	tcase_add_test(tc, test_concurrent_kicks);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(virtio_mmio_suite)

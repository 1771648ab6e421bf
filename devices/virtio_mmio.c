// SPDX-License-Identifier: MIT
/*
 * devices/virtio_mmio.c - the virtio-mmio transport, version 2 registers.
 *
 * Everything the driver writes is staged here and checked when it takes
 * effect: queue addresses when the queue is made ready, driver features
 * when FEATURES_OK is set. Registers of a ready queue and features after
 * FEATURES_OK are frozen, so a running device never sees its rings move
 * under it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_mmio.h"

/* One queue: what the driver staged, and the live ring. */
struct virtio_mmio_queue {
	uint16_t max;
	uint32_t num;
	uint64_t desc_gpa;
	uint64_t driver_gpa; /* available ring */
	uint64_t device_gpa; /* used ring */
	struct virtq vq;
};

struct virtio_mmio_dev {
	pthread_mutex_t lock;
	struct virtio_mmio_params p;
	uint32_t status;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint64_t driver_features;
	uint64_t features; /* negotiated: set with FEATURES_OK */
	uint32_t queue_sel;
	uint32_t shm_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];
	char last_error[160];
	uint64_t failures; /* protocol errors (NEEDS_RESET), ever */
};

static void vmmio_log(struct virtio_mmio_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vmmio_log(struct virtio_mmio_dev *dev, const char *fmt, ...)
{
	char line[256];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "virtio-mmio %s: ", dev->p.name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (dev->p.log)
		dev->p.log(dev->p.log_opaque, line);
	else
		fprintf(stderr, "%s\n", line);
}

static bool valid_queue_max(uint16_t max)
{
	return max && !(max & (max - 1));
}

static int virtio_mmio_check_params(const struct virtio_mmio_params *p)
{
	if (!p->name || !p->ops || !p->translate || !p->irq_set)
		return -EINVAL;
	if (!(p->features & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	if (p->nr_queues == 0 || p->nr_queues > VIRTIO_MMIO_MAX_QUEUES)
		return -EINVAL;
	if (p->config_size > VIRTIO_MMIO_CONFIG_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < p->nr_queues; i++) {
		if (!valid_queue_max(p->queue_max[i]))
			return -EINVAL;
	}
	return 0;
}

int virtio_mmio_create(const struct virtio_mmio_params *params,
		       struct virtio_mmio_dev **out)
{
	struct virtio_mmio_dev *dev;
	int err = virtio_mmio_check_params(params);

	if (err)
		return err;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	err = pthread_mutex_init(&dev->lock, NULL);
	if (err) {
		free(dev);
		return -err;
	}
	dev->p = *params;
	if (!dev->p.vendor_id)
		dev->p.vendor_id = VIRTIO_VENDOR_BUDDYVM;
	for (unsigned i = 0; i < dev->p.nr_queues; i++) {
		dev->queues[i].max = dev->p.queue_max[i];
		virtq_init(&dev->queues[i].vq, dev->p.translate,
			   dev->p.translate_opaque);
	}
	*out = dev;
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio_dev *dev)
{
	if (!dev)
		return;
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

void virtio_mmio_lock(struct virtio_mmio_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
}

void virtio_mmio_unlock(struct virtio_mmio_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

void *virtio_mmio_priv(const struct virtio_mmio_dev *dev)
{
	return dev->p.priv;
}

void virtio_mmio_get_info(const struct virtio_mmio_dev *dev,
			  struct virtio_mmio_info *info)
{
	info->name = dev->p.name;
	info->base = dev->p.base;
	info->size = VIRTIO_MMIO_SIZE;
	info->irq = dev->p.irq;
	info->device_id = dev->p.device_id;
}

uint32_t virtio_mmio_status(struct virtio_mmio_dev *dev)
{
	uint32_t status;

	virtio_mmio_lock(dev);
	status = dev->status;
	virtio_mmio_unlock(dev);
	return status;
}

uint64_t virtio_mmio_failures(struct virtio_mmio_dev *dev)
{
	uint64_t n;

	virtio_mmio_lock(dev);
	n = dev->failures;
	virtio_mmio_unlock(dev);
	return n;
}

uint64_t __virtio_mmio_failures(const struct virtio_mmio_dev *dev)
{
	return dev->failures;
}

const char *__virtio_mmio_last_error(const struct virtio_mmio_dev *dev)
{
	return dev->last_error;
}

uint64_t __virtio_mmio_features(const struct virtio_mmio_dev *dev)
{
	return dev->features;
}

struct virtq *__virtio_mmio_queue(struct virtio_mmio_dev *dev, unsigned queue)
{
	return queue < dev->p.nr_queues ? &dev->queues[queue].vq : NULL;
}

void __virtio_mmio_interrupt(struct virtio_mmio_dev *dev, uint32_t bits)
{
	dev->interrupt_status |= bits;
	if (dev->interrupt_status)
		dev->p.irq_set(dev->p.irq_opaque, dev->p.irq, true);
}

void virtio_mmio_interrupt(struct virtio_mmio_dev *dev, uint32_t bits)
{
	virtio_mmio_lock(dev);
	__virtio_mmio_interrupt(dev, bits);
	virtio_mmio_unlock(dev);
}

static void virtio_mmio_interrupt_ack(struct virtio_mmio_dev *dev,
				      uint32_t bits)
{
	uint32_t before = dev->interrupt_status;

	dev->interrupt_status &= ~bits;
	if (before && !dev->interrupt_status)
		dev->p.irq_set(dev->p.irq_opaque, dev->p.irq, false);
}

void __virtio_mmio_config_changed(struct virtio_mmio_dev *dev)
{
	dev->config_generation++;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		__virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio_dev *dev)
{
	virtio_mmio_lock(dev);
	__virtio_mmio_config_changed(dev);
	virtio_mmio_unlock(dev);
}

void __virtio_mmio_fail(struct virtio_mmio_dev *dev, int err,
			const char *reason)
{
	snprintf(dev->last_error, sizeof(dev->last_error), "%s (%s)", reason,
		 strerror(-err));
	/* Rate-limited: a guest failing in a loop must not flood the log. */
	if (++dev->failures <= 8 || dev->failures % 1024 == 0)
		vmmio_log(dev, "%s; device needs reset (failure %llu)",
			  dev->last_error, (unsigned long long)dev->failures);
	if (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		__virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_CONFIG);
}

static bool virtio_mmio_live(const struct virtio_mmio_dev *dev)
{
	return (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

int __virtio_mmio_process_queue(struct virtio_mmio_dev *dev, unsigned queue,
				struct virtq_chain *chain,
				virtq_handle_fn handle, void *opaque)
{
	struct virtq *vq = __virtio_mmio_queue(dev, queue);
	bool notify = false;
	char reason[160];
	int n;

	if (!vq || !virtq_enabled(vq) || !virtio_mmio_live(dev))
		return -ENOENT;
	n = virtq_process(vq, chain, handle, opaque, &notify);
	if (notify)
		__virtio_mmio_interrupt(dev, VIRTIO_MMIO_INT_VRING);
	if (n < 0) {
		if (vq->broken)
			snprintf(reason, sizeof(reason), "queue %u: %s", queue,
				 virtq_error(vq));
		else
			snprintf(reason, sizeof(reason),
				 "queue %u: request rejected by the device",
				 queue);
		__virtio_mmio_fail(dev, n, reason);
	}
	return n;
}

static void __virtio_mmio_kick(struct virtio_mmio_dev *dev, unsigned queue)
{
	if (queue >= dev->p.nr_queues || !virtio_mmio_live(dev))
		return;
	if (!virtq_enabled(&dev->queues[queue].vq))
		return;
	if (dev->p.ops->notify)
		dev->p.ops->notify(dev, queue);
}

void virtio_mmio_kick(struct virtio_mmio_dev *dev, unsigned queue)
{
	virtio_mmio_lock(dev);
	__virtio_mmio_kick(dev, queue);
	virtio_mmio_unlock(dev);
}

/* Status 0: back to the state after create (config generation aside). */
static void virtio_mmio_reset(struct virtio_mmio_dev *dev)
{
	for (unsigned i = 0; i < dev->p.nr_queues; i++) {
		struct virtio_mmio_queue *q = &dev->queues[i];

		virtq_reset(&q->vq);
		q->num = 0;
		q->desc_gpa = q->driver_gpa = q->device_gpa = 0;
	}
	dev->status = 0;
	dev->device_features_sel = 0;
	dev->driver_features_sel = 0;
	dev->driver_features = 0;
	dev->features = 0;
	dev->queue_sel = 0;
	dev->shm_sel = 0;
	dev->last_error[0] = '\0';
	virtio_mmio_interrupt_ack(dev, ~0u);
	if (dev->p.ops->reset)
		dev->p.ops->reset(dev);
	if (dev->p.translate_reset)
		dev->p.translate_reset(dev->p.translate_opaque);
}

/*
 * FEATURES_OK: the driver's features must be a subset of ours, include
 * VERSION_1 (we are a modern-only device), and be acceptable to the device.
 */
static bool virtio_mmio_negotiate(struct virtio_mmio_dev *dev)
{
	uint64_t f = dev->driver_features;
	int err;

	if (f & ~dev->p.features) {
		vmmio_log(dev, "driver features 0x%llx not offered (0x%llx)",
			  (unsigned long long)f,
			  (unsigned long long)dev->p.features);
		return false;
	}
	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		vmmio_log(dev, "driver did not accept VIRTIO_F_VERSION_1");
		return false;
	}
	err = dev->p.ops->features_ok ? dev->p.ops->features_ok(dev, f) : 0;
	if (err) {
		vmmio_log(dev, "device refused features 0x%llx: %s",
			  (unsigned long long)f, strerror(-err));
		return false;
	}
	dev->features = f;
	return true;
}

static int virtio_mmio_write_status(struct virtio_mmio_dev *dev, uint32_t val)
{
	uint32_t old = dev->status;
	uint32_t want = val & 0xff & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	uint32_t added = want & ~old;

	if (val == 0) {
		virtio_mmio_reset(dev);
		return 0;
	}
	/* The driver only ever adds bits; clearing one takes a reset. */
	if (old & ~want & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return -EINVAL;
	if ((added & VIRTIO_STATUS_FEATURES_OK) && !virtio_mmio_negotiate(dev))
		want &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((added & VIRTIO_STATUS_DRIVER_OK) &&
	    !(want & VIRTIO_STATUS_FEATURES_OK)) {
		vmmio_log(dev, "DRIVER_OK without FEATURES_OK ignored");
		want &= ~VIRTIO_STATUS_DRIVER_OK;
		added &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	dev->status = want | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	if ((added & VIRTIO_STATUS_DRIVER_OK) && dev->p.ops->driver_ok)
		dev->p.ops->driver_ok(dev);
	return 0;
}

static struct virtio_mmio_queue *selected_queue(struct virtio_mmio_dev *dev)
{
	return dev->queue_sel < dev->p.nr_queues ? &dev->queues[dev->queue_sel]
						 : NULL;
}

/* QueueReady = 1: check everything the driver staged, then go live. */
static void virtio_mmio_enable_queue(struct virtio_mmio_dev *dev,
				     struct virtio_mmio_queue *q)
{
	char reason[160];
	int err;

	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		__virtio_mmio_fail(dev, -EINVAL,
				   "queue made ready before FEATURES_OK");
		return;
	}
	if (q->num == 0 || q->num > q->max || (q->num & (q->num - 1))) {
		snprintf(reason, sizeof(reason),
			 "queue %u: size %u not a power of two <= %u",
			 dev->queue_sel, q->num, q->max);
		__virtio_mmio_fail(dev, -EINVAL, reason);
		return;
	}
	err = virtq_enable(&q->vq, (uint16_t)q->num, q->desc_gpa, q->driver_gpa,
			   q->device_gpa, dev->features);
	if (err) {
		snprintf(reason, sizeof(reason), "queue %u: %s", dev->queue_sel,
			 virtq_error(&q->vq));
		__virtio_mmio_fail(dev, err, reason);
	}
}

static void set_low(uint64_t *v, uint32_t val)
{
	*v = (*v & ~0xffffffffull) | val;
}

static void set_high(uint64_t *v, uint32_t val)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
}

/* Writes to a queue's registers; ignored while it is ready (frozen). */
static int virtio_mmio_write_queue(struct virtio_mmio_dev *dev, uint64_t offset,
				   uint32_t val)
{
	struct virtio_mmio_queue *q = selected_queue(dev);

	if (!q)
		return -ENOENT;
	if (offset == VIRTIO_MMIO_QUEUE_READY) {
		if (!val)
			virtq_reset(&q->vq);
		else if (!virtq_enabled(&q->vq))
			virtio_mmio_enable_queue(dev, q);
		return 0;
	}
	if (virtq_enabled(&q->vq))
		return -EBUSY;
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		set_low(&q->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_high(&q->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		set_low(&q->driver_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_high(&q->driver_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		set_low(&q->device_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_high(&q->device_gpa, val);
		break;
	}
	return 0;
}

static int virtio_mmio_write_features(struct virtio_mmio_dev *dev, uint32_t val)
{
	/* Frozen once negotiated (virtio 1.x 3.1.1). */
	if (dev->status & VIRTIO_STATUS_FEATURES_OK)
		return -EBUSY;
	if (dev->driver_features_sel == 0)
		set_low(&dev->driver_features, val);
	else if (dev->driver_features_sel == 1)
		set_high(&dev->driver_features, val);
	return 0;
}

static int virtio_mmio_write_reg(struct virtio_mmio_dev *dev, uint64_t offset,
				 uint32_t val)
{
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		return virtio_mmio_write_features(dev, val);
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		return 0;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return virtio_mmio_write_queue(dev, offset, val);
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		__virtio_mmio_kick(dev, val & 0xffff);
		return 0;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		virtio_mmio_interrupt_ack(dev, val);
		return 0;
	case VIRTIO_MMIO_STATUS:
		return virtio_mmio_write_status(dev, val);
	case VIRTIO_MMIO_SHM_SEL:
		dev->shm_sel = val;
		return 0;
	case VIRTIO_MMIO_QUEUE_RESET:
		return 0; /* VIRTIO_F_RING_RESET is not offered */
	}
	return -EINVAL;
}

static uint32_t device_features_word(const struct virtio_mmio_dev *dev)
{
	if (dev->device_features_sel == 0)
		return (uint32_t)dev->p.features;
	if (dev->device_features_sel == 1)
		return (uint32_t)(dev->p.features >> 32);
	return 0;
}

static int virtio_mmio_read_reg(struct virtio_mmio_dev *dev, uint64_t offset,
				uint32_t *val)
{
	struct virtio_mmio_queue *q = selected_queue(dev);

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		*val = VIRTIO_MMIO_MAGIC;
		return 0;
	case VIRTIO_MMIO_VERSION:
		*val = VIRTIO_MMIO_VERSION_2;
		return 0;
	case VIRTIO_MMIO_DEVICE_ID:
		*val = dev->p.device_id;
		return 0;
	case VIRTIO_MMIO_VENDOR_ID:
		*val = dev->p.vendor_id;
		return 0;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		*val = device_features_word(dev);
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		*val = q ? q->max : 0;
		return 0;
	case VIRTIO_MMIO_QUEUE_READY:
		*val = q && virtq_enabled(&q->vq);
		return 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		*val = dev->interrupt_status;
		return 0;
	case VIRTIO_MMIO_STATUS:
		*val = dev->status;
		return 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		*val = 0xffffffffu; /* no shared memory regions */
		return 0;
	case VIRTIO_MMIO_QUEUE_RESET:
		*val = 0;
		return 0;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		*val = dev->config_generation;
		return 0;
	}
	return -EINVAL;
}

static int virtio_mmio_config_access(struct virtio_mmio_dev *dev,
				     uint32_t offset, void *data, unsigned len,
				     bool is_write)
{
	const struct virtio_mmio_ops *ops = dev->p.ops;

	if ((len != 1 && len != 2 && len != 4 && len != 8) ||
	    offset + len > dev->p.config_size)
		return -EINVAL;
	if (is_write) {
		if (ops->config_write)
			ops->config_write(dev, offset, data, len);
	} else if (ops->config_read) {
		ops->config_read(dev, offset, data, len);
	}
	return 0;
}

int virtio_mmio_access(void *opaque, uint64_t offset, void *data, unsigned len,
		       bool is_write)
{
	struct virtio_mmio_dev *dev = opaque;
	uint32_t val = 0;
	int err;

	if (!is_write && len <= 8)
		memset(data, 0, len);
	if (offset >= VIRTIO_MMIO_SIZE || len > VIRTIO_MMIO_SIZE - offset)
		return -EINVAL;
	virtio_mmio_lock(dev);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		err = virtio_mmio_config_access(
			dev, (uint32_t)(offset - VIRTIO_MMIO_CONFIG), data, len,
			is_write);
	} else if (len != 4 || (offset & 3)) {
		err = -EINVAL;
	} else if (is_write) {
		memcpy(&val, data, 4);
		err = virtio_mmio_write_reg(dev, offset, val);
	} else {
		err = virtio_mmio_read_reg(dev, offset, &val);
		if (!err)
			memcpy(data, &val, 4);
	}
	virtio_mmio_unlock(dev);
	return err;
}

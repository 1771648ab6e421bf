// SPDX-License-Identifier: MIT
/*
 * guest/virtio/virtio.c - virtio-mmio (version 2) driver library at CPL 3.
 *
 * Every register access is an MMIO exit (5-20 us on PVM hosts), so the
 * library touches registers only for setup, one QueueNotify per batch and
 * one InterruptStatus read + ACK per interrupt; the rings themselves are
 * plain memory.
 */
#include "abi/layout.h"
#include "guest.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"
#include "pvmem_guest.h"

/*
 * Native model: a reset does not release the guest's own DMA memory, so a
 * device probed again (after a reset, e.g. DEVICE_NEEDS_RESET) gets the
 * rings it had before instead of leaking 12 KiB per queue. Keyed by window
 * base and queue index.
 */
#define GV_MAX_RING_SLOTS 16
struct gv_ring_slot {
	uint64_t base;
	unsigned index;
	uint8_t *mem;
};
static struct gv_ring_slot gv_native_rings[GV_MAX_RING_SLOTS];

static uint8_t *gv_ring_mem(struct gv_dev *dev, unsigned index)
{
	unsigned i;
	uint8_t *mem;

	if (!guest_boot.native)
		return gv_dma_alloc(dev, 4096 * 3);
	for (i = 0; i < GV_MAX_RING_SLOTS && gv_native_rings[i].mem; i++) {
		if (gv_native_rings[i].base == dev->base &&
		    gv_native_rings[i].index == index) {
			memset(gv_native_rings[i].mem, 0, 4096 * 3);
			return gv_native_rings[i].mem;
		}
	}
	mem = gv_dma_alloc(dev, 4096 * 3);
	if (mem && i < GV_MAX_RING_SLOTS)
		gv_native_rings[i] =
			(struct gv_ring_slot){dev->base, index, mem};
	return mem;
}

/* Each transport continues the instance count where the one before left. */
static int gv_find(struct gv_dev *dev, uint32_t device_id, unsigned instance)
{
	int err = gv_mmio_find(dev, device_id, &instance);

	if (err == -ENOENT)
		err = gv_pci_find(dev, device_id, &instance);
	return err;
}

int gv_probe(struct gv_dev *dev, uint32_t device_id, uint64_t wanted)
{
	return gv_probe_instance(dev, device_id, 0, wanted);
}

int gv_probe_instance(struct gv_dev *dev, uint32_t device_id, unsigned instance,
		      uint64_t wanted)
{
	uint64_t offered;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	int err;

	memset(dev, 0, sizeof(*dev));
	err = gv_find(dev, device_id, instance);
	if (err)
		return err;
	dev->device_id = device_id;
	gv_reset(dev);
	dev->ops->set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	dev->ops->set_status(dev, st);
	offered = dev->ops->get_features(dev);
	if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return -GV_ENODEV;
	dev->features = offered & (wanted | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	dev->ops->set_features(dev, dev->features);
	st |= VIRTIO_STATUS_FEATURES_OK;
	dev->ops->set_status(dev, st);
	if (!(dev->ops->get_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
		dev->ops->set_status(dev, st | VIRTIO_STATUS_FAILED);
		return -EIO;
	}
	return 0;
}

void *gv_dma_alloc(struct gv_dev *dev, size_t bytes)
{
	uint64_t addr;
	void *p;

	if (dma_alloc_coherent(&dev->dma, bytes, &p, &addr) != 0)
		return NULL;
	return p;
}

int gv_setup_queue(struct gv_dev *dev, unsigned index, uint16_t size)
{
	struct gv_queue *q = &dev->vqs[index];
	uint32_t max;
	uint8_t *mem;

	if (index >= GV_MAX_QUEUES)
		return -EINVAL;
	max = dev->ops->queue_max(dev, index);
	if (max == 0)
		return -ENOENT;
	if (size > GV_MAX_QSIZE)
		size = GV_MAX_QSIZE;
	while (size > max)
		size /= 2;
	/* desc | avail | used, each part aligned: one block, one mapping. */
	mem = gv_ring_mem(dev, index);
	if (!mem)
		return -ENOMEM;
	q->index = index;
	q->size = size;
	q->desc = (struct virtq_desc *)mem;
	q->avail = (struct virtq_avail *)(mem + 4096);
	q->used = (struct virtq_used *)(mem + 8192);
	q->nr_free = size;
	q->free_head = 0;
	q->avail_idx = q->last_used = q->kicked_idx = 0;
	q->event_idx = dev->features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	return dev->ops->queue_setup(dev, q);
}

void gv_reset(struct gv_dev *dev)
{
	dev->ops->reset(dev);
	/* Hosted, the reset released the device's DMA blocks on the host. */
	if (!guest_boot.native)
		dma_forget_all(&dev->dma);
}

void gv_driver_ok(struct gv_dev *dev)
{
	dev->ops->route_irq(dev);
	dev->ops->set_status(dev, VIRTIO_STATUS_ACKNOWLEDGE |
					  VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_FEATURES_OK |
					  VIRTIO_STATUS_DRIVER_OK);
}

uint32_t gv_status(struct gv_dev *dev)
{
	return dev->ops->get_status(dev);
}

uint32_t gv_ack_interrupt(struct gv_dev *dev)
{
	return dev->ops->ack_interrupt(dev);
}

int gv_add(struct gv_queue *q, const struct gv_buf *bufs, unsigned n,
	   void *token)
{
	uint16_t head = q->free_head, i = head, last = head;

	if (n == 0 || n > q->nr_free)
		return -ENOSPC;
	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *d = &q->desc[i];

		d->addr = bufs[k].gpa;
		d->len = bufs[k].len;
		d->flags = (uint16_t)((bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) |
				      (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		last = i;
		i = d->next;
	}
	q->free_head = q->desc[last].next;
	q->nr_free = (uint16_t)(q->nr_free - n);
	q->tokens[head] = token;
	q->chain_len[head] = (uint16_t)n;
	q->avail->ring[q->avail_idx % q->size] = head;
	/* The entry before the index that publishes it. */
	__atomic_store_n(&q->avail->idx, ++q->avail_idx, __ATOMIC_RELEASE);
	return 0;
}

/* The event fields after each ring (virtio 1.x 2.7.10). */
static volatile uint16_t *gv_used_event(struct gv_queue *q)
{
	return &q->avail->ring[q->size];
}

static volatile uint16_t *gv_avail_event(struct gv_queue *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}

bool gv_kick(struct gv_dev *dev, struct gv_queue *q)
{
	uint16_t old = q->kicked_idx;
	bool notify;

	/* Our avail->idx store before we read what the device wants. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->kicked_idx = q->avail_idx;
	if (q->event_idx)
		notify =
			virtq_need_event(*gv_avail_event(q), q->avail_idx, old);
	else
		notify = !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
			   VIRTQ_USED_F_NO_NOTIFY);
	if (notify)
		dev->ops->notify(dev, q);
	return notify;
}

uint16_t gv_nr_used(const struct gv_queue *q)
{
	return (uint16_t)(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) -
			  q->last_used);
}

bool gv_has_used(const struct gv_queue *q)
{
	return gv_nr_used(q) != 0;
}

bool gv_enable_interrupts(struct gv_queue *q, uint16_t n)
{
	if (q->event_idx)
		*gv_used_event(q) = (uint16_t)(q->last_used + (n ? n : 1) - 1);
	else
		q->avail->flags &= (uint16_t)~VIRTQ_AVAIL_F_NO_INTERRUPT;
	/* The request before we look at used->idx again (spec 2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return gv_has_used(q);
}

void gv_disable_interrupts(struct gv_queue *q)
{
	/* EVENT_IDX: an event just behind us is passed only after a wrap. */
	if (q->event_idx)
		*gv_used_event(q) = (uint16_t)(q->last_used - 1);
	else
		q->avail->flags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
}

void *gv_get_used(struct gv_queue *q, uint32_t *len)
{
	uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	struct virtq_used_elem e;
	uint16_t head, tail;
	void *token;

	if (idx == q->last_used)
		return NULL;
	e = q->used->ring[q->last_used % q->size];
	q->last_used++;
	head = (uint16_t)e.id;
	if (head >= q->size || !q->chain_len[head])
		guest_fail(__FILE__, __LINE__, "virtio: bad used id %u", head);
	/* Give the chain's descriptors back to the free list. */
	tail = head;
	for (unsigned k = 1; k < q->chain_len[head]; k++)
		tail = q->desc[tail].next;
	q->desc[tail].next = q->free_head;
	q->free_head = head;
	q->nr_free = (uint16_t)(q->nr_free + q->chain_len[head]);
	q->chain_len[head] = 0;
	token = q->tokens[head];
	if (len)
		*len = e.len;
	return token;
}

uint32_t gv_config_read32(struct gv_dev *dev, unsigned offset)
{
	return dev->ops->config_read32(dev, offset);
}

void gv_config_write32(struct gv_dev *dev, unsigned offset, uint32_t v)
{
	dev->ops->config_write32(dev, offset, v);
}

uint32_t gv_config_generation(struct gv_dev *dev)
{
	return dev->ops->config_generation(dev);
}

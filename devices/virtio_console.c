// SPDX-License-Identifier: MIT
/*
 * devices/virtio_console.c - virtio-console port 0, output only.
 *
 * A transmit notification drains every available chain into one buffer and
 * writes it with one call (VM exits cost 5-20 us here, so the guest batches
 * and so do we), then sends at most one interrupt for the batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/layout.h"
#include "abi/virtio_console.h"
#include "devices/virtio_console.h"
#include "devices/virtio_vm.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

#define CONSOLE_QUEUE_SIZE 64
#define CONSOLE_MAX_SEGS   16
#define CONSOLE_BUF_BYTES  8192

struct virtio_console {
	struct virtio_console_params p;
	struct virtio_mmio_dev *dev;
	struct virtq_seg segs[CONSOLE_MAX_SEGS];
	struct virtq_chain chain;
	size_t fill;
	uint64_t bytes_out;
	char buf[CONSOLE_BUF_BYTES];
};

static void console_flush(struct virtio_console *c)
{
	if (c->fill)
		c->p.out(c->p.out_opaque, c->buf, c->fill);
	c->bytes_out += c->fill;
	c->fill = 0;
}

static void console_put(struct virtio_console *c, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		size_t n = sizeof(c->buf) - c->fill;

		if (n > len)
			n = len;
		memcpy(c->buf + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill == sizeof(c->buf))
			console_flush(c);
	}
}

/* A transmit chain is device-readable data; anything writable is ignored. */
static int console_tx_cb(void *opaque, struct virtq *vq, struct virtq_chain *ch,
			 uint32_t *written)
{
	struct virtio_console *c = opaque;

	for (unsigned s = 0; s < ch->nr_read; s++)
		console_put(c, ch->segs[s].host, ch->segs[s].len);
	*written = 0;
	return 0;
}

static void console_notify(struct virtio_mmio_dev *dev, unsigned q)
{
	struct virtio_console *c = virtio_mmio_priv(dev);

	/* Receive buffers wait for input that never comes: keep them. */
	if (q != VIRTIO_CONSOLE_Q_TX)
		return;
	__virtio_mmio_process_queue(dev, q, &c->chain, console_tx_cb, c);
	console_flush(c);
}

static void console_reset(struct virtio_mmio_dev *dev)
{
	struct virtio_console *c = virtio_mmio_priv(dev);

	c->fill = 0;
}

static const struct virtio_mmio_ops console_ops = {
	.notify = console_notify,
	.reset = console_reset,
};

int virtio_console_create(const struct virtio_console_params *p,
			  struct virtio_console **out)
{
	struct virtio_mmio_params mp = {
		.name = "console",
		.device_id = VIRTIO_ID_CONSOLE,
		.features = VIRTIO_BIT(VIRTIO_F_VERSION_1),
		.nr_queues = 2,
		.queue_max = {CONSOLE_QUEUE_SIZE, CONSOLE_QUEUE_SIZE},
		.ops = &console_ops,
	};
	struct virtio_console *c;
	int err;

	if (!p->out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->p = *p;
	c->chain = (struct virtq_chain){.segs = c->segs,
					.max_segs = CONSOLE_MAX_SEGS};
	mp.priv = c;
	err = virtio_vm_mmio_create(&mp, &c->p.link, &c->dev);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c)
		return;
	virtio_mmio_destroy(c->dev);
	free(c);
}

struct virtio_mmio_dev *virtio_console_mmio(struct virtio_console *c)
{
	return c->dev;
}

uint64_t virtio_console_bytes_out(struct virtio_console *c)
{
	uint64_t n;

	virtio_mmio_lock(c->dev);
	n = c->bytes_out;
	virtio_mmio_unlock(c->dev);
	return n;
}

/* The VM's console ---------------------------------------------------------- */

static struct virtio_console *vm_console;

static void console_vm_out(void *opaque, const void *buf, size_t len)
{
	vm_console_write(opaque, buf, len);
}

int virtio_console_vm_init(struct vm *vm)
{
	struct virtio_console_params p = {
		.link = virtio_vm_link(vm, VIRTIO_CONSOLE_MMIO_BASE,
				       VIRTIO_CONSOLE_IRQ,
				       VIRTIO_CONSOLE_DMA_ID),
		.out = console_vm_out,
		.out_opaque = vm,
	};
	struct virtio_console *c = NULL;
	int err = virtio_console_create(&p, &c);

	if (!err)
		err = virtio_vm_attach(vm, &c->p.link, c->dev);
	if (err) {
		fprintf(stderr, "vmm: virtio-console: %s\n", strerror(-err));
		virtio_console_destroy(c);
		return err;
	}
	vm_console = c;
	return 0;
}

/* --stats: bytes written out, protocol errors (NEEDS_RESET). */
static void console_vm_print(struct vm *vm, enum vm_stats_place place,
			     FILE *out)
{
	if (place != VM_STATS_VIRTIO || !vm_console)
		return;
	fprintf(out, "console_bytes_out %llu\nconsole_failures %llu\n",
		(unsigned long long)virtio_console_bytes_out(vm_console),
		(unsigned long long)virtio_mmio_failures(vm_console->dev));
}

const struct vm_stats_ops virtio_console_vm_stats = {
	.print = console_vm_print,
};

void virtio_console_vm_exit(struct vm *vm)
{
	virtio_console_destroy(vm_console);
	vm_console = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * guest/virtio/console.h - the guest's virtio-console driver (port 0,
 * output only). After gvcon_init() every console line leaves the guest over
 * the transmitq: one chain and one notification per flushed buffer (a line,
 * or 1 KiB of a longer one), from DMA memory of the console's DMA id. Early
 * boot output and failure reports stay on the debug channel.
 */
#ifndef GUEST_VIRTIO_CONSOLE_H
#define GUEST_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

struct gvcon_info {
	uint64_t bytes, chains; /* sent over virtio */
	uint64_t fallbacks;	/* buffers left to the debug channel */
	bool active;		/* console output goes over virtio */
};

/**
 * gvcon_init() - probe the virtio-console (resetting it if it was in use),
 * set up its transmitq and take the guest console's output. Any vCPU, but
 * not concurrently with itself; may be called again to recover a device
 * that needs a reset. Return 0, -ENOENT (no device) or a negative errno
 * (the console stays on the debug channel).
 */
int gvcon_init(void);

/**
 * gvcon_release() - give console output back to the debug channel (e.g.
 * before a workload takes the device over). Waits for no buffer: the
 * device completes each one during its notification.
 */
void gvcon_release(void);

/*
 * gvcon_drain() - wait (bounded, ~1 s) until the device has used every
 * chain sent. Before the guest ends a run whose host stops at once (QEMU's
 * isa-debug-exit), where the device works on its own thread.
 */
void gvcon_drain(void);

void gvcon_get_info(struct gvcon_info *out);

#endif /* GUEST_VIRTIO_CONSOLE_H */

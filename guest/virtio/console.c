// SPDX-License-Identifier: MIT
/*
 * guest/virtio/console.c - virtio-console driver (virtio 1.x 5.3), port 0
 * output only.
 *
 * Each flushed console buffer is copied into one of CON_SLOTS DMA slots and
 * sent as a one-descriptor chain with one notification. Buddyvm's device
 * handles the notification synchronously on the exiting vCPU, so the chain is
 * normally used when the kick returns (QEMU's uses it later, on its own
 * thread: a line waits for a free slot, and gvcon_drain() for all);
 * interrupts are suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT), as an interrupt per
 * line would double the exits. A chain that did not come back means the device failed
 * (DEVICE_NEEDS_RESET): the driver then gives the console back to the debug
 * channel until gvcon_init() runs again.
 */
#include "abi/virtio_console.h"
#include "guest.h"
#include "guest/virtio/console.h"
#include "guest/virtio/virtio_guest.h"
#include "mm/errno.h"
#include "mm/port.h"

#define CON_SLOTS      8
#define CON_SLOT_BYTES 1024
#define CON_Q_SIZE     16
/* Bound on waiting for the device to use a chain (~1 s of pause). */
#define CON_WAIT_SPINS 100000000ul

static struct mm_lock con_lock;
static struct gv_dev con_dev;
static struct gv_queue *txq;
static char *slots; /* CON_SLOTS * CON_SLOT_BYTES of DMA memory */
static bool slot_busy[CON_SLOTS];
static struct gvcon_info info;

/* Take back every used chain; false if the device returned a bad token. */
static void con_reclaim(void)
{
	uintptr_t tok;

	while ((tok = (uintptr_t)gv_get_used(txq, NULL)) != 0) {
		if (tok <= CON_SLOTS)
			slot_busy[tok - 1] = false;
	}
}

static int con_free_slot(void)
{
	for (int i = 0; i < CON_SLOTS; i++) {
		if (!slot_busy[i])
			return i;
	}
	return -1;
}

static bool con_any_busy(void)
{
	for (int i = 0; i < CON_SLOTS; i++) {
		if (slot_busy[i])
			return true;
	}
	return false;
}

/*
 * A device that uses chains on its own thread (QEMU's ioeventfd) may still
 * hold every slot: wait for one, bounded (a device that never answers
 * leaves the line to the debug channel, as before).
 */
static int con_wait_slot(void)
{
	int slot = con_free_slot();

	for (unsigned long n = 0; slot < 0 && n < CON_WAIT_SPINS; n++) {
		__builtin_ia32_pause();
		con_reclaim();
		slot = con_free_slot();
	}
	return slot;
}

static int con_send(int slot, unsigned len)
{
	struct gv_buf b = {
		.gpa = gv_gpa(slots + (size_t)slot * CON_SLOT_BYTES),
		.len = len,
	};

	if (gv_add(txq, &b, 1, (void *)(uintptr_t)(slot + 1)) != 0)
		return -ENOSPC;
	slot_busy[slot] = true;
	gv_kick(&con_dev, txq);
	con_reclaim();
	if (slot_busy[slot] &&
	    (gv_status(&con_dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		return -EIO;
	return 0;
}

static int con_out(const char *buf, unsigned len)
{
	int slot, err;

	mm_lock(&con_lock);
	if (!info.active) {
		mm_unlock(&con_lock);
		return -EIO;
	}
	con_reclaim();
	slot = con_wait_slot();
	if (slot < 0 || len > CON_SLOT_BYTES) {
		info.fallbacks++;
		mm_unlock(&con_lock);
		return -EBUSY;
	}
	memcpy(slots + (size_t)slot * CON_SLOT_BYTES, buf, len);
	err = con_send(slot, len);
	if (err == 0) {
		info.bytes += len;
		info.chains++;
	} else {
		info.fallbacks++;
		/* Not from inside the flush: set_output would flush again. */
		info.active = false;
	}
	mm_unlock(&con_lock);
	return err;
}

static int con_setup(void)
{
	int err = gv_probe(&con_dev, VIRTIO_ID_CONSOLE, 0);

	if (err)
		return err;
	err = gv_setup_queue(&con_dev, VIRTIO_CONSOLE_Q_TX, CON_Q_SIZE);
	if (err)
		return err;
	txq = &con_dev.vqs[VIRTIO_CONSOLE_Q_TX];
	txq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	/*
	 * Hosted: a reset released the device's DMA blocks, so allocate
	 * again. Native: the static pool is never freed; keep the slots.
	 */
	if (!slots || !guest_boot.native)
		slots = gv_dma_alloc(&con_dev, CON_SLOTS * CON_SLOT_BYTES);
	if (!slots)
		return -ENOMEM;
	for (int i = 0; i < CON_SLOTS; i++)
		slot_busy[i] = false;
	gv_driver_ok(&con_dev);
	return 0;
}

int gvcon_init(void)
{
	int err;

	gvcon_release();
	mm_lock(&con_lock);
	err = con_setup();
	info.active = err == 0;
	mm_unlock(&con_lock);
	if (err)
		return err;
	guest_console_set_output(con_out);
	return 0;
}

void gvcon_release(void)
{
	guest_console_set_output(NULL);
	mm_lock(&con_lock);
	info.active = false;
	mm_unlock(&con_lock);
}

void gvcon_drain(void)
{
	mm_lock(&con_lock);
	if (txq) {
		con_reclaim();
		for (unsigned long n = 0; con_any_busy() && n < CON_WAIT_SPINS;
		     n++) {
			__builtin_ia32_pause();
			con_reclaim();
		}
	}
	mm_unlock(&con_lock);
}

void gvcon_get_info(struct gvcon_info *out)
{
	mm_lock(&con_lock);
	*out = info;
	mm_unlock(&con_lock);
}

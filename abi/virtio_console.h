/* SPDX-License-Identifier: MIT */
/*
 * abi/virtio_console.h - virtio-console (virtio 1.x 5.3) constants shared by
 * the VMM device and the guest driver: port 0 only, no feature bits offered.
 * Plain C (the freestanding guest includes it). Window, pin and DMA id:
 * abi/layout.h.
 */
#ifndef ABI_VIRTIO_CONSOLE_H
#define ABI_VIRTIO_CONSOLE_H

/* Port 0's queues: receiveq 0, transmitq 1. */
#define VIRTIO_CONSOLE_Q_RX 0
#define VIRTIO_CONSOLE_Q_TX 1

#endif /* ABI_VIRTIO_CONSOLE_H */

/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio_vm_stats.h - the VM's virtio devices in `vmm run --stats`.
 */
#ifndef DEVICES_VIRTIO_VM_STATS_H
#define DEVICES_VIRTIO_VM_STATS_H

#include <stdio.h>

/**
 * virtio_vm_print_stats() - write the "== virtio ==" section: console bytes
 * received over the transmitq, the balloon's counters (bad PFNs refused,
 * deflates on OOM, reported pages, stats updates) and each device's
 * protocol errors. Thread-safe; prints nothing for absent devices.
 */
void virtio_vm_print_stats(FILE *out);

#endif /* DEVICES_VIRTIO_VM_STATS_H */

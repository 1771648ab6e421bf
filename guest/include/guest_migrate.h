/* SPDX-License-Identifier: MIT */
/*
 * guest/include/guest_migrate.h - the guest's side of migration.
 *
 * Hosted model (pvmem ABI 1.1, docs/hosted-memory.md "Migration"): the
 * host posts requests into a ring in shared memory; gmig_drain() takes
 * them without a VM exit, lets each frame's owner copy (movable buffers)
 * or swap (the balloon), answers the whole batch in one MIGRATE_ANSWER
 * doorbell and tells each owner the host's verdict. gmig_poll() is the
 * cheap check to call from loops (one load of the ring's head).
 *
 * Native model: gmig_compact() runs mm/'s compaction over the guest's own
 * buddy; movable buffers move synchronously through their owner.
 * vCPU 0 only.
 */
#ifndef GUEST_GUEST_MIGRATE_H
#define GUEST_GUEST_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/pvmem.h"

/*
 * Hosted: ask for the ring if the host has the feature (INFO). Idempotent.
 * Return: 0, -GUEST_ENODEV (native model or an ABI 1.0 host), or an error.
 */
int gmig_init(void);

/* The ring itself (the hostile workload writes it); NULL before init. */
struct pvmem_mig_ring *gmig_ring(void);

/* Requests waiting in the ring (no exit). */
unsigned gmig_poll(void);

/**
 * gmig_drain() - take every waiting request, let the owners act, answer in
 * one doorbell, apply the verdicts. Also applies the balloon-move log.
 * Return: requests handled.
 */
unsigned gmig_drain(void);

/*
 * Apply new balloon-move log entries through @swap (the balloon driver's
 * list update). Return: entries applied.
 */
unsigned gmig_apply_log(bool (*swap)(uint64_t src, uint64_t dst));

/*
 * Balloon owner (hosted, guest/virtio/balloon.c): is @src in the balloon?
 * Then the answer is 0 and, on the host's commit, @dst takes its place.
 * Weak default: not a balloon frame.
 */
bool gmig_balloon_has(uint64_t src);
bool gmig_balloon_swap(uint64_t src, uint64_t dst);

/**
 * gmig_compact() - native model: compact every zone of the guest's buddy
 * (mm_compact_zone(), order -1, sync) and sum what moved.
 * Return: 0 and *@migrated (frames), or -errno.
 */
int gmig_compact(uint64_t *migrated);

#endif /* GUEST_GUEST_MIGRATE_H */

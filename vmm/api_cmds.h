/* SPDX-License-Identifier: MIT */
/*
 * vmm/api_cmds.h - the control API's commands (docs/api.md): stat, balloon,
 * pause, resume, quit. The handlers see the VM only through struct
 * api_cmds_ctx, so unit tests can give them a page database, a fake balloon
 * and a VM without vCPUs, and no KVM.
 */
#ifndef VMM_API_CMDS_H
#define VMM_API_CMDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/api_balloon.h"

struct api_server;
struct mm;
struct vm;

struct api_cmds_ctx {
	struct vm *vm; /* required: pause/resume/quit, uptime, RAM */
	struct mm *mm; /* host page database; NULL: none */
	/* host.pvmem: the memory device's counters; NULL: null (none). */
	json_t *(*pvmem_stat)(void);
	/*
	 * Hosted model: take back the free frames the pvmem page rings hold
	 * for the guest (per-CPU lists one level up), as Linux drains its
	 * per-CPU lists for compaction; "compact" calls it first. Returns
	 * frames. NULL: nothing to drain.
	 */
	uint64_t (*drain_rings)(void);
	/* host.blk: the disks' counters (an array); NULL: [] (no disks). */
	json_t *(*blk_stat)(void);
	const struct api_balloon_ops *balloon; /* NULL: no balloon */
	/* The guest's published statistics text (vmm/guest_stats.h). */
	size_t (*guest_stats)(char *buf, size_t size); /* NULL: none */
	/* Bytes of guest RAM with host backing (NULL: not reported). */
	int (*ram_resident)(struct vm *vm, uint64_t *bytes);
	struct api_server *server; /* host.api; set by api_cmds_register() */
};

/**
 * api_cmds_register() - register every command on @srv.
 * @ctx: must outlive the server; its pointers are read at each request, so
 *       they may be filled in after registration but before
 *       api_server_start().
 * Return: 0 or a negative errno from api_register().
 */
int api_cmds_register(struct api_server *srv, struct api_cmds_ctx *ctx);

/**
 * api_cmds_balloon_target() - the balloon target a request asks for:
 * exactly one of "target_bytes" (a non-negative integer) or "target" (a
 * string: bytes or a size with K/M/G/T, vmm/cli.h), rounded DOWN to whole
 * 4 KiB pages, at most @ram_bytes.
 * Return: 0 and *@pages, or -EINVAL with a message in @msg.
 */
int api_cmds_balloon_target(json_t *args, uint64_t ram_bytes, uint64_t *pages,
			    char *msg, size_t msg_size);

/**
 * api_cmds_check_args() - -EINVAL (and a message naming it) if @args has a
 * key other than "cmd" and those in the NULL-terminated @allowed.
 */
int api_cmds_check_args(json_t *args, const char *const *allowed, char *msg,
			size_t msg_size);

#endif /* VMM_API_CMDS_H */

/* SPDX-License-Identifier: MIT */
/*
 * vmm/api_vm.h - `vmm run --api PATH`: the control socket of a running VM,
 * its commands (vmm/api_cmds.h) wired to the VM's page database, pvmem
 * device, balloon and published guest statistics.
 */
#ifndef VMM_API_VM_H
#define VMM_API_VM_H

#include <jansson.h>
#include <stdint.h>

#include "vmm/api_balloon.h"

struct api_server;
struct vm;

/*
 * The devices' parts of the API, registered by their inits before
 * api_vm_start() and withdrawn (NULL) by their exits: the balloon (without
 * one, "balloon" answers -ENODEV) and the memory device's counters for
 * "stat" (host.pvmem; null without one).
 */
void api_vm_set_balloon(const struct api_balloon_ops *ops);
void api_vm_set_pvmem_stat(json_t *(*stat)(void));
/* The page rings' drain that "compact" runs first (api_cmds_ctx). */
void api_vm_set_pvmem_drain(uint64_t (*drain)(void));
/* The disks' counters for "stat" (host.blk: an array, [] without disks). */
void api_vm_set_blk_stat(json_t *(*stat)(void));

/**
 * api_vm_start() - listen on @vm->cfg.api_path (mode 0600) and serve the
 * commands. Call after vm_create(), before vm_run(): the socket exists before
 * any vCPU runs. Prints why on failure (a live socket: another VMM).
 * Return: 0 and *@out (stop with api_vm_stop()), or a negative errno.
 */
int api_vm_start(struct vm *vm, struct api_server **out);

/*
 * Stop serving and remove the socket. Call after vm_run(), before
 * vm_destroy(): handlers use the VM's devices. NULL is a no-op.
 */
void api_vm_stop(struct api_server *srv);

#endif /* VMM_API_VM_H */

// SPDX-License-Identifier: MIT
/* vmm/api_vm.c - the control socket of a running VM (api_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/api.h"
#include "vmm/api_cmds.h"
#include "vmm/api_vm.h"
#include "vmm/cli.h"
#include "vmm/frame_db.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

/*
 * One VM per process, as for the devices: the context lives here, and the
 * devices' parts of it are registered by their inits.
 */
static struct api_cmds_ctx api_vm_ctx;
static const struct api_balloon_ops *api_vm_balloon;
static json_t *(*api_vm_pvmem_stat)(void);
static uint64_t (*api_vm_pvmem_drain)(void);
static json_t *(*api_vm_blk_stat)(void);

void api_vm_set_balloon(const struct api_balloon_ops *ops)
{
	api_vm_balloon = ops;
}

void api_vm_set_pvmem_stat(json_t *(*stat)(void))
{
	api_vm_pvmem_stat = stat;
}

void api_vm_set_pvmem_drain(uint64_t (*drain)(void))
{
	api_vm_pvmem_drain = drain;
}

void api_vm_set_blk_stat(json_t *(*stat)(void))
{
	api_vm_blk_stat = stat;
}

static int api_vm_ram_resident(struct vm *vm, uint64_t *bytes)
{
	return vm_stats_ram_resident(&vm->mem, bytes);
}

int api_vm_start(struct vm *vm, struct api_server **out)
{
	struct frame_db *fdb = vm->frame_db;
	struct api_server *srv;
	int err;

	api_vm_ctx = (struct api_cmds_ctx){
		.vm = vm,
		.mm = fdb ? frame_db_mm(fdb) : NULL,
		.pvmem_stat = api_vm_pvmem_stat,
		.drain_rings = api_vm_pvmem_drain,
		.blk_stat = api_vm_blk_stat,
		.balloon = api_vm_balloon,
		.guest_stats = guest_stats_copy,
		.ram_resident = api_vm_ram_resident,
	};
	err = api_server_create(&srv, vm->cfg.api_path);
	if (err) {
		fprintf(stderr, "vmm: --api %s: %s%s\n",
			CLI_Q(vm->cfg.api_path), strerror(-err),
			err == -EADDRINUSE ? " (another VMM serves it)"
			: err == -EEXIST   ? " (a file that is not a socket)"
					   : "");
		return err;
	}
	err = api_cmds_register(srv, &api_vm_ctx);
	if (!err)
		err = api_server_start(srv);
	if (err) {
		fprintf(stderr, "vmm: control API: %s\n", strerror(-err));
		api_server_destroy(srv);
		return err;
	}
	*out = srv;
	return 0;
}

void api_vm_stop(struct api_server *srv)
{
	api_server_destroy(srv);
}

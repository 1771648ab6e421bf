// SPDX-License-Identifier: MIT
/* vmm/api_vm.c - the control socket of a running VM (api_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/pvmem_vm.h"
#include "devices/virtio_balloon.h"
#include "vmm/api.h"
#include "vmm/api_cmds.h"
#include "vmm/api_vm.h"
#include "vmm/guest_stats.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

static const struct api_balloon_ops api_vm_balloon_ops = {
	.set_target = virtio_balloon_set_target,
	.get_status = virtio_balloon_get_status,
	.stat_name = virtio_balloon_stat_name,
};

/* One VM per process, as for the devices: the context lives here. */
static struct api_cmds_ctx api_vm_ctx;

static int api_vm_ram_resident(struct vm *vm, uint64_t *bytes)
{
	return vm_stats_ram_resident(&vm->mem, bytes);
}

/* The balloon is optional: without one, "balloon" answers -ENODEV. */
static const struct api_balloon_ops *api_vm_balloon(void)
{
	struct balloon_status st;

	virtio_balloon_get_status(&st);
	return st.present ? &api_vm_balloon_ops : NULL;
}

int api_vm_start(struct vm *vm, struct api_server **out)
{
	struct frame_db *fdb = vm->frame_db;
	struct api_server *srv;
	int err;

	api_vm_ctx = (struct api_cmds_ctx){
		.vm = vm,
		.mm = fdb ? frame_db_mm(fdb) : NULL,
		.pvmem = pvmem_vm_device(),
		.balloon = api_vm_balloon(),
		.guest_stats = guest_stats_copy,
		.ram_resident = api_vm_ram_resident,
	};
	err = api_server_create(&srv, vm->cfg.api_path);
	if (err) {
		fprintf(stderr, "vmm: --api %s: %s%s\n", vm->cfg.api_path,
			strerror(-err),
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

// SPDX-License-Identifier: MIT
/* devices/pvmem_vm.c - the pvmem device in a running VM (pvmem_vm.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/pvmem_vm.h"
#include "mm/mm.h"
#include "vmm/api_vm.h"
#include "vmm/bus.h"
#include "vmm/frame_db.h"
#include "vmm/stat_fields.h"
#include "vmm/vm.h"
#include "vmm/vm_stats.h"

static struct pvmem *vm_pvmem;

/* The control API's host.pvmem (docs/api.md), in its own order. */
static const struct stat_field pvmem_vm_api_fields[] = {
	STAT_FIELD(struct pvmem_host_stats, max_pages),
	STAT_FIELD(struct pvmem_host_stats, tot_pages),
	STAT_FIELD(struct pvmem_host_stats, doorbells),
	STAT_FIELD(struct pvmem_host_stats, pages_granted),
	STAT_FIELD(struct pvmem_host_stats, pages_freed),
	STAT_FIELD(struct pvmem_host_stats, edquot),
	STAT_FIELD(struct pvmem_host_stats, dma_pages),
	STAT_FIELD(struct pvmem_host_stats, reported),
};

static const struct stat_table pvmem_vm_api_table =
	STAT_TABLE(pvmem_vm_api_fields);

static json_t *pvmem_vm_api_stat(void)
{
	struct pvmem_migrate_stats m;
	struct pvmem_ring_stats rs;
	struct pvmem_host_stats st;
	json_t *obj;

	pvmem_get_stats(vm_pvmem, &st);
	pvmem_migrate_get_stats(pvmem_migration(vm_pvmem), &m);
	pvmem_rings_get_stats(pvmem_rings(vm_pvmem), &rs);
	obj = stat_fields_json(&pvmem_vm_api_table, &st);
	if (obj && (json_object_set_new(
			    obj, "migrate",
			    stat_fields_json(&pvmem_migrate_stat_table, &m)) ||
		    json_object_set_new(
			    obj, "ring",
			    stat_fields_json(&pvmem_ring_stat_table, &rs)))) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

/* "compact" first takes back what the page rings hold (api_cmds.h). */
static uint64_t pvmem_vm_drain_rings(void)
{
	return pvmem_rings_reclaim(pvmem_rings(vm_pvmem));
}

/* Migration requests waited half their timeout: wake the guest. */
static void pvmem_vm_mig_notify(void *opaque)
{
	vm_irq_line(opaque, PVMEM_MIG_IRQ, 1);
	vm_irq_line(opaque, PVMEM_MIG_IRQ, 0);
}

/* A paused guest's ballooned frames move without it (pvmem_migrate.h). */
static void pvmem_vm_pause_hook(void *opaque, bool paused)
{
	pvmem_migrate_set_paused(pvmem_migration(opaque), paused);
}

int pvmem_vm_dev_init(struct vm *vm)
{
	/* --mem-limit (bytes, 0: all RAM) is the page limit max_pages. */
	struct pvmem_config cfg = {
		.max_pages = vm->cfg.mem_limit >> 12,
		.mig = {.notify = pvmem_vm_mig_notify, .notify_opaque = vm},
		.rings = {.thread = true},
	};
	struct pvmem *p;
	int err;

	if (vm->cfg.memory_model != VM_MEMORY_HOSTED)
		return 0;
	err = pvmem_create(&p, vm->frame_db, &cfg);
	if (err)
		goto fail;
	err = bus_register(vm->bus, BUS_MMIO, PVMEM_MMIO_BASE, PVMEM_MMIO_SIZE,
			   pvmem_pio_handler, p);
	if (err)
		goto fail_destroy;
	err = bus_register(vm->bus, BUS_PIO, PVMEM_PORT, PVMEM_PORT_SIZE,
			   pvmem_pio_handler, p);
	if (err)
		goto fail_destroy;
	vm_pvmem = p;
	vm_set_pause_hook(vm, pvmem_vm_pause_hook, p);
	api_vm_set_pvmem_stat(pvmem_vm_api_stat);
	api_vm_set_pvmem_drain(pvmem_vm_drain_rings);
	return 0;

	/*
	 * The bus cannot take a range back; a failed init ends the VM before
	 * any vCPU runs, and the bus goes with it.
	 */
fail_destroy:
	pvmem_destroy(p);
fail:
	fprintf(stderr, "vmm: pvmem device: %s\n", strerror(-err));
	return err;
}

/* The bus has no unregister: it goes away with the VM, after the device. */
void pvmem_vm_dev_exit(struct vm *vm)
{
	api_vm_set_pvmem_stat(NULL);
	api_vm_set_pvmem_drain(NULL);
	vm_set_pause_hook(vm, NULL, NULL);
	pvmem_destroy(vm_pvmem);
	vm_pvmem = NULL;
}

struct pvmem *pvmem_vm_device(void)
{
	return vm_pvmem;
}

static int pvmem_vm_format(void *opaque, char *buf, size_t size)
{
	return pvmem_format_stats(opaque, buf, size);
}

/* --stats: the device's counters, and the guest's pages in host memory. */
static void pvmem_vm_print(struct vm *vm, enum vm_stats_place place, FILE *out)
{
	if (!vm_pvmem)
		return;
	/* The VM has stopped: the rings' frames are no longer the guest's. */
	pvmem_rings_quiesce(pvmem_rings(vm_pvmem));
	if (place == VM_STATS_SECTIONS)
		vm_stats_print_text(out, "pvmem", pvmem_vm_format, vm_pvmem);
	else if (place == VM_STATS_HOST_MEMORY)
		fprintf(out, "guest_held_bytes %llu\n",
			(unsigned long long)(pvmem_tot_pages(vm_pvmem) << 12));
}

/* --check: what the device charged is what the database holds for it. */
static int pvmem_vm_check(struct vm *vm)
{
	struct mm_stats st;
	char why[160];
	uint64_t tot;

	if (!vm_pvmem)
		return 0;
	pvmem_rings_quiesce(pvmem_rings(vm_pvmem));
	if (pvmem_rings_check(pvmem_rings(vm_pvmem), why, sizeof(why))) {
		fprintf(stderr, "vmm: --check: %s\n", why);
		return -EUCLEAN;
	}
	mm_get_stats(frame_db_mm(vm->frame_db), &st);
	tot = pvmem_tot_pages(vm_pvmem);
	if (tot == st.frames[FRAME_GUEST] + st.frames[FRAME_DMA])
		return 0;
	fprintf(stderr,
		"vmm: --check: tot_pages %llu != GUEST %llu + DMA %llu "
		"frames\n",
		(unsigned long long)tot,
		(unsigned long long)st.frames[FRAME_GUEST],
		(unsigned long long)st.frames[FRAME_DMA]);
	return -EUCLEAN;
}

const struct vm_stats_ops pvmem_vm_stats = {
	.print = pvmem_vm_print,
	.check = pvmem_vm_check,
};

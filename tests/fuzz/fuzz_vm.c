// SPDX-License-Identifier: MIT
/* tests/fuzz/fuzz_vm.c - a VM without KVM, its guest, a virtio driver. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi/virtio.h"
#include "tests/fuzz/fuzz_vm.h"

/* The mm's metadata: [mm, mm + size) is all it ever writes. */
static size_t fuzz_vm_meta_bytes(const struct guest_mem *mem)
{
	struct mm_range ranges[GUEST_MEM_MAX_REGIONS];
	struct mm_config mc = {.ranges = ranges, .nr_ranges = mem->nr_regions};

	for (unsigned i = 0; i < mem->nr_regions; i++)
		ranges[i] = (struct mm_range){
			.start_pfn = mem->regions[i].gpa / 4096,
			.end_pfn =
				(mem->regions[i].gpa + mem->regions[i].size) /
				4096};
	return mm_meta_size(&mc);
}

static void *fuzz_vm_save(struct fuzz_vm *vm, struct mm_stats *st)
{
	void *copy = malloc(vm->meta_bytes);

	FUZZ_ASSERT(copy, "malloc %zu bytes of page database", vm->meta_bytes);
	memcpy(copy, vm->mm, vm->meta_bytes);
	mm_get_stats(vm->mm, st);
	return copy;
}

void fuzz_vm_init(struct fuzz_vm *vm, uint64_t low_bytes, uint64_t high_bytes)
{
	struct frame_db_config hc = {.kernel_end = FUZZ_VM_KERNEL_END};

	memset(vm, 0, sizeof(*vm));
	fuzz_ram_init(&vm->mem, low_bytes, high_bytes);
	vm->ram_pages = vm->mem.size / 4096;
	FUZZ_ASSERT(frame_db_create(&vm->fdb, &vm->mem, &hc) == 0,
		    "frame_db_create");
	vm->mm = frame_db_mm(vm->fdb);
	/*
	 * RAM is wiped before each input, so no free frame has backing: say
	 * so, and a __GFP_ZERO allocation skips zeroing frames that read as
	 * zero (the harness's zero checks then read them).
	 */
	mm_mark_free_unbacked(vm->mm);
	vm->meta_bytes = fuzz_vm_meta_bytes(&vm->mem);
	FUZZ_ASSERT(vm->meta_bytes, "mm_meta_size");
	vm->fresh[0] = fuzz_vm_save(vm, &vm->fresh_stats[0]);
	FUZZ_ASSERT(frame_db_give_all(vm->fdb) == 0, "frame_db_give_all");
	vm->fresh[1] = fuzz_vm_save(vm, &vm->fresh_stats[1]);
	fuzz_check_mm(vm->mm, "native start");
	memcpy(vm->mm, vm->fresh[0], vm->meta_bytes);
	fuzz_check_mm(vm->mm, "hosted start");
}

/* Text of @mm's buddyinfo, pagetypeinfo and zoneinfo, into @buf. */
static void fuzz_vm_describe(struct mm *mm, char *buf, size_t size)
{
	int n = mm_format_buddyinfo(mm, buf, size);

	FUZZ_ASSERT(n >= 0 && (size_t)n < size, "buddyinfo");
	n += mm_format_pagetypeinfo(mm, buf + n, size - (size_t)n);
	FUZZ_ASSERT((size_t)n < size, "pagetypeinfo");
	n += mm_format_zoneinfo(mm, buf + n, size - (size_t)n);
	FUZZ_ASSERT((size_t)n < size, "zoneinfo");
}

/*
 * FUZZ_VM_VERIFY=1: after each restore, build a new page database over
 * the same RAM and compare: the frame and pageblock tables byte for byte
 * (their links are frame indexes, so they do not depend on where the
 * metadata lives), the allocator's text views and its counters.
 */
static void fuzz_vm_verify(struct fuzz_vm *vm, bool native)
{
	static char a[1 << 16], b[1 << 16];
	struct frame_db_config hc = {.kernel_end = FUZZ_VM_KERNEL_END};
	struct frame_db *fdb;
	struct mm *mm;
	struct mm_stats sa, sb;
	size_t off;

	FUZZ_ASSERT(frame_db_create(&fdb, &vm->mem, &hc) == 0,
		    "frame_db_create");
	mm_mark_free_unbacked(frame_db_mm(fdb));
	if (native)
		FUZZ_ASSERT(frame_db_give_all(fdb) == 0, "frame_db_give_all");
	mm = frame_db_mm(fdb);
	off = (size_t)((const char *)mm_pfn_to_page(vm->mm, 0) -
		       (const char *)vm->mm);
	FUZZ_ASSERT(!memcmp((char *)vm->mm + off, (char *)mm + off,
			    vm->meta_bytes - off),
		    "restored frame tables differ from a new database's");
	fuzz_vm_describe(vm->mm, a, sizeof(a));
	fuzz_vm_describe(mm, b, sizeof(b));
	FUZZ_ASSERT(!strcmp(a, b), "restored database reads differently");
	mm_get_stats(vm->mm, &sa);
	mm_get_stats(mm, &sb);
	FUZZ_ASSERT(!memcmp(&sa, &sb, sizeof(sa)),
		    "restored database counts differently");
	frame_db_destroy(fdb);
}

void fuzz_vm_restore(struct fuzz_vm *vm, bool native)
{
	static int verify = -1;
	struct mm_stats st;

	if (verify < 0)
		verify = getenv("FUZZ_VM_VERIFY") &&
			 !strcmp(getenv("FUZZ_VM_VERIFY"), "1");
	memcpy(vm->mm, vm->fresh[native], vm->meta_bytes);
	mm_get_stats(vm->mm, &st);
	FUZZ_ASSERT(!memcmp(&st, &vm->fresh_stats[native], sizeof(st)),
		    "restored page database differs from a new one");
	if (verify)
		fuzz_vm_verify(vm, native);
	fuzz_ram_wipe(&vm->mem);
	FUZZ_ASSERT(fuzz_ram_resident(&vm->mem) == 0,
		    "guest RAM still resident after the wipe");
}

void fuzz_vm_start(struct fuzz_vm *vm, bool hosted,
		   const struct pvmem_config *cfg)
{
	fuzz_vm_restore(vm, !hosted);
	vm->pv = NULL;
	if (hosted)
		FUZZ_ASSERT(pvmem_create(&vm->pv, vm->fdb, cfg) == 0,
			    "pvmem_create");
}

void fuzz_vm_stop(struct fuzz_vm *vm)
{
	pvmem_destroy(vm->pv);
	vm->pv = NULL;
}

/* One request in the block, rung; returns the request (results in it). */
static struct pvmem_req *fuzz_vm_ring(struct fuzz_vm *vm,
				      const struct pvmem_req *req)
{
	struct pvmem_block *b =
		fuzz_ram_ptr(&vm->mem, FUZZ_VM_BLOCK_GPA, sizeof(*b));

	memset(&b->hdr, 0, sizeof(b->hdr));
	b->hdr.magic = PVMEM_MAGIC;
	b->hdr.abi_major = PVMEM_ABI_MAJOR;
	b->hdr.abi_minor = PVMEM_ABI_MINOR;
	b->hdr.nr_reqs = 1;
	b->reqs[0] = *req;
	b->reqs[0].status = PVMEM_PENDING;
	FUZZ_ASSERT(pvmem_doorbell(vm->pv, FUZZ_VM_BLOCK_GPA) == 0,
		    "the guest's own block was refused");
	return &b->reqs[0];
}

unsigned fuzz_vm_alloc(struct fuzz_vm *vm, uint32_t gfp, unsigned order,
		       unsigned count, uint64_t *pfns)
{
	struct pvmem_req req = {.op = PVMEM_OP_ALLOC,
				.order = (uint8_t)order,
				.gfp = gfp,
				.count = count,
				.addr = FUZZ_VM_ARRAY_GPA};
	const struct pvmem_req *r;

	if (!vm->pv || !count || count > PVMEM_MAX_COUNT)
		return 0;
	r = fuzz_vm_ring(vm, &req);
	FUZZ_ASSERT(r->done <= count, "ALLOC granted %u of %u", r->done, count);
	memcpy(pfns, fuzz_ram_ptr(&vm->mem, FUZZ_VM_ARRAY_GPA, 8 * count),
	       r->done * sizeof(*pfns));
	return r->done;
}

int fuzz_vm_free(struct fuzz_vm *vm, uint64_t pfn, unsigned order)
{
	struct pvmem_free_ent *e =
		fuzz_ram_ptr(&vm->mem, FUZZ_VM_ARRAY_GPA, sizeof(*e));
	struct pvmem_req req = {
		.op = PVMEM_OP_FREE, .count = 1, .addr = FUZZ_VM_ARRAY_GPA};

	if (!vm->pv)
		return -ENODEV;
	*e = (struct pvmem_free_ent){.pfn = pfn, .order = order};
	return fuzz_vm_ring(vm, &req)->status;
}

int fuzz_vm_dma_alloc(struct fuzz_vm *vm, uint32_t device_id, uint64_t size,
		      uint64_t *gpa)
{
	struct pvmem_req req = {.op = PVMEM_OP_DMA_ALLOC,
				.dma_bits = 64,
				.device_id = device_id,
				.size = size};
	const struct pvmem_req *r;

	if (!vm->pv)
		return -ENODEV;
	r = fuzz_vm_ring(vm, &req);
	*gpa = r->result;
	return r->status;
}

void fuzz_vm_check(struct fuzz_vm *vm, const char *what)
{
	struct pvmem_host_stats hs;
	struct mm_stats st;

	fuzz_check_mm(vm->mm, what);
	fuzz_check_released_zero(vm->mm, &vm->mem);
	if (!vm->pv)
		return;
	mm_get_stats(vm->mm, &st);
	pvmem_get_stats(vm->pv, &hs);
	FUZZ_ASSERT(hs.tot_pages ==
			    st.frames[FRAME_GUEST] + st.frames[FRAME_DMA],
		    "%s: tot_pages %llu != GUEST %llu + DMA %llu", what,
		    (unsigned long long)hs.tot_pages,
		    (unsigned long long)st.frames[FRAME_GUEST],
		    (unsigned long long)st.frames[FRAME_DMA]);
	FUZZ_ASSERT(hs.pages_granted - hs.pages_freed ==
			    hs.tot_pages + st.frames[FRAME_BALLOON],
		    "%s: granted %llu - freed %llu != tot %llu + BALLOON %llu",
		    what, (unsigned long long)hs.pages_granted,
		    (unsigned long long)hs.pages_freed,
		    (unsigned long long)hs.tot_pages,
		    (unsigned long long)st.frames[FRAME_BALLOON]);
}

void fuzz_vm_check_dma(struct fuzz_vm *vm, uint32_t device_id)
{
	uint64_t nr_dma = 0, mapped;

	if (!vm->pv)
		return;
	for (unsigned r = 0; r < vm->mem.nr_regions; r++) {
		uint64_t first = vm->mem.regions[r].gpa >> 12;
		uint64_t nr = vm->mem.regions[r].size >> 12;
		const struct page *base = mm_pfn_to_page(vm->mm, first);

		for (uint64_t i = 0; i < nr; i++) {
			uint64_t pfn = first + i;

			if (base[i].state != FRAME_DMA ||
			    base[i].owner != device_id)
				continue;
			FUZZ_ASSERT(pvmem_dma_contains(vm->pv, device_id,
						       pfn << 12, 4096),
				    "frame %#llx: DMA of device %u, not in its "
				    "registry",
				    (unsigned long long)pfn, device_id);
			nr_dma++;
		}
	}
	/* Each of them is in it: no room left for any other frame. */
	mapped = pvmem_dma_device_pages(vm->pv, device_id);
	FUZZ_ASSERT(mapped == nr_dma,
		    "device %u: the registry maps %llu frames, %llu are its "
		    "DMA frames",
		    device_id, (unsigned long long)mapped,
		    (unsigned long long)nr_dma);
}

/* The driver ---------------------------------------------------------- */

void fuzz_vm_irq(void *opaque, uint32_t irq, bool level)
{
	if (level && opaque)
		(*(unsigned *)opaque)++;
}

void fuzz_vm_log(void *opaque, const char *line)
{
}

int fuzz_mmio_read(struct virtio_mmio_dev *dev, uint64_t off, uint32_t *val)
{
	return virtio_mmio_access(dev, off, val, 4, false);
}

int fuzz_mmio_write(struct virtio_mmio_dev *dev, uint64_t off, uint32_t val)
{
	return virtio_mmio_access(dev, off, &val, 4, true);
}

static uint64_t q_desc(const struct fuzz_vdrv *d, unsigned q)
{
	return d->area + q * (uint64_t)FUZZ_VDRV_QUEUE_BYTES;
}

static struct virtq_desc *q_desc_ptr(struct fuzz_vdrv *d, unsigned q)
{
	return fuzz_ram_ptr(&d->vm->mem, q_desc(d, q),
			    VIRTQ_DESC_BYTES(d->qsize));
}

static struct virtq_avail *q_avail(struct fuzz_vdrv *d, unsigned q)
{
	return fuzz_ram_ptr(&d->vm->mem, q_desc(d, q) + 4096,
			    VIRTQ_AVAIL_BYTES(d->qsize));
}

struct virtq_used *fuzz_vdrv_used(struct fuzz_vdrv *d, unsigned q)
{
	return fuzz_ram_ptr(&d->vm->mem, q_desc(d, q) + 8192,
			    VIRTQ_USED_BYTES(d->qsize));
}

uint16_t fuzz_vdrv_used_idx(struct fuzz_vdrv *d, unsigned q)
{
	return __atomic_load_n(&fuzz_vdrv_used(d, q)->idx, __ATOMIC_ACQUIRE);
}

static int setup_queue(struct fuzz_vdrv *d, unsigned q)
{
	struct virtio_mmio_dev *dev = d->dev;
	uint64_t desc = q_desc(d, q);
	uint32_t max = 0, ready = 0;

	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, q);
	fuzz_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX, &max);
	if (max < d->qsize)
		return -EIO;
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, d->qsize);
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
			(uint32_t)(desc + 4096));
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, desc >> 32);
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
			(uint32_t)(desc + 8192));
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, desc >> 32);
	fuzz_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	fuzz_mmio_read(dev, VIRTIO_MMIO_QUEUE_READY, &ready);
	return ready == 1 ? 0 : -EIO;
}

int fuzz_vdrv_start(struct fuzz_vdrv *d, struct fuzz_vm *vm,
		    struct virtio_mmio_dev *dev, uint64_t area,
		    uint64_t features, unsigned nr_queues, uint16_t qsize)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint32_t got = 0;

	FUZZ_ASSERT(qsize && qsize <= 256 && !(qsize & (qsize - 1)) &&
			    nr_queues <= VIRTIO_MMIO_MAX_QUEUES,
		    "fuzz_vdrv_start: bad queue set-up");
	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->dev = dev;
	d->area = area;
	d->qsize = qsize;
	d->nr_queues = nr_queues;
	memset(fuzz_ram_ptr(&vm->mem, area, nr_queues * FUZZ_VDRV_QUEUE_BYTES),
	       0, nr_queues * FUZZ_VDRV_QUEUE_BYTES);
	fuzz_mmio_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	fuzz_mmio_write(dev, VIRTIO_MMIO_STATUS, st);
	fuzz_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fuzz_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	fuzz_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fuzz_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	st |= VIRTIO_STATUS_FEATURES_OK;
	fuzz_mmio_write(dev, VIRTIO_MMIO_STATUS, st);
	fuzz_mmio_read(dev, VIRTIO_MMIO_STATUS, &got);
	if (got != st)
		return -EIO;
	for (unsigned q = 0; q < nr_queues; q++)
		if (setup_queue(d, q))
			return -EIO;
	fuzz_mmio_write(dev, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

uint16_t fuzz_vdrv_post(struct fuzz_vdrv *d, unsigned q,
			const struct fuzz_vbuf *bufs, unsigned n)
{
	struct virtq_desc *desc = q_desc_ptr(d, q);
	struct virtq_avail *av = q_avail(d, q);
	uint16_t head = d->next[q] % d->qsize;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % d->qsize);

		desc[at] = (struct virtq_desc){
			.addr = bufs[i].gpa,
			.len = bufs[i].len,
			.flags =
				(uint16_t)((bufs[i].write ? VIRTQ_DESC_F_WRITE
							  : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((at + 1) % d->qsize),
		};
	}
	d->next[q] = (uint16_t)((head + (n ? n : 1)) % d->qsize);
	av->ring[d->avail[q] % d->qsize] = head;
	__atomic_store_n(&av->idx, ++d->avail[q], __ATOMIC_RELEASE);
	return head;
}

void fuzz_vdrv_kick(struct fuzz_vdrv *d, unsigned q)
{
	fuzz_mmio_write(d->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

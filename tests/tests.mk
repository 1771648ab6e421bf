# tests/: Check unit tests (one binary, every suite, built plain and with
# ASan+UBSan), the KVM integration tests (tests/integration/run.sh) and the
# benchmarks `make bench` runs. docs/testing.md says how they are organised.

# Unit tests of mm/: the page allocator (fixture, suites, model test,
# discard, per-CPU lists) and the slab layer over a host arena page source.
UNIT_SRCS += tests/unit/buddy_fx.c
UNIT_SRCS += tests/unit/test_buddy.c
UNIT_SRCS += tests/unit/test_migratetype.c
UNIT_SRCS += tests/unit/test_buddy_model.c
UNIT_SRCS += tests/unit/test_buddy_discard.c
UNIT_SRCS += tests/unit/test_buddy_pcp.c
UNIT_SRCS += tests/unit/compaction_fx.c
UNIT_SRCS += tests/unit/test_migrate.c
UNIT_SRCS += tests/unit/test_compaction.c
UNIT_SRCS += tests/unit/test_cma.c
UNIT_SRCS += tests/unit/host_page_source.c
UNIT_SRCS += tests/unit/slab_fx.c
UNIT_SRCS += tests/unit/test_slab.c
UNIT_SRCS += tests/unit/test_slab_debug.c
UNIT_SRCS += tests/unit/test_kmalloc.c
UNIT_SRCS += tests/unit/test_mempool.c

# Unit tests of devices/: pvmem, the virtio transport and devices.
UNIT_SRCS += tests/unit/pvmem_fx.c
UNIT_SRCS += tests/unit/test_pvmem.c
UNIT_SRCS += tests/unit/test_pvmem_hostile.c
UNIT_SRCS += tests/unit/test_pvmem_migrate.c
UNIT_SRCS += tests/unit/test_pvmem_contig.c
UNIT_SRCS += tests/unit/test_pvmem_ring.c
UNIT_SRCS += tests/unit/test_compact_cli.c
UNIT_SRCS += tests/unit/virtq_ring_fx.c
UNIT_SRCS += tests/unit/test_virtq.c
UNIT_SRCS += tests/unit/test_virtq_hostile.c
UNIT_SRCS += tests/unit/test_virtio_mmio.c
UNIT_SRCS += tests/unit/test_virtio_balloon.c
UNIT_SRCS += tests/unit/test_virtio_console.c
UNIT_SRCS += tests/unit/test_virtio_blk.c
UNIT_SRCS += tests/unit/test_blk_uring.c

# Unit tests of guest/ code that builds on the host too: the virtio-pci
# capability walk over synthetic configuration spaces.
UNIT_SRCS += tests/unit/test_virtio_pci_caps.c
UNIT_SRCS += guest/virtio/pci_caps.c
# ... and what the guest accepts from a PVH loader (QEMU).
UNIT_SRCS += tests/unit/test_pvh_parse.c
UNIT_SRCS += guest/pvh_parse.c

# Unit tests of vmm/: CLI, ELF loader, boot, hosted-model options, the API.
UNIT_SRCS += tests/unit/cli_fx.c
UNIT_SRCS += tests/unit/test_vmm_cli.c
UNIT_SRCS += tests/unit/test_vmm_elf.c
UNIT_SRCS += tests/unit/test_vmm_boot.c
UNIT_SRCS += tests/unit/test_vmm_hosted.c
UNIT_SRCS += tests/unit/test_api.c
UNIT_SRCS += tests/unit/test_api_buf.c
UNIT_SRCS += tests/unit/test_api_cmds.c
UNIT_SRCS += tests/unit/test_api_cmds_cli.c
UNIT_SRCS += tests/unit/test_api_cmds_native.c

# Unit tests of guest/ code built for the host: the boot device tree reader.
UNIT_SRCS += guest/boot_fdt.c
UNIT_SRCS += tests/unit/test_boot_fdt.c

# The Check runner.
UNIT_SRCS += tests/unit/main.c
UNIT_SRCS += tests/unit/test_fmt.c

# Helpers of the integration tests: build/tests/<name> from test_<name>_SRCS.
# blk_image checks a disk image's bytes against the seeded pattern.
TEST_PROGS += blk_image
test_blk_image_SRCS := tests/integration/blk_image.c

# Benchmarks: build/bench/<name> from bench_<name>_SRCS, linked with the host
# library by the one rule in the Makefile; run in this order.
BENCHES += page_alloc
bench_page_alloc_SRCS := tests/bench/bench_page_alloc.c
BENCHES += compaction
bench_compaction_SRCS := tests/bench/bench_compaction.c tests/unit/compaction_fx.c
BENCHES += pvmem
bench_pvmem_SRCS := tests/bench/bench_pvmem.c
BENCHES += slab
bench_slab_SRCS := tests/bench/bench_slab.c tests/unit/host_page_source.c
BENCHES += virtq
bench_virtq_SRCS := tests/bench/bench_virtq.c
BENCHES += boot
bench_boot_SRCS := tests/bench/boot_bench.c

# Benchmarks under KVM, run after the programs: the hosted model end to end
# (ns/page through pvmem, RSS after frees), a 1 GiB balloon inflate, and
# virtio-blk throughput and IOPS from the guest beside fio on the host, and
# the control API's stat round trip beside hostile clients.
BENCH_SCRIPTS += tests/bench/hosted_bench.sh
BENCH_SCRIPTS += tests/bench/balloon_bench.sh
BENCH_SCRIPTS += tests/bench/blk_bench.sh
BENCH_SCRIPTS += tests/bench/contig_bench.sh
BENCH_SCRIPTS += tests/bench/api_bench.sh
BENCH_SCRIPTS += tests/bench/seccomp_bench.sh

# tests/virtio.mk: unit tests of the virtio-mmio transport and virtqueues.
UNIT_SRCS += tests/unit/test_virtq_ring.c
UNIT_SRCS += tests/unit/test_virtq.c
UNIT_SRCS += tests/unit/test_virtq_hostile.c
UNIT_SRCS += tests/unit/test_virtio_mmio.c

# Benchmark: the device-side cost of a virtqueue chain (no KVM needed).
BENCH_PROGS += $(BUILD)/bench/bench_virtq
$(BUILD)/bench/bench_virtq: $(BUILD)/host/tests/bench/bench_virtq.o \
			    $(BUILD)/host/libbuddyvm.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(VMM_LIBS)

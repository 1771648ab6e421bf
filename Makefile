# buddyvm build.
#
# Three object trees, one per compiler setting, all under build/:
#   build/host/   host code (VMM, devices, mm/ for the VMM, unit tests, benches)
#   build/asan/   the same host code with ASan+UBSan, for the sanitizer run
#   build/guest/  the freestanding guest kernel (and mm/ compiled for it)
# Each directory lists its sources in its own *.mk fragments, one file per
# line, so that adding a file touches only its own fragment.
#
# make            build the VMM and the guest
# make test       unit tests (plain and sanitized) and the KVM integration tests
# make bench      benchmarks (tables on stdout)
# make format     reformat with clang-format;  make format-check  checks only
# make V=1        show full commands

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

BUILD ?= build
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

CC ?= cc
GUEST_CC ?= $(CC)
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wno-unused-parameter -Wvla -Wformat=2
COMMON_CFLAGS := -std=c11 -g $(WARNINGS) -MMD -MP -I.
HOST_DEFS := -D_GNU_SOURCE -DMM_PORT_HOST -Imm/host
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

HOST_CFLAGS := $(COMMON_CFLAGS) $(HOST_DEFS) -O2 -pthread $(CFLAGS)
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	      -fno-omit-frame-pointer
ASAN_CFLAGS := $(COMMON_CFLAGS) $(HOST_DEFS) -O1 -pthread $(ASAN_FLAGS) $(CFLAGS)
HOST_LDFLAGS := -pthread $(LDFLAGS)
# The VMM links statically (libfdt, jansson and libc from Debian's .a files):
# a VMM's own memory is overhead on every VM, and a static binary touches
# about half the pages the shared libraries did. VMM_LDFLAGS= links it
# dynamically.
VMM_LDFLAGS ?= -static
ASAN_LDFLAGS := -pthread $(ASAN_FLAGS) $(LDFLAGS)

# The guest: freestanding, identity-mapped at 1 MiB, no red zone (its CPL-0
# entry code shares the stack discipline of a kernel), no stack protector
# (there is no TLS to hold a canary).
GUEST_CFLAGS := $(COMMON_CFLAGS) -DMM_PORT_GUEST -Iguest/include -O2 \
		-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
		-fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
		-mcmodel=small -fno-asynchronous-unwind-tables -fcf-protection=none
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
		 -Wl,-z,max-page-size=0x1000

# Filled in by the fragments below.
MM_SRCS :=          # mm/ sources shared by host and guest (freestanding)
MM_HOST_SRCS :=     # mm/host/ port for the host side
VMM_SRCS :=         # vmm/ minus main.c
VMM_MAIN_SRCS :=    # vmm/main.c
DEVICES_SRCS :=     # devices/
GUEST_SRCS :=       # guest/ (.c and .S)
UNIT_SRCS :=        # tests/unit/
BENCH_PROGS :=      # benchmark programs, run in order by `make bench`
TEST_DEPS :=        # extra files `make test` needs built

# Object paths and libraries, usable by the fragments' own rules.
host_obj = $(patsubst %.c,$(BUILD)/host/%.o,$(filter %.c,$(1)))
asan_obj = $(patsubst %.c,$(BUILD)/asan/%.o,$(filter %.c,$(1)))
guest_obj = $(patsubst %.S,$(BUILD)/guest/%.o,$(patsubst %.c,$(BUILD)/guest/%.o,$(1)))

HOST_LIB := $(BUILD)/host/libbuddyvm.a
ASAN_LIB := $(BUILD)/asan/libbuddyvm.a

# Every directory's *.mk fragments; each fragment has one owner.
include $(sort $(wildcard mm/*.mk vmm/*.mk devices/*.mk guest/*.mk tests/*.mk))

LIB_SRCS := $(MM_SRCS) $(MM_HOST_SRCS) $(VMM_SRCS) $(DEVICES_SRCS)

VMM := $(BUILD)/vmm
GUEST_ELF := $(BUILD)/guest.elf
UNIT := $(BUILD)/tests/unit
UNIT_ASAN := $(BUILD)/tests/unit-asan

.PHONY: all test unit unit-asan integration bench clean format format-check deps
all: $(VMM) $(GUEST_ELF)

deps:
	$(Q)scripts/install-deps.sh

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HOST_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-ASAN $<")
	$(Q)$(CC) $(ASAN_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-GST  $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS-GST  $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(HOST_LIB): $(call host_obj,$(LIB_SRCS))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_LIB): $(call asan_obj,$(LIB_SRCS))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(VMM): $(call host_obj,$(VMM_MAIN_SRCS)) $(HOST_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) $(VMM_LDFLAGS) -o $@ $^ $(VMM_LIBS)

$(UNIT): $(call host_obj,$(UNIT_SRCS)) $(HOST_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(VMM_LIBS) $(CHECK_LIBS)

$(UNIT_ASAN): $(call asan_obj,$(UNIT_SRCS)) $(ASAN_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(VMM_LIBS) $(CHECK_LIBS)

unit: $(UNIT)
	@echo "== unit tests (Check) =="
	$(Q)$(UNIT)

unit-asan: $(UNIT_ASAN)
	@echo "== unit tests under ASan+UBSan (Check) =="
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(UNIT_ASAN)

integration: $(VMM) $(GUEST_ELF) $(TEST_DEPS)
	@echo "== integration tests (KVM) =="
	$(Q)tests/integration/run.sh

# Each stage runs even when an earlier one failed; the target fails if any did.
test:
	$(Q)rc=0; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory unit-asan || rc=1; \
	$(MAKE) --no-print-directory integration || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$rc

bench: $(BENCH_PROGS) $(VMM) $(GUEST_ELF)
	$(Q)for b in $(BENCH_PROGS); do echo; echo "== $$b =="; $$b || exit 1; done
	$(Q)for s in $(BENCH_SCRIPTS); do echo; echo "== $$s =="; $$s || exit 1; done

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FORMAT_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

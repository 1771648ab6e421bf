# buddyvm build.
#
# Three object trees, one per compiler setting, all under build/:
#   build/host/   host code (VMM, devices, mm/ for the VMM, unit tests, benches)
#   build/asan/   the same host code with ASan+UBSan, for the sanitizer run
#   build/guest/  the freestanding guest kernel (and mm/ compiled for it)
# Each top-level directory lists its sources in one fragment (mm/mm.mk,
# vmm/vmm.mk, devices/devices.mk, guest/guest.mk, tests/tests.mk), one file
# per line; every rule is in this file, and every program is linked by LINK.
#
# make            build the VMM and the guest
# make test       unit tests (plain and sanitized), the KVM integration tests
#                 and a smoke run of the fuzz harnesses
# make bench      benchmarks (tables on stdout)
# make fuzz       each libFuzzer harness for FUZZ_TIME seconds (tests/fuzz/)
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
, := ,

CC ?= cc
GUEST_CC ?= $(CC)
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wno-unused-parameter -Wvla -Wformat=2
COMMON_CFLAGS := -std=c11 -g $(WARNINGS) -MMD -MP
HOST_DEFS := -I. -D_GNU_SOURCE -DMM_PORT_HOST -Imm/host
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

HOST_CFLAGS := $(COMMON_CFLAGS) $(HOST_DEFS) -O2 -pthread $(CFLAGS)
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	      -fno-omit-frame-pointer
# The sanitizer tree also runs mm/'s debug checks (MM_DEBUG_BUG_ON, the slab's
# fast-path invariants), which compile to nothing elsewhere.
ASAN_CFLAGS := $(COMMON_CFLAGS) $(HOST_DEFS) -DMM_DEBUG -O1 -pthread $(ASAN_FLAGS) $(CFLAGS)
HOST_LDFLAGS := -pthread $(LDFLAGS)
# The VMM links statically (libfdt, jansson and libc from Debian's .a files):
# a VMM's own memory is overhead on every VM, and a static binary touches
# about half the pages the shared libraries did. VMM_LDFLAGS= links it
# dynamically.
VMM_LDFLAGS ?= -static
ASAN_LDFLAGS := -pthread $(ASAN_FLAGS) $(LDFLAGS)
# The fuzz tree (build/fuzz-obj/, harnesses in build/fuzz/): the host code
# built by clang with libFuzzer's coverage hooks, ASan and UBSan, and mm/'s
# debug checks. Debian's clang 14 and libclang-rt-14-dev provide libFuzzer.
# FUZZ_ASAN=0 (in its own BUILD) leaves ASan out for long campaigns, ~1.2-1.4x
# the executions per second: UBSan, the guard pages around guest RAM and the
# harnesses' invariants still check every input; replay the grown corpus
# with an ASan build afterwards (docs/testing.md "Fuzzing").
FUZZ_CC ?= clang
FUZZ_ASAN ?= 1
comma := ,
FUZZ_SAN := -fsanitize=$(if $(filter 1,$(FUZZ_ASAN)),address$(comma))undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer
# MM_NR_CPUS=16: a harness runs at most a few threads that use mm/, and
# the per-CPU tables (locked and summed by every mm_get_stats() and
# mm_check() after each step) cost 4x less than the VMM's 64.
FUZZ_CFLAGS := $(COMMON_CFLAGS) $(HOST_DEFS) -DMM_DEBUG -DMM_NR_CPUS=16 -O1 \
	       -pthread -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(CFLAGS)
FUZZ_LDFLAGS := -pthread -fsanitize=fuzzer $(FUZZ_SAN) $(LDFLAGS)
FUZZ_TIME ?= 60      # seconds per harness, make fuzz
FUZZ_SMOKE_TIME ?= 5 # seconds per harness, make fuzz-smoke

# The guest sees only abi/, mm/ and guest/ (no -I.): its include root holds
# links to those three, so "vmm/..." or "devices/..." does not compile there.
GUEST_INCLUDE_ROOT := $(BUILD)/guest/include-root
GUEST_INCLUDE_DIRS := abi mm guest

# The guest: freestanding, identity-mapped at 1 MiB, no red zone (its CPL-0
# entry code shares the stack discipline of a kernel), no stack protector
# (there is no TLS to hold a canary).
GUEST_CFLAGS := $(COMMON_CFLAGS) -I$(GUEST_INCLUDE_ROOT) -DMM_PORT_GUEST -Iguest/include -O2 \
		-ffreestanding -fno-builtin -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
		-fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
		-mcmodel=small -fno-asynchronous-unwind-tables -fcf-protection=none
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
		 -Wl,-z,max-page-size=0x1000

# Libraries, found through pkg-config or the compiler, never a fixed path.
# The VMM uses libfdt (no pkg-config file on Debian), jansson and libseccomp.
VMM_LIBS := -lfdt $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson) \
	    $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp)
# The guest links Debian's libfdt.a, built for the host ABI but
# freestanding-safe: it needs only the C subset in guest/lib/string.c and a
# stack canary at %fs:0x28. Its <libfdt.h> is found where the compiler finds
# it, searched after guest/include (whose libfdt_env.h replaces the host
# one), and only by the sources in GUEST_FDT_SRCS.
GUEST_LIBFDT := $(shell $(GUEST_CC) -print-file-name=libfdt.a)
GUEST_LIBFDT_INCDIR := $(patsubst %/libfdt.h,%,$(filter %/libfdt.h,$(shell \
	$(GUEST_CC) -xc -M -include libfdt.h /dev/null 2>/dev/null)))

# Filled in by the fragments below: one per top-level directory, each listing
# its sources one per line. Rules live only in this file.
MM_SRCS :=          # mm/ sources shared by host and guest (freestanding)
MM_HOST_SRCS :=     # mm/host/ port for the host side
VMM_SRCS :=         # vmm/ minus main.c
VMM_MAIN_SRCS :=    # vmm/main.c
DEVICES_SRCS :=     # devices/
GUEST_SRCS :=       # guest/ (.c and .S)
GUEST_NOSSE_SRCS := # guest/ CPL-0 C code, built with general registers only
GUEST_FDT_SRCS :=   # guest/ sources that include <libfdt.h>
UNIT_SRCS :=        # tests/unit/
BENCHES :=          # build/bench/<name> from bench_<name>_SRCS, in run order
BENCH_SCRIPTS :=    # benchmark scripts, run after the programs
TEST_PROGS :=       # build/tests/<name> from test_<name>_SRCS: test helpers
TEST_DEPS :=        # extra files `make test` needs built

# Object paths of a source list, one function per tree.
host_obj = $(patsubst %.c,$(BUILD)/host/%.o,$(filter %.c,$(1)))
asan_obj = $(patsubst %.c,$(BUILD)/asan/%.o,$(filter %.c,$(1)))
guest_obj = $(patsubst %.S,$(BUILD)/guest/%.o,$(patsubst %.c,$(BUILD)/guest/%.o,$(1)))
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(filter %.c,$(1)))

HOST_LIB := $(BUILD)/host/libbuddyvm.a
ASAN_LIB := $(BUILD)/asan/libbuddyvm.a
GUEST_MM_LIB := $(BUILD)/guest/libmm.a
FUZZ_LIB := $(BUILD)/fuzz-obj/libbuddyvm.a

FUZZERS :=          # build/fuzz/<name> from fuzz_<name>_SRCS (libFuzzer)
FUZZ_COMMON_SRCS := # helpers every harness links
FUZZ_NOCOV_SRCS :=  # harness helpers built without coverage feedback

include mm/mm.mk vmm/vmm.mk devices/devices.mk guest/guest.mk tests/tests.mk
include tests/fuzz/fuzz.mk

# Helper programs of the integration tests, built by `make test-build`.
TEST_PROG_PATHS := $(TEST_PROGS:%=$(BUILD)/tests/%)
TEST_DEPS += $(TEST_PROG_PATHS)
VMM_ASAN := $(BUILD)/vmm-asan
TEST_DEPS += $(VMM_ASAN)

LIB_SRCS := $(MM_SRCS) $(MM_HOST_SRCS) $(VMM_SRCS) $(DEVICES_SRCS)

VMM := $(BUILD)/vmm
GUEST_ELF := $(BUILD)/guest.elf
UNIT := $(BUILD)/tests/unit
UNIT_ASAN := $(BUILD)/tests/unit-asan

.PHONY: all test test-build unit unit-asan integration bench clean format \
	format-check deps fuzz fuzz-smoke fuzz-build soak
all: $(VMM) $(GUEST_ELF)

# Everything `make test` runs, built (scripts/test builds this in parallel).
test-build: all $(UNIT) $(UNIT_ASAN) $(TEST_DEPS) $(FUZZ_PROGS)

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

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-FUZZ $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(GUEST_INCLUDE_ROOT):
	@mkdir -p $@
	$(Q)for d in $(GUEST_INCLUDE_DIRS); do ln -sfn $(CURDIR)/$$d $@/$$d; done

$(BUILD)/guest/%.o: %.c | $(GUEST_INCLUDE_ROOT)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-GST  $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.S | $(GUEST_INCLUDE_ROOT)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS-GST  $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# Per-file guest flags.
$(call guest_obj,$(GUEST_NOSSE_SRCS)): GUEST_CFLAGS += -mgeneral-regs-only
$(call guest_obj,$(GUEST_FDT_SRCS)): GUEST_CFLAGS += -idirafter $(GUEST_LIBFDT_INCDIR)
# mm/ and the harnesses' checks loop over every frame: tracing each of
# their comparisons for libFuzzer cost ~60% of a harness's time, and their
# edges still count as coverage.
$(call fuzz_obj,$(MM_SRCS) $(MM_HOST_SRCS)): \
	FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp
# The harnesses' own helpers and checks are not what is being fuzzed: no
# coverage feedback from them at all.
$(call fuzz_obj,$(FUZZ_COMMON_SRCS) $(FUZZ_NOCOV_SRCS)): \
	FUZZ_CFLAGS := $(filter-out -fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS))

# Archives: the linker pulls in only the objects a program uses.
define ARCHIVE
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
endef
$(HOST_LIB): $(call host_obj,$(LIB_SRCS))
	$(ARCHIVE)
$(ASAN_LIB): $(call asan_obj,$(LIB_SRCS))
	$(ARCHIVE)
$(GUEST_MM_LIB): $(call guest_obj,$(MM_SRCS))
	$(ARCHIVE)
$(FUZZ_LIB): $(call fuzz_obj,$(LIB_SRCS))
	$(ARCHIVE)

# Every program is linked by this one rule: $(call LINK,driver+flags,libs)
# links the prerequisites' objects and archives.
define LINK
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(1) -o $@ $(filter %.o %.a,$^) $(2)
endef

$(VMM): $(call host_obj,$(VMM_MAIN_SRCS)) $(HOST_LIB)
	$(call LINK,$(CC) $(HOST_LDFLAGS) $(VMM_LDFLAGS),$(VMM_LIBS))

# The VMM under ASan+UBSan and LeakSanitizer (dynamic: the sanitizers do not
# link statically), for the integration test of its seccomp filters and the
# soak test's leak check.
$(VMM_ASAN): $(call asan_obj,$(VMM_MAIN_SRCS)) $(ASAN_LIB)
	$(call LINK,$(CC) $(ASAN_LDFLAGS),$(VMM_LIBS))

$(UNIT): $(call host_obj,$(UNIT_SRCS)) $(HOST_LIB)
	$(call LINK,$(CC) $(HOST_LDFLAGS),$(VMM_LIBS) $(CHECK_LIBS))

$(UNIT_ASAN): $(call asan_obj,$(UNIT_SRCS)) $(ASAN_LIB)
	$(call LINK,$(CC) $(ASAN_LDFLAGS),$(VMM_LIBS) $(CHECK_LIBS))

# The guest archive comes twice: libfdt.a calls back into it (memcpy...).
$(GUEST_ELF): $(call guest_obj,$(GUEST_SRCS)) $(GUEST_MM_LIB) guest/guest.ld
	$(call LINK,$(GUEST_CC) $(GUEST_LDFLAGS) -Wl$(,)-T$(,)guest/guest.ld,$(GUEST_LIBFDT) $(GUEST_MM_LIB))

# Helper programs the integration tests run (build/tests/<name>), linked the
# same way.
$(foreach t,$(TEST_PROGS),$(eval $(BUILD)/tests/$(t): $(call host_obj,$(test_$(t)_SRCS))))
$(TEST_PROG_PATHS):
	$(call LINK,$(CC) $(HOST_LDFLAGS),)

BENCH_PROGS := $(BENCHES:%=$(BUILD)/bench/%)
$(foreach b,$(BENCHES),$(eval $(BUILD)/bench/$(b): $(call host_obj,$(bench_$(b)_SRCS)) $(HOST_LIB)))
$(BENCH_PROGS):
	$(call LINK,$(CC) $(HOST_LDFLAGS),$(VMM_LIBS))

# libFuzzer harnesses (build/fuzz/<name>), linked the same way with clang.
FUZZ_PROGS := $(FUZZERS:%=$(BUILD)/fuzz/%)
$(foreach f,$(FUZZERS),$(eval $(BUILD)/fuzz/$(f): $(call fuzz_obj,$(fuzz_$(f)_SRCS) $(FUZZ_COMMON_SRCS)) $(FUZZ_LIB)))
$(FUZZ_PROGS):
	$(call LINK,$(FUZZ_CC) $(FUZZ_LDFLAGS),$(VMM_LIBS))

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

# Each stage runs even when an earlier one failed; the target fails if any
# did, and also when KVM tests were skipped (run.sh exits 4):
# scripts/test tells a skip from a failure.
test:
	$(Q)rc=0; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory unit-asan || rc=1; \
	$(MAKE) --no-print-directory integration || rc=1; \
	$(MAKE) --no-print-directory fuzz-smoke || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$rc

# Fuzzing (tests/fuzz/run.sh): every harness replays its regression inputs
# and seeds, then fuzzes a scratch copy of its corpus for FUZZ_TIME seconds
# (fuzz-smoke: FUZZ_SMOKE_TIME). FUZZERS="a b" picks harnesses.
fuzz-build: $(FUZZ_PROGS)

fuzz: $(FUZZ_PROGS)
	$(Q)tests/fuzz/run.sh $(BUILD)/fuzz $(strip $(FUZZ_TIME)) $(FUZZERS)

fuzz-smoke: $(FUZZ_PROGS)
	@echo "== fuzz smoke (libFuzzer, $(strip $(FUZZ_SMOKE_TIME)) s each) =="
	$(Q)tests/fuzz/run.sh $(BUILD)/fuzz $(strip $(FUZZ_SMOKE_TIME)) $(FUZZERS)

# The soak test (scripts/soak; not part of `make test`): VMs started and
# stopped in a loop for SOAK_TIME seconds, then fds, threads, RSS, sockets
# and sanitizer reports checked. SOAK_OUT=FILE keeps the figures.
SOAK_TIME ?= 300
soak: $(VMM) $(GUEST_ELF) $(VMM_ASAN)
	$(Q)scripts/soak --build $(BUILD) --time $(SOAK_TIME) $(if $(SOAK_OUT),--out $(SOAK_OUT))

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

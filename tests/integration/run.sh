#!/usr/bin/env bash
# tests/integration/run.sh - boot the guest under KVM and check what the VMM
# and the guest say and how they exit. Called by `make integration`; uses
# $BUILD (default build) for build/vmm and build/guest.elf.
#
#   tests/integration/run.sh            every test
#   tests/integration/run.sh smp timer  only tests whose name contains a word
#
# Without a usable /dev/kvm, every test that boots a guest is SKIPPED loudly;
# the others (argument and ELF checks) still run.
#
# Exit status (kselftest's convention): 0 every selected test passed; 1 a
# test failed, or the filter selected nothing; 4 none failed but some were
# skipped, so a run without KVM never looks like a pass.
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
TMP=$(mktemp -d /tmp/buddyvm-integration.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
skipped=0
if [ -t 1 ]; then
	GREEN=$'\e[32m' RED=$'\e[31m' YELLOW=$'\e[33m' RESET=$'\e[0m'
else
	GREEN='' RED='' YELLOW='' RESET=''
fi

kvm_usable=0
if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
	kvm_usable=1
fi

# run_vmm ARGS...: run the VMM (bounded), output in $out, status in $status.
run_vmm() {
	out=$(timeout 60 "$VMM" "$@" 2>&1)
	status=$?
}

# start_with_api SOCK LOG ARGS...: start `vmm run --api SOCK ARGS... GUEST`
# in the background (bounded; output in LOG, pid in $vm_pid) and wait up to
# 10 s for the control socket to appear.
start_with_api() {
	local sock=$1 log=$2
	shift 2
	rm -f "$sock"
	timeout 300 "$VMM" run --api "$sock" "$@" "$GUEST" >"$log" 2>&1 &
	vm_pid=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	why="API socket $sock never appeared"
	return 1
}

# wait_for_output LOG PATTERN [SECONDS]: LOG, a running VM's output, shows
# PATTERN (extended regex) within SECONDS (default 30): a state, polled.
wait_for_output() {
	for _ in $(seq $((${3:-30} * 10))); do
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.1
	done
	why="never saw /$2/"
	return 1
}

# expect STATUS PATTERN...: the last run exited STATUS and printed every
# (extended regex) PATTERN.
expect() {
	local want=$1
	shift
	if [ "$status" -ne "$want" ]; then
		why="exit status $status, expected $want"
		return 1
	fi
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" <<<"$out"; then
			why="output lacks /$pat/"
			return 1
		fi
	done
	return 0
}

# check NAME NEEDS_KVM FUNCTION: run one test and count it.
check() {
	local name=$1 needs_kvm=$2 fn=$3
	if [ ${#selected[@]} -gt 0 ]; then
		local hit=0
		for w in "${selected[@]}"; do
			[[ $name == *"$w"* ]] && hit=1
		done
		[ $hit -eq 1 ] || return 0
	fi
	if [ "$needs_kvm" = kvm ] && [ $kvm_usable -eq 0 ]; then
		echo "${YELLOW}SKIP (no /dev/kvm): $name${RESET}"
		skipped=$((skipped + 1))
		return 0
	fi
	why=''
	out=''
	if $fn; then
		echo "${GREEN}PASS${RESET} $name"
		passed=$((passed + 1))
	else
		echo "${RED}FAIL${RESET} $name: $why"
		sed 's/^/    | /' <<<"$out" | head -40
		failed=$((failed + 1))
	fi
}

# --- guests that boot -----------------------------------------------------

test_hello() {
	run_vmm run --mem 256M --vcpus 2 --timeout 20 "$GUEST"
	expect 0 '^buddyvm guest: 2 vCPUs' 'memory \[0x0, 0x10000000\)' \
		'zone DMA ' 'zone DMA32' 'memory model hosted' \
		'hello from vCPU 0 at CPL 3'
}

test_hello_highmem() {
	run_vmm run --mem 4G --memory-model native --timeout 20 \
		--cmdline workload=hello "$GUEST"
	expect 0 'memory \[0x100000000, 0x140000000\)' \
		'zone Normal +\[0x100000000, 0x140000000\)' \
		'4096 MiB RAM, memory model native'
}

smp_test() {
	run_vmm run --vcpus "$1" --timeout 30 --cmdline workload=smp "$GUEST"
	expect 0 "smp: all $1 vCPUs reported in"
}
test_smp_1() { smp_test 1; }
test_smp_2() { smp_test 2; }
test_smp_4() { smp_test 4; }
test_smp_8() { smp_test 8; }

timer_test() {
	run_vmm run --vcpus "$1" --timeout 30 \
		--cmdline "workload=timer timer.count=$2" "$GUEST"
	expect 0 "timer: $1 vCPUs? took $2 ticks"
}
test_timer_1() { timer_test 1 10; }
test_timer_4() { timer_test 4 25; }

test_irq() {
	run_vmm run --timeout 20 --cmdline workload=irq "$GUEST"
	expect 0 'irq: 24 device vectors delivered, IOAPIC routes pin 5' \
		"irq: the balloon driver left pin [0-9]+'s interrupt pending"
}

test_guest_page_fault() {
	run_vmm run --timeout 20 --cmdline workload=fault "$GUEST"
	expect 3 'exception #PF vector 14' 'RIP 0x[0-9a-f]+' \
		'CR2 0x10000000000' 'guest assertion failed at .*trap.c:[0-9]+'
}

test_guest_invalid_opcode() {
	run_vmm run --timeout 20 --cmdline 'workload=fault fault.kind=ud' \
		"$GUEST"
	expect 3 'exception #UD vector 6' 'RIP 0x[0-9a-f]+'
}

test_unknown_workload() {
	run_vmm run --timeout 20 --cmdline workload=nosuch "$GUEST"
	expect 3 "unknown workload 'nosuch'; known:.* hello" \
		"guest assertion failed at .*: unknown workload"
}

test_guest_abuse() {
	run_vmm run --timeout 20 --cmdline workload=abuse "$GUEST"
	expect 0 'abuse: the VMM survived' 'MMIO write .* Bad address' \
		'Argument list too long' 'Invalid argument' 'nothing there' &&
		[ "$(grep -c 'Bad address' <<<"$out")" -eq 4 ] ||
		{ why=${why:-"expected 4 'Bad address' lines"}; return 1; }
}

test_guest_abuse_fail() {
	run_vmm run --timeout 20 --cmdline 'workload=abuse abuse.fail=1' \
		"$GUEST"
	expect 3 'guest assertion failed at BBBBB\?B+:7: \?BBB' || return 1
	if grep -q $'\e' <<<"$out"; then
		why='raw escape character reached the terminal'
		return 1
	fi
}

test_triple_fault() {
	run_vmm run --vcpus 2 --timeout 20 --cmdline workload=triple "$GUEST"
	expect 5 'guest crashed on vCPU 0: triple fault' 'rip=0x' 'cr3=0x' \
		'cs  sel=0x0008'
}

test_timeout() {
	run_vmm run --vcpus 2 --timeout 1 --cmdline workload=hang "$GUEST"
	expect 4 'guest did not finish within 1 s' 'rip=0x'
}

# --- bad guest images -------------------------------------------------------

# patch FILE OFFSET HEXBYTES: overwrite bytes in place (little-endian values).
patch() {
	printf "$(sed 's/../\\x&/g' <<<"$3")" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

bad_elf() {
	cp "$GUEST" "$TMP/$1.elf"
	echo "$TMP/$1.elf"
}

test_elf_truncated() {
	head -c 100 "$GUEST" >"$TMP/trunc.elf"
	run_vmm run "$TMP/trunc.elf"
	expect 1 "guest '.*trunc.elf': program headers lie outside the file"
}

test_elf_not_elf() {
	printf 'this is not an ELF file, just text long enough to hold an ELF header\n' \
		>"$TMP/text.elf"
	run_vmm run "$TMP/text.elf"
	expect 1 'not an ELF file \(bad magic\)'
}

test_elf_wrong_machine() {
	local f
	f=$(bad_elf machine)
	patch "$f" 18 0300 # EM_386
	run_vmm run "$f"
	expect 1 'wrong machine 3 \(need x86-64, 62\)'
}

# The first program header is at offset 64: p_vaddr at 80, p_paddr at 88.
test_elf_segment_below_1m() {
	local f
	f=$(bad_elf low)
	patch "$f" 80 0010000000000000
	patch "$f" 88 0010000000000000
	run_vmm run "$f"
	expect 1 'segment 0 at 0x1000 is below 0x100000 \(1 MiB\)'
}

test_elf_segment_beyond_ram() {
	local f
	f=$(bad_elf high)
	patch "$f" 80 0000001000000000 # 1 GiB
	patch "$f" 88 0000001000000000
	run_vmm run --mem 256M "$f"
	expect 1 'segment 0 \[0x10000000, .*\) is not inside guest RAM'
}

test_elf_entry_outside() {
	local f
	f=$(bad_elf entry)
	patch "$f" 24 0000900000000000 # e_entry = 9 MiB
	run_vmm run "$f"
	expect 1 'entry point 0x900000 is not inside an executable segment'
}

# --- command line -------------------------------------------------------------

usage_test() {
	local pattern=$1
	shift
	run_vmm run "$@"
	expect 2 "$pattern" "try 'vmm run --help'"
}
test_args_bad_size() { usage_test "--mem: '12X' is not a size" --mem 12X "$GUEST"; }
test_args_mem_small() { usage_test "--mem: '1M' is out of range" --mem 1M "$GUEST"; }
test_args_mem_large() { usage_test "--mem: '65G' is out of range" --mem 65G "$GUEST"; }
test_args_mem_align() { usage_test "not a multiple of 2M" --mem 17M "$GUEST"; }
test_args_vcpus_0() { usage_test "--vcpus: '0' is not a number in 1 .. 32" --vcpus 0 "$GUEST"; }
test_args_vcpus_33() { usage_test "--vcpus: '33' is not a number in 1 .. 32" --vcpus 33 "$GUEST"; }
test_args_unknown() { usage_test "unknown option '--bogus'" --bogus "$GUEST"; }
test_args_missing_value() { usage_test "option '--mem' needs a value" "$GUEST" --mem; }
test_args_no_guest() { usage_test "missing GUEST.elf" --mem 64M; }
test_args_missing_file() { usage_test "cannot read guest '/nonexistent.elf'" /nonexistent.elf; }
test_args_extra() { usage_test "unexpected argument 'extra'" "$GUEST" extra; }
test_args_model() { usage_test "--memory-model: 'fancy'" --memory-model fancy "$GUEST"; }

test_help() {
	run_vmm run --help
	expect 0 '--mem SIZE' 'default 256M' '--vcpus N' '--cmdline STR' \
		'--timeout SECONDS' '--memory-model' 'exit status' \
		'5  guest crashed'
}

test_version_and_commands() {
	run_vmm --version
	expect 0 '^vmm \(buddyvm\) ' || return 1
	run_vmm --help
	expect 0 'run +boot a guest' || return 1
	run_vmm frobnicate
	expect 2 "unknown command 'frobnicate'"
}

# shellcheck source=tests/integration/hosted.sh
. "$(dirname "$0")/hosted.sh"

selected=("$@")
if [ ! -x "$VMM" ] || [ ! -f "$GUEST" ]; then
	echo "integration: $VMM or $GUEST missing (run make first)" >&2
	exit 1
fi
[ $kvm_usable -eq 1 ] ||
	echo "${YELLOW}!!! /dev/kvm is missing or not accessible: KVM tests will be SKIPPED !!!${RESET}"

check hello kvm test_hello
check hello-highmem kvm test_hello_highmem
check smp-1 kvm test_smp_1
check smp-2 kvm test_smp_2
check smp-4 kvm test_smp_4
check smp-8 kvm test_smp_8
check timer-1 kvm test_timer_1
check timer-4 kvm test_timer_4
check irq kvm test_irq
check guest-page-fault kvm test_guest_page_fault
check guest-invalid-opcode kvm test_guest_invalid_opcode
check unknown-workload kvm test_unknown_workload
check guest-abuse kvm test_guest_abuse
check guest-abuse-fail kvm test_guest_abuse_fail
check triple-fault kvm test_triple_fault
check timeout kvm test_timeout
# The image is checked before KVM is opened: these run without KVM.
check elf-truncated nokvm test_elf_truncated
check elf-not-elf nokvm test_elf_not_elf
check elf-wrong-machine nokvm test_elf_wrong_machine
check elf-segment-below-1m nokvm test_elf_segment_below_1m
check elf-segment-beyond-ram nokvm test_elf_segment_beyond_ram
check elf-entry-outside nokvm test_elf_entry_outside
check args-bad-size nokvm test_args_bad_size
check args-mem-small nokvm test_args_mem_small
check args-mem-large nokvm test_args_mem_large
check args-mem-align nokvm test_args_mem_align
check args-vcpus-0 nokvm test_args_vcpus_0
check args-vcpus-33 nokvm test_args_vcpus_33
check args-unknown nokvm test_args_unknown
check args-missing-value nokvm test_args_missing_value
check args-no-guest nokvm test_args_no_guest
check args-missing-file nokvm test_args_missing_file
check args-extra nokvm test_args_extra
check args-memory-model nokvm test_args_model
check help nokvm test_help
check version-and-commands nokvm test_version_and_commands
# The hosted memory model's tests (tests/integration/hosted.sh).
hosted_checks

# Test files of other subsystems (*.tests.sh) define and check their own.
for f in "$(dirname "$0")"/*.tests.sh; do
	[ -f "$f" ] && . "$f"
done

echo "integration: $passed passed, $failed failed, $skipped skipped"
if [ $failed -ne 0 ]; then
	exit 1
fi
if [ $((passed + skipped)) -eq 0 ]; then
	echo "${RED}integration: no test matches '${selected[*]}'${RESET}" >&2
	exit 1
fi
if [ $skipped -ne 0 ]; then
	echo "${YELLOW}integration: $skipped tests SKIPPED (exit 4)${RESET}"
	exit 4
fi
exit 0

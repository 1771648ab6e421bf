# tests/integration/seccomp.tests.sh - the VMM's seccomp filters (issue 12,
# docs/vmm.md "Least privilege"), sourced by run.sh: uses its check/expect/
# run_vmm/wait_for_output, $VMM, $GUEST, $TMP, $BUILD.
#
# The whole suite runs with the filters on (the default); these tests show
# that every thread is filtered and that a forbidden call is refused, with
# the hook BUDDYVM_SECCOMP_SELFTEST=<thread kind> (the first thread of that
# kind calls socket(), which no VMM thread may).

# sc_start LOG ARGS...: `vmm run ARGS... GUEST` in the background (bounded by
# --timeout in ARGS, not by timeout(1), so $sc_pid is the VMM itself).
sc_start() {
	local log=$1
	shift
	: >"$log"
	"$VMM" run "$@" "$GUEST" >"$log" 2>&1 &
	sc_pid=$!
}

# Every thread of a VM with every kind of thread (2 vCPUs, the API, two
# disks with two queues each, one on io_uring, the balloon's stats timer,
# the migration timer, the page rings' thread) runs under a filter once the
# guest is up.
test_seccomp_every_thread() {
	local sock=$TMP/sc-threads.sock log=$TMP/sc-threads.log t
	local img1=$TMP/sc-1.img img2=$TMP/sc-2.img names='' unfiltered=''
	truncate -s 8M "$img1" "$img2"
	rm -f "$sock"
	sc_start "$log" --timeout 120 --vcpus 2 --api "$sock" --disk "$img1" \
		--disk "$img2,direct" \
		--cmdline 'workload=migrate-balloon migrate-balloon.host=1'
	if ! wait_for_output "$log" 'migrate-balloon: ready' 60 ||
		! "$VMM" stat --api "$sock" >/dev/null; then
		kill "$sc_pid" 2>/dev/null
		wait "$sc_pid"
		out=$(cat "$log")
		why=${why:-"stat failed"}
		return 1
	fi
	for t in /proc/"$sc_pid"/task/*; do
		local name mode
		name=$(cat "$t/comm" 2>/dev/null) || continue
		mode=$(awk '/^Seccomp:/ {print $2}' "$t/status" 2>/dev/null)
		names+="$name "
		# KVM's own workers (kvm-nx-lpage-recovery) are kernel tasks
		# in the process: no user code runs there.
		[[ $name == kvm-* ]] && continue
		[ "$mode" = 2 ] || unfiltered+="$name(${t##*/}: Seccomp ${mode:-?}) "
	done
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$sc_pid"
	status=$?
	out="threads: $names"$'\n'$(cat "$log")
	if [ -n "$unfiltered" ]; then
		why="threads without a filter: $unfiltered"
		return 1
	fi
	expect 0 'vcpu .*vcpu' 'api' 'signal' 'blk-io .*blk-io .*blk-io .*blk-io' \
		'balloon-stats' 'migrate-timer' 'pvmem-ring' || return 1
	echo "  filtered threads: $names"
}
check seccomp-every-thread kvm test_seccomp_every_thread

# forbidden_test KIND ARGS...: the first KIND thread's socket() is refused:
# the VMM names the thread and the call and exits 159 (128 + SIGSYS).
forbidden_test() {
	local kind=$1
	shift
	out=$(BUDDYVM_SECCOMP_SELFTEST=$kind timeout 60 "$VMM" run --timeout 30 \
		"$@" "$GUEST" 2>&1)
	status=$?
	expect 159 "vmm: seccomp: the $kind thread made a forbidden system call: socket \(41\); exiting"
}

test_seccomp_forbidden_main() { forbidden_test main --cmdline workload=hang; }
test_seccomp_forbidden_vcpu() { forbidden_test vcpu --vcpus 2; }
test_seccomp_forbidden_signal() { forbidden_test signal --cmdline workload=hang; }
test_seccomp_forbidden_api() {
	rm -f "$TMP/sc-api.sock"
	forbidden_test api --api "$TMP/sc-api.sock" --cmdline workload=hang
}
test_seccomp_forbidden_blk_io() {
	truncate -s 8M "$TMP/sc-f.img"
	forbidden_test blk-io --disk "$TMP/sc-f.img" --cmdline workload=hang
}
test_seccomp_forbidden_balloon_stats() {
	forbidden_test balloon-stats --cmdline workload=hang
}
test_seccomp_forbidden_migrate_timer() {
	forbidden_test migrate-timer --cmdline workload=migrate
}
test_seccomp_forbidden_pvmem_ring() {
	forbidden_test pvmem-ring --cmdline workload=hang
}
check seccomp-forbidden-main kvm test_seccomp_forbidden_main
check seccomp-forbidden-vcpu kvm test_seccomp_forbidden_vcpu
check seccomp-forbidden-signal kvm test_seccomp_forbidden_signal
check seccomp-forbidden-api kvm test_seccomp_forbidden_api
check seccomp-forbidden-blk-io kvm test_seccomp_forbidden_blk_io
check seccomp-forbidden-balloon-stats kvm test_seccomp_forbidden_balloon_stats
check seccomp-forbidden-migrate-timer kvm test_seccomp_forbidden_migrate_timer
check seccomp-forbidden-pvmem-ring kvm test_seccomp_forbidden_pvmem_ring

# fallocate() reaches only guest RAM's memfd (every thread, punching holes)
# and the disk images (their blk-io threads): on any other descriptor the
# call is refused, also in a blk-io thread and with the memfd backing.
falloc_test() {
	local kind=$1
	shift
	out=$(BUDDYVM_SECCOMP_SELFTEST=fallocate:$kind timeout 60 "$VMM" run \
		--timeout 30 "$@" "$GUEST" 2>&1)
	status=$?
	expect 159 "vmm: seccomp: the $kind thread made a forbidden system call: fallocate \([0-9]+\); exiting"
}
test_seccomp_fallocate_vcpu() {
	falloc_test vcpu --mem-backing memfd --cmdline workload=hang
}
test_seccomp_fallocate_blk_io() {
	truncate -s 8M "$TMP/sc-fa.img"
	falloc_test blk-io --disk "$TMP/sc-fa.img" --cmdline workload=hang
}
check seccomp-fallocate-vcpu kvm test_seccomp_fallocate_vcpu
check seccomp-fallocate-blk-io kvm test_seccomp_fallocate_blk_io

# The descriptors that need it still get it: guest RAM on a memfd goes
# back to the host through the balloon (vCPU thread, fallocate on the
# memfd), and the disk's discards and write-zeroes (blk-io threads) pass.
test_seccomp_fallocate_allowed() {
	local img=$TMP/sc-fa-ok.img
	truncate -s 64M "$img"
	out=$(timeout 200 "$VMM" run --timeout 150 --mem-backing memfd \
		--disk "$img" --stats --cmdline 'workload=blk blk.mib=16' \
		"$GUEST" 2>&1)
	status=$?
	expect 0 'blk0_discards [1-9]' 'blk0_write_zeroes [1-9]' || return 1
	if grep -q 'seccomp' <<<"$out"; then
		why="a forbidden call"
		return 1
	fi
}
check seccomp-fallocate-allowed kvm test_seccomp_fallocate_allowed

# --no-seccomp: no filter, so the same call goes through and the VM runs on.
test_seccomp_off() {
	out=$(BUDDYVM_SECCOMP_SELFTEST=vcpu timeout 60 "$VMM" run --no-seccomp \
		"$GUEST" 2>&1)
	status=$?
	expect 0 'socket\(\) in the vcpu thread was allowed \(no filter\)' \
		'hello from vCPU 0'
}
check seccomp-off kvm test_seccomp_off

test_seccomp_help() {
	out=$("$VMM" run --help)
	status=$?
	expect 0 '--no-seccomp' '159 +a VMM thread made a system call'
}
check seccomp-help nokvm test_seccomp_help

# The ASan+UBSan VMM keeps its filters on: the sanitizers' own calls
# (LeakSanitizer's exit-time scan ptraces the threads from a clone) are in
# the profiles of that build only. A run with the API, a disk, a balloon
# change and a stat ends cleanly: no forbidden call, no sanitizer report.
test_seccomp_asan() {
	local asan=$BUILD/vmm-asan sock=$TMP/sc-asan.sock log=$TMP/sc-asan.log
	local img=$TMP/sc-asan.img rc=0
	if [ ! -x "$asan" ]; then
		why="$asan is not built (make BUILD=$BUILD test-build)"
		return 1
	fi
	truncate -s 8M "$img"
	rm -f "$sock"
	ASAN_OPTIONS=detect_leaks=1 "$asan" run --timeout 120 --api "$sock" \
		--disk "$img" --mem 128M \
		--cmdline 'workload=balloon balloon.touch=16' "$GUEST" \
		>"$log" 2>&1 &
	sc_pid=$!
	wait_for_output "$log" 'balloon: ready' 60 &&
		"$VMM" balloon --api "$sock" --target 32M --wait --timeout 60 \
			>/dev/null &&
		"$VMM" stat --api "$sock" >/dev/null || rc=1
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$sc_pid"
	status=$?
	out=$(cat "$log")
	[ $rc -eq 0 ] || {
		why=${why:-"a vmm command failed"}
		return 1
	}
	expect 0 'balloon: ready' || return 1
	if grep -Eq 'Sanitizer|seccomp' <<<"$out"; then
		why="sanitizer report or forbidden call"
		return 1
	fi
}
check seccomp-asan kvm test_seccomp_asan

# asan_report_test HOOK PATTERN...: in the ASan VMM the hook makes a leak or
# a use after free in one thread; the sanitizer's report (symbolized: it
# reads the binary's debug info) must come through the filters whole, not
# end in a forbidden call.
asan_report_test() {
	local hook=$1 asan=$BUILD/vmm-asan
	shift
	if [ ! -x "$asan" ]; then
		why="$asan is not built (make BUILD=$BUILD test-build)"
		return 1
	fi
	rm -f "$TMP/sc-rep.sock"
	out=$(BUDDYVM_SECCOMP_SELFTEST=$hook ASAN_OPTIONS=detect_leaks=1 \
		timeout 120 "$asan" run --timeout 60 --api "$TMP/sc-rep.sock" \
		--cmdline workload=hello "$GUEST" 2>&1)
	status=$?
	if grep -q 'vmm: seccomp: the' <<<"$out"; then
		why="the report ended in a forbidden call"
		return 1
	fi
	[ "$status" -ne 0 ] || {
		why="exit status 0 despite the sanitizer's finding"
		return 1
	}
	expect "$status" "$@" 'in sc_selftest_sanitizer vmm/seccomp.c:[0-9]+'
}
test_seccomp_asan_leak() {
	asan_report_test leak:vcpu 'ERROR: LeakSanitizer: detected memory leaks' \
		'SUMMARY: AddressSanitizer: 64 byte\(s\) leaked'
}
test_seccomp_asan_uaf() {
	asan_report_test uaf:api 'ERROR: AddressSanitizer: heap-use-after-free' \
		'thread T[0-9]+ \(api\)'
}
check seccomp-asan-leak-report kvm test_seccomp_asan_leak
check seccomp-asan-uaf-report kvm test_seccomp_asan_uaf

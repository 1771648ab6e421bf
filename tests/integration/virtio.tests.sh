# tests/integration/virtio.tests.sh - the guest's virtio drivers under KVM,
# sourced by run.sh (uses its check/expect/run_vmm, $VMM, $GUEST).

# stat_val NAME: the value of "NAME value" in the last run's --stats output.
stat_val() {
	awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"
}

# After the probe, console lines arrive over the virtio-console transmitq:
# the device counts exactly the bytes of the workload's line.
console_test() {
	local line='hello from vCPU 0 at CPL 3' bytes
	run_vmm run --stats --timeout 20 --memory-model "$1" \
		--cmdline workload=hello "$GUEST"
	expect 0 "$line" '^console_bytes_out ' || return 1
	bytes=$(stat_val console_bytes_out)
	if [ "$bytes" != $((${#line} + 1)) ]; then
		why="console_bytes_out $bytes, expected $((${#line} + 1))"
		return 1
	fi
	[ "$(stat_val console_failures)" = 0 ] || {
		why="console failures"
		return 1
	}
}
test_virtio_console_hosted() { console_test hosted; }
test_virtio_console_native() { console_test native; }

# console=debug keeps everything on the debug channel.
test_virtio_console_off() {
	run_vmm run --stats --timeout 20 \
		--cmdline 'workload=hello console=debug' "$GUEST"
	expect 0 'hello from vCPU 0 at CPL 3' '^console_bytes_out 0$'
}

# Lines of several vCPUs at once all arrive over virtio.
test_virtio_console_smp() {
	run_vmm run --stats --vcpus 4 --timeout 30 --cmdline workload=smp \
		"$GUEST"
	expect 0 'smp: all 4 vCPUs reported in' '^console_failures 0$' &&
		[ "$(stat_val console_bytes_out)" -gt 0 ] ||
		{ why=${why:-"no bytes over virtio"}; return 1; }
}

check virtio-console-hosted kvm test_virtio_console_hosted
check virtio-console-native kvm test_virtio_console_native
check virtio-console-off kvm test_virtio_console_off
check virtio-console-smp kvm test_virtio_console_smp

# The host asks for balloon statistics every second by itself (nobody
# polls `stat` here): a guest servicing the balloon for 3.5 s answers the
# start-up buffer and at least two periodic requests.
test_virtio_balloon_periodic_stats() {
	local n
	run_vmm run --stats --timeout 30 \
		--cmdline 'workload=balloon balloon.ms=3500' "$GUEST"
	expect 0 '^balloon_stats_updates ' || return 1
	n=$(stat_val balloon_stats_updates)
	[ "$n" -ge 3 ] || {
		why="balloon_stats_updates $n, expected >= 3"
		return 1
	}
}
check virtio-balloon-periodic-stats kvm test_virtio_balloon_periodic_stats

# Hostile drivers: every bad PFN refused and counted, every malformed
# buffer or chain a NEEDS_RESET the VMM counts and survives, a reset
# recovers the device, and the page database is clean at exit (--check).
balloon_hostile_test() {
	run_vmm run --check --stats --memory-model "$1" --timeout 30 \
		--cmdline workload=balloon-hostile "$GUEST"
	expect 0 'balloon-hostile: 8 bad PFNs refused, device fine' \
		'device-writable PFN array: NEEDS_RESET, reset recovers' \
		'balloon-hostile: done' '^balloon_bad_pfns 8$' \
		'^balloon_failures 3$' '^balloon_actual_pages 0$'
}
test_virtio_balloon_hostile_hosted() { balloon_hostile_test hosted; }
test_virtio_balloon_hostile_native() { balloon_hostile_test native; }

# $2 bad chains (hosted adds one outside the console's DMA blocks); the
# last line arrives over virtio again after the final reset.
virtio_hostile_test() {
	run_vmm run --check --stats --memory-model "$1" --timeout 30 \
		--cmdline workload=virtio-hostile "$GUEST"
	expect 0 "virtio-hostile: $2 bad chains: NEEDS_RESET each" \
		'descriptor loop|loop' 'virtio-hostile: done' \
		"^console_failures $2\$" || return 1
	[ "$(stat_val console_bytes_out)" -gt 0 ] || {
		why="no console bytes over virtio after recovery"
		return 1
	}
}
test_virtio_hostile_hosted() { virtio_hostile_test hosted 8; }
test_virtio_hostile_native() { virtio_hostile_test native 7; }

check virtio-balloon-hostile-hosted kvm test_virtio_balloon_hostile_hosted
check virtio-balloon-hostile-native kvm test_virtio_balloon_hostile_native
check virtio-hostile-hosted kvm test_virtio_hostile_hosted
check virtio-hostile-native kvm test_virtio_hostile_native

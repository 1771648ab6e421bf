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

# tests/integration/libvirt.tests.sh - guest.elf as a libvirt domain (QEMU
# q35, virtio-pci; scripts/libvirt-guest, docs/qemu.md), its balloon driven
# the way libvirt users drive one: `virsh setmem` and `virsh dommemstat`.
# Sourced by run.sh (uses its check, wait_for_output, $GUEST, $TMP). Needs
# KVM (the domain is type kvm) and libvirt (scripts/install-deps.sh); with
# KVM and no libvirt it fails, it does not skip.

LIBVIRT_GUEST=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/libvirt-guest

lv_virsh() { virsh -q -c qemu:///system "$@"; }

# lv_memstat NAME KEY: one value of `virsh dommemstat NAME` (KiB), or empty.
lv_memstat() {
	lv_virsh dommemstat "$1" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'
}

# lv_wait_memstat NAME KEY VALUE: dommemstat's KEY reaches VALUE (120 s).
lv_wait_memstat() {
	local v
	for _ in $(seq 1200); do
		v=$(lv_memstat "$1" "$2")
		[ "$v" = "$3" ] && return 0
		sleep 0.1
	done
	why="dommemstat $2 is '$v', wanted $3"
	return 1
}

# lv_stop: end libvirt-guest as an operator's Ctrl-C would; collect output.
lv_stop() {
	kill -TERM "$lv_pid" 2>/dev/null
	wait "$lv_pid"
	status=$?
	out=$(cat "$lv_dir/debug.log" "$lv_dir/console.log" "$TMP/libvirt.out" 2>/dev/null)
}

lv_fail() {
	local msg=$1
	lv_stop
	why=$msg
	return 1
}

# A 512 MiB guest touches all its memory; `virsh setmem 256M` inflates the
# balloon by 65536 pages, dommemstat shows it and the guest's statistics
# (period 1 s), `setmem 512M` deflates it; then SIGTERM to libvirt-guest
# must leave no domain behind.
test_libvirt_balloon() {
	local name=buddyvm-test-$$ avail
	lv_dir=$TMP/libvirt
	mkdir -p "$lv_dir"
	: >"$lv_dir/console.log"
	if ! command -v virsh >/dev/null; then
		why="virsh is not installed (scripts/install-deps.sh)"
		return 1
	fi
	timeout 600 "$LIBVIRT_GUEST" --name "$name" --dir "$lv_dir" --mem 512M \
		--cmdline 'workload=balloon balloon.touch=100000' "$GUEST" \
		>"$TMP/libvirt.out" 2>&1 &
	lv_pid=$!
	# The bound covers a first libvirtd start, which probes QEMU (~1 min here).
	wait_for_output "$lv_dir/console.log" 'balloon: ready' 300 ||
		{ lv_fail "$why"; return 1; }
	lv_virsh setmem "$name" 256M --live >/dev/null ||
		{ lv_fail "virsh setmem 256M refused"; return 1; }
	lv_wait_memstat "$name" actual 262144 || { lv_fail "$why"; return 1; }
	wait_for_output "$lv_dir/console.log" \
		'at target: target 65536 actual 65536' 60 ||
		{ lv_fail "$why"; return 1; }
	# The guest's own figures (its total memory is VIRTIO_BALLOON_S_MEMTOT,
	# libvirt's 'available'), polled by libvirt every second.
	for _ in $(seq 600); do
		avail=$(lv_memstat "$name" available)
		[ -n "$avail" ] && break
		sleep 0.1
	done
	[ -n "$avail" ] && [ "$avail" -gt 400000 ] && [ "$avail" -le 524288 ] ||
		{ lv_fail "dommemstat available '$avail' (KiB)"; return 1; }
	echo "  libvirt balloon: actual 262144 KiB; the guest says" \
		"available $avail KiB, unused $(lv_memstat "$name" unused) KiB"
	lv_virsh setmem "$name" 512M --live >/dev/null ||
		{ lv_fail "virsh setmem 512M refused"; return 1; }
	lv_wait_memstat "$name" actual 524288 || { lv_fail "$why"; return 1; }
	wait_for_output "$lv_dir/console.log" \
		'at target: target 0 actual 0 pages \(inflated 65536 deflated 65536' 60 ||
		{ lv_fail "$why"; return 1; }
	lv_stop
	[ "$status" = 143 ] || { why="libvirt-guest exited $status, not 143"; return 1; }
	if lv_virsh domstate "$name" >/dev/null 2>&1; then
		lv_virsh destroy "$name" >/dev/null 2>&1
		why="domain $name survived libvirt-guest"
		return 1
	fi
}

# The guest ends its own domain: libvirt-guest says done (0) for a
# workload that finishes, 3 for one that fails.
test_libvirt_exit_status() {
	out=$(timeout 300 "$LIBVIRT_GUEST" --name "buddyvm-test-$$-smp" --vcpus 2 \
		--mem 256M --cmdline workload=smp "$GUEST" 2>&1)
	status=$?
	expect 0 'virtio-pci: [0-9a-f:.]+ device 3, MSI-X' \
		'smp: all 2 vCPUs reported in' || return 1
	out=$(timeout 300 "$LIBVIRT_GUEST" --name "buddyvm-test-$$-fault" \
		--mem 256M --cmdline workload=fault "$GUEST" 2>&1)
	status=$?
	expect 3 'exception #PF vector 14'
}

check libvirt-balloon kvm test_libvirt_balloon
check libvirt-exit-status kvm test_libvirt_exit_status

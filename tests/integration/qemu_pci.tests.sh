# tests/integration/qemu_pci.tests.sh - the same guest.elf under QEMU q35:
# PVH entry through SeaBIOS, ACPI (MCFG, MADT), modern virtio-pci devices
# (disable-legacy=on) found over ECAM, MSI-X (console, blk) and INTx (QEMU's
# virtio-balloon-pci has no MSI-X). The workloads and checks are
# qemu.tests.sh's, run with QEMU_MACHINE=q35; hello and BAR placement are
# q35's own. Sourced by run.sh after qemu.tests.sh (uses qemu_lib.sh).

# shellcheck source=tests/integration/qemu_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/qemu_lib.sh"

test_q35_hello() {
	QEMU_MACHINE=q35 qemu_run --mem 256M --vcpus 2 \
		--console-log "$TMP/q35-hello.con" --cmdline workload=hello
	expect 0 '^buddyvm guest: 2 vCPUs, cmdline .workload=hello' \
		'PVH entry: start_info 0x[0-9a-f]+, ACPI RSDP 0x[0-9a-f]+' \
		'pci: ECAM at 0xb0000000 \(buses 0-255, ACPI MCFG\), [0-9]+ functions' \
		'virtio-pci: 00:[0-9a-f]{2}\.0 device 3, MSI-X vector 0x[0-9a-f]+' \
		'memory model native' || return 1
	out=$(cat "$TMP/q35-hello.con")
	expect 0 '^hello from vCPU 0 at CPL 3$'
}

# pci.place=1: the guest places every BAR itself, as it must where no
# firmware did (a PVH loader without a BIOS), below the firmware's; the
# devices still work there (console, and a disk written and read back).
test_q35_bar_placement() {
	local img=$TMP/q35-place.img
	rm -f "$img"
	truncate -s 8M "$img"
	QEMU_MACHINE=q35 qemu_run --mem 256M --disk "$img" \
		--console-log "$TMP/q35-place.con" \
		--cmdline 'workload=blk blk.seed=9 pci.place=1'
	# BAR 4 (the virtio structures) and BAR 1 (the MSI-X table).
	expect 0 'pci: 00:[0-9a-f]{2}\.0 BAR at 0x[0-9a-f]+ \(\+0x4000\) placed by the guest' \
		'pci: 00:[0-9a-f]{2}\.0 BAR at 0x[0-9a-f]+ \(\+0x1000\) placed by the guest' \
		'virtio-pci: 00:[0-9a-f]{2}\.0 device 3, MSI-X' || return 1
	# Once the console is up, the rest goes through it.
	out=$(cat "$TMP/q35-place.con")
	expect 0 'virtio-pci: 00:[0-9a-f]{2}\.0 device 2, MSI-X' \
		'blk: verify ok: 8388608 bytes' 'blk: done'
}

# q35 with qboot (microvm's firmware) instead of SeaBIOS: ACPI tables, but
# the virtio BARs left for the guest, which places them itself; two vCPUs
# write and verify a disk through them.
test_q35_qboot() {
	local img=$TMP/q35-qboot.img
	rm -f "$img"
	truncate -s 8M "$img"
	QEMU_MACHINE=q35 qemu_run --bios /usr/share/qemu/qboot.rom --vcpus 2 \
		--mem 256M --disk "$img" --console-log "$TMP/q35-qboot.con" \
		--cmdline 'workload=blk blk.seed=11'
	expect 0 'pci: ECAM at 0xb0000000 \(buses 0-255, ACPI MCFG\)' \
		'pci: 00:[0-9a-f]{2}\.0 BAR at 0x[0-9a-f]+ \(\+0x4000\) placed by the guest' \
		'virtio-pci: 00:[0-9a-f]{2}\.0 device 3, MSI-X' || return 1
	out=$(cat "$TMP/q35-qboot.con")
	expect 0 'virtio-pci: 00:[0-9a-f]{2}\.0 device 2, MSI-X' \
		'blk: verify ok: 8388608 bytes' 'blk: done'
}

test_q35_smp_2() { QEMU_MACHINE=q35 qemu_smp_test 2; }
test_q35_slab() { QEMU_MACHINE=q35 test_qemu_slab; }
test_q35_kmalloc() { QEMU_MACHINE=q35 test_qemu_kmalloc; }
test_q35_blk() { QEMU_MACHINE=q35 test_qemu_blk; }
test_q35_balloon_inflate_deflate() {
	QEMU_MACHINE=q35 test_qemu_balloon_inflate_deflate
}
test_q35_balloon_stats() { QEMU_MACHINE=q35 test_qemu_balloon_stats; }
test_q35_balloon_reporting() { QEMU_MACHINE=q35 test_qemu_balloon_reporting; }
test_q35_balloon_oom() { QEMU_MACHINE=q35 test_qemu_balloon_oom; }

# qemu.tests.sh (sourced first: run.sh sources *.tests.sh in C-locale
# order) defines check_qemu and the workloads' tests.
if ! declare -F check_qemu test_qemu_slab >/dev/null; then
	q35_missing() { why="qemu.tests.sh was not sourced first"; return 1; }
	check q35 nokvm q35_missing
	return 0
fi
check_qemu q35-hello test_q35_hello
check_qemu q35-bar-placement test_q35_bar_placement
check_qemu q35-qboot test_q35_qboot
check_qemu q35-smp-2 test_q35_smp_2
check_qemu q35-slab test_q35_slab
check_qemu q35-kmalloc test_q35_kmalloc
check_qemu q35-blk test_q35_blk
check_qemu q35-balloon-inflate-deflate test_q35_balloon_inflate_deflate
check_qemu q35-balloon-stats test_q35_balloon_stats
check_qemu q35-balloon-reporting test_q35_balloon_reporting
check_qemu q35-balloon-oom test_q35_balloon_oom

# tests/integration/qemu.tests.sh - the same guest.elf under QEMU microvm
# (PVH entry, virtio-mmio), against QEMU's own virtio-serial/virtconsole,
# virtio-balloon and virtio-blk devices; sourced by run.sh (uses its
# check/expect, $GUEST, $TMP, $BUILD). QEMU runs with KVM when /dev/kvm is
# usable and under TCG otherwise (said loudly); the balloon is driven over
# QMP as an operator would (scripts/qmp.py). docs/qemu.md explains.

# shellcheck source=tests/integration/qemu_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/qemu_lib.sh"

MiB=$((1 << 20))

# qemu_balloon BYTES: ask for a guest of BYTES (QMP `balloon`: the memory
# the guest keeps) and wait until query-balloon reports it (60 s).
qemu_balloon() {
	local actual deadline=$((SECONDS + 60))
	qmp balloon "{\"value\": $1}" >/dev/null ||
		{ qemu_fail "QMP balloon $1 refused"; return 1; }
	while [ $SECONDS -lt $deadline ]; do
		actual=$(qmp_get query-balloon '' 'r["actual"]') ||
			{ qemu_fail "QMP query-balloon failed"; return 1; }
		[ "$actual" = "$1" ] && return 0
		sleep 0.1
	done
	qemu_fail "query-balloon says $actual after 60 s, wanted $1"
}

test_qemu_hello() {
	qemu_run --mem 256M --vcpus 2 --console-log "$TMP/qemu-hello.con" \
		--cmdline workload=hello
	expect 0 '^buddyvm guest: 2 vCPUs, cmdline .workload=hello' \
		'PVH entry: start_info 0x[0-9a-f]+' \
		'memory \[0x100000, 0x10000000\)' \
		'virtio-mmio \[0xfeb0[0-9a-f]+, 0xfeb0[0-9a-f]+\) irq [0-9]+' \
		'memory model native' || return 1
	# The workload's line went over QEMU's virtconsole, not isa-debugcon.
	out=$(cat "$TMP/qemu-hello.con")
	expect 0 '^hello from vCPU 0 at CPL 3$'
}

# RAM above 4 GiB: the guest maps it itself (2 MiB pages) and its buddy
# hands it out first (ZONE_NORMAL before DMA32), so the touch writes it.
test_qemu_highmem() {
	qemu_run --mem 3200M --cmdline \
		'workload=balloon balloon.touch=200 balloon.ms=1'
	expect 0 'memory \[0x100000000, 0x108000000\)' \
		'balloon: touched 200 MiB' 'balloon: done'
}

qemu_smp_test() {
	qemu_run --vcpus "$1" --cmdline workload=smp
	expect 0 "smp: all $1 vCPUs reported in"
}
test_qemu_smp_2() { qemu_smp_test 2; }
test_qemu_smp_4() { qemu_smp_test 4; }

test_qemu_guest_failure() {
	qemu_run --cmdline 'workload=fault'
	expect 3 'exception #PF vector 14' \
		'guest assertion failed at .*trap.c:[0-9]+'
}

# A triple fault resets the machine; -no-reboot ends QEMU instead.
test_qemu_triple_fault() {
	qemu_run --cmdline 'workload=triple'
	expect 5 'QEMU ended without a guest status: the guest reset'
}

test_qemu_slab() {
	qemu_run --mem 512M --vcpus 2 --cmdline 'workload=slab slab.seed=7'
	expect 0 '^dentry ' 'slab: every object checked, caches destroyed'
}

test_qemu_kmalloc() {
	qemu_run --mem 512M --vcpus 2 --cmdline 'workload=kmalloc kmalloc.seed=7'
	expect 0 'kmalloc: every buffer checked and freed'
}

# Write a seeded pattern over a disk, FLUSH, read it back in the guest,
# two vCPUs on two queues (VIRTIO_BLK_F_MQ); then the host checks the image
# file's bytes.
test_qemu_blk() {
	local img=$TMP/qemu-blk.img msg
	rm -f "$img"
	truncate -s 32M "$img"
	qemu_run --mem 512M --vcpus 2 --disk "$img" \
		--cmdline 'workload=blk blk.seed=4242'
	expect 0 'blk: disk 0: 65536 sectors, .* 2 queue\(s\)' 'blk: write done' \
		'blk: flush complete' 'blk: verify ok: 33554432 bytes' \
		'blk: done' || return 1
	msg=$("$BUILD/tests/blk_image" check "$img" 4242 2>&1) ||
		{ why="image: $msg"; return 1; }
}

# Inflate a guest whose memory is all touched: the pages come from its
# cache, QEMU releases them (RSS falls), then deflate to 0.
test_qemu_balloon_inflate_deflate() {
	local before after
	qemu_start qbal --mem 512M \
		--cmdline 'workload=balloon balloon.touch=100000' || return 1
	qemu_wait_for 'balloon: ready' || return 1
	before=$(qemu_rss)
	qemu_balloon $((256 * MiB)) || return 1
	qemu_wait_for 'at target: target 65536 actual 65536' || return 1
	after=$(qemu_rss)
	echo "  qemu balloon: QEMU RSS $((before / MiB)) MiB ->" \
		"$((after / MiB)) MiB with 256 MiB inflated"
	[ $((before - after)) -ge $((230 * MiB)) ] ||
		{ qemu_fail "QEMU RSS fell $(((before - after) / MiB)) MiB"; return 1; }
	qemu_balloon $((512 * MiB)) || return 1
	qemu_wait_for 'at target: target 0 actual 0 pages \(inflated 65536 deflated 65536' ||
		return 1
	qemu_stop
	expect 0 'balloon: touched [0-9]+ MiB'
}

# microvm with ACPI (QEMU's default): CPUs from the MADT, the devices from
# the DSDT on GSIs of the second IOAPIC, which the guest routes itself; the
# balloon's config interrupt arriving proves that routing.
test_qemu_acpi_balloon() {
	qemu_start qacpi --acpi --vcpus 2 --mem 256M --cmdline 'workload=balloon' ||
		return 1
	qemu_wait_for 'balloon: ready' || return 1
	qemu_balloon $((192 * MiB)) || return 1
	qemu_wait_for 'at target: target 16384 actual 16384' || return 1
	qemu_stop
	expect 0 '^buddyvm guest: 2 vCPUs' 'IOAPIC 1 at 0xfec10000, GSI base 24' \
		'ACPI virtio-mmio at 0xfeb0[0-9a-f]+: GSI (2[4-9]|3[0-9]|4[0-7])'
}

# QEMU asks for statistics every second once polled (qom-set
# guest-stats-polling-interval); the guest's answers reach qom-get.
test_qemu_balloon_stats() {
	local path='"path": "/machine/peripheral/balloon0"' t0 t1 tot free deadline
	qemu_start qstat --mem 256M --cmdline 'workload=balloon' || return 1
	qemu_wait_for 'balloon: ready' || return 1
	qmp qom-set "{$path, \"property\": \"guest-stats-polling-interval\", \"value\": 1}" \
		>/dev/null || { qemu_fail "qom-set polling interval"; return 1; }
	t0=$(qmp_get qom-get "{$path, \"property\": \"guest-stats\"}" 'r["last-update"]')
	deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		t1=$(qmp_get qom-get "{$path, \"property\": \"guest-stats\"}" 'r["last-update"]')
		[ "$t1" != "$t0" ] && break
		sleep 0.1
	done
	[ "$t1" != "$t0" ] || { qemu_fail "guest-stats never updated ($t0)"; return 1; }
	tot=$(qmp_get qom-get "{$path, \"property\": \"guest-stats\"}" 'r["stats"]["stat-total-memory"]')
	free=$(qmp_get qom-get "{$path, \"property\": \"guest-stats\"}" 'r["stats"]["stat-free-memory"]')
	qemu_stop
	echo "  qemu balloon stats: total $((tot / MiB)) MiB, free $((free / MiB)) MiB"
	[ "$tot" -gt $((200 * MiB)) ] && [ "$tot" -le $((256 * MiB)) ] ||
		{ why="stat-total-memory $tot"; return 1; }
	[ "$free" -gt $((100 * MiB)) ] && [ "$free" -le "$tot" ] ||
		{ why="stat-free-memory $free of $tot"; return 1; }
}

# The guest touches 300 MiB, frees it and reports it free: QEMU discards
# the reported pages (free-page-reporting=on), its RSS falls, the balloon
# stays at 0.
test_qemu_balloon_reporting() {
	local before after
	qemu_start qrep --mem 512M --cmdline \
		'workload=balloon balloon.touch=300 balloon.drop=1 balloon.report_ms=2000' ||
		return 1
	qemu_wait_for 'balloon: ready' || return 1
	before=$(qemu_rss)
	qemu_wait_for 'balloon: reported [0-9]+ pages free' || return 1
	after=$(qemu_rss)
	echo "  qemu reporting: QEMU RSS $((before / MiB)) MiB ->" \
		"$((after / MiB)) MiB"
	[ "$(qmp_get query-balloon '' 'r["actual"]')" = $((512 * MiB)) ] ||
		{ qemu_fail "the balloon moved"; return 1; }
	[ $((before - after)) -ge $((250 * MiB)) ] ||
		{ qemu_fail "QEMU RSS fell only $(((before - after) / MiB)) MiB"; return 1; }
	qemu_stop
	expect 0 'balloon: reported [0-9]+ pages free'
}

# Inflate 32 MiB of 128, then exhaust memory: the page source deflates the
# balloon on OOM (QEMU's deflate-on-oom=on) until it is empty.
test_qemu_balloon_oom() {
	qemu_start qoom --mem 128M --cmdline 'workload=balloon-oom' || return 1
	qmp balloon "{\"value\": $((96 * MiB))}" >/dev/null ||
		{ qemu_fail "QMP balloon refused"; return 1; }
	qemu_wait_for 'balloon-oom: [0-9]+ pages allocated' 120 || return 1
	wait "$qemu_run_pid"
	status=$?
	out=$(cat "$qemu_log")
	expect 0 'balloon-oom: [0-9]+ pages allocated, 8192 deflated on OOM of 8192'
}

# check_qemu NAME FUNCTION: a QEMU test. It runs wherever QEMU is installed
# (with KVM, else under TCG) and fails, never skips, where it is not.
check_qemu() {
	qemu_test_fn=$2
	check "$1" nokvm qemu_test
}
qemu_test() {
	if ! qemu_available; then
		why="qemu-system-x86_64 is not installed (scripts/install-deps.sh)"
		return 1
	fi
	$qemu_test_fn
}

qemu_available && qemu_accel_note
check_qemu qemu-hello test_qemu_hello
check_qemu qemu-highmem test_qemu_highmem
check_qemu qemu-smp-2 test_qemu_smp_2
check_qemu qemu-smp-4 test_qemu_smp_4
check_qemu qemu-guest-failure test_qemu_guest_failure
check_qemu qemu-triple-fault test_qemu_triple_fault
check_qemu qemu-slab test_qemu_slab
check_qemu qemu-kmalloc test_qemu_kmalloc
check_qemu qemu-blk test_qemu_blk
check_qemu qemu-balloon-inflate-deflate test_qemu_balloon_inflate_deflate
check_qemu qemu-balloon-stats test_qemu_balloon_stats
check_qemu qemu-balloon-reporting test_qemu_balloon_reporting
check_qemu qemu-balloon-oom test_qemu_balloon_oom
check_qemu qemu-acpi-balloon test_qemu_acpi_balloon

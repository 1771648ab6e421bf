# tests/integration/blk.tests.sh - virtio-blk under KVM, sourced by run.sh
# (uses its check/expect/run_vmm, $VMM, $GUEST, $TMP). The guest's `blk`
# workload writes a seeded pattern (abi/blk_pattern.h) over a disk, flushes
# and reads it back; then the host checks the image file's bytes itself with
# tests/integration/blk_image.c ($BUILD/tests/blk_image, built by
# `make test-build`).

BLK_IMAGE=$BUILD/tests/blk_image

# blk_helper: the image checker is there (a test helper, not the VMM).
blk_helper() {
	[ -x "$BLK_IMAGE" ] && return 0
	why="$BLK_IMAGE missing (run make test-build)"
	return 1
}

# blk_stat NAME: the value of "NAME value" in the last run's --stats output.
blk_stat() {
	awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"
}

# blk_new_image NAME SIZE: a sparse image of zeros in $TMP; prints its path.
blk_new_image() {
	rm -f "$TMP/$1"
	truncate -s "$2" "$TMP/$1"
	echo "$TMP/$1"
}

# blk_check IMAGE SEED [BYTES]: the image holds the pattern of SEED.
blk_check() {
	local msg
	msg=$("$BLK_IMAGE" check "$@" 2>&1) || {
		why="image $(basename "$1"): $msg"
		return 1
	}
}

# blk_read_until FD REGEX: append the lines of a coprocess's output to $out
# until one matches REGEX (return 0) or it ends or falls silent for 60 s.
blk_read_until() {
	local fd=$1 pattern=$2 line
	while IFS= read -r -t 60 -u "$fd" line; do
		out+="$line"$'\n'
		[[ $line =~ $pattern ]] && return 0
	done
	return 1
}

# The workload in both memory models, two vCPUs (two queues with MQ): the
# guest verifies what it read back, the host verifies the file.
blk_workload_test() {
	local img
	blk_helper || return 1
	img=$(blk_new_image "blk-$1.img" 32M)
	run_vmm run --stats --memory-model "$1" --vcpus 2 --timeout 60 \
		--disk "$img" --cmdline 'workload=blk blk.seed=12345' "$GUEST"
	expect 0 'blk: disk 0: 65536 sectors' 'blk: write done' \
		'blk: flush complete' 'blk: verify ok: 33554432 bytes' \
		'blk: done' '^blk0_flushes [1-9]' '^blk0_failures 0$' \
		'^blk0_io_errors 0$' '^blk0_bad_requests 0$' || return 1
	blk_check "$img" 12345
}
test_blk_hosted() { blk_workload_test hosted; }
test_blk_native() { blk_workload_test native; }

# A direct disk: aligned requests bypass the page cache (O_DIRECT, each
# batch in flight on an io_uring); the bytes in the file are the same.
test_blk_direct() {
	local img
	blk_helper || return 1
	img=$(blk_new_image blk-direct.img 16M)
	run_vmm run --stats --vcpus 2 --timeout 60 --disk "$img,direct" \
		--cmdline 'workload=blk blk.seed=21' "$GUEST"
	expect 0 'blk: verify ok: 16777216 bytes' 'blk: done' \
		'^blk0_failures 0$' '^blk0_io_errors 0$' || return 1
	blk_check "$img" 21
}

# Two disks: the workload on the second leaves the first untouched.
test_blk_two_disks() {
	local a b
	blk_helper || return 1
	a=$(blk_new_image blk-a.img 4M)
	b=$(blk_new_image blk-b.img 8M)
	run_vmm run --stats --timeout 60 --disk "$a" --disk "$b" \
		--cmdline 'workload=blk blk.disk=1 blk.seed=3' "$GUEST"
	expect 0 'blk: disk 1: 16384 sectors' 'blk: done' \
		'^blk0_writes 0$' '^blk1_failures 0$' || return 1
	blk_check "$b" 3 || return 1
	if [ -n "$(tr -d '\0' <"$a" | head -c 1)" ]; then
		why="the first disk was written"
		return 1
	fi
}

# FLUSH durability: the VMM is killed (SIGKILL) as soon as the guest reports
# FLUSH complete, with blk.hold=1 keeping it from reading back; everything
# written before the flush must be in the file. (A kill keeps the host page
# cache: this shows that completed writes and the flush reached the file,
# not a power cut; fdatasync is what covers that.)
test_blk_flush_then_kill() {
	local img pid
	blk_helper || return 1
	img=$(blk_new_image blk-kill.img 16M)
	out=''
	coproc BLKVM { exec "$VMM" run --timeout 60 --disk "$img" \
		--cmdline 'workload=blk blk.seed=99 blk.hold=1' "$GUEST" 2>&1; }
	pid=$BLKVM_PID
	blk_read_until "${BLKVM[0]}" 'blk: flush complete'
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	status=$?
	grep -q 'blk: flush complete' <<<"$out" ||
		{ why='guest never reported the flush'; return 1; }
	[ "$status" -eq 137 ] ||
		{ why="VMM exited $status before the kill (blk.hold=1?)"; return 1; }
	blk_check "$img" 99
}

# A read-only disk: the guest reads the host's pattern, its one write is
# refused with IOERR and counted, and the file is unchanged.
test_blk_readonly() {
	local img
	blk_helper || return 1
	img=$(blk_new_image blk-ro.img 8M)
	"$BLK_IMAGE" fill "$img" 5 $((8 << 20)) || { why="fill"; return 1; }
	run_vmm run --stats --timeout 60 --disk "$img,readonly" \
		--cmdline 'workload=blk blk.seed=5' "$GUEST"
	expect 0 'blk: read-only' 'blk: verify ok: 8388608 bytes' 'blk: done' \
		'^blk0_writes 0$' '^blk0_bad_requests 1$' \
		'^blk0_failures 0$' || return 1
	blk_check "$img" 5
}

# An image on a full filesystem: a 32 MiB sparse file on a 4 MiB tmpfs.
# Writes past what fits get ENOSPC, which the guest sees as IOERR
# (blk.expect_ioerr=1 makes it count them instead of failing); the VMM logs
# them rate-limited, counts them, and keeps serving.
test_blk_full_fs() {
	local mnt=$TMP/blk-tmpfs img
	img=$mnt/disk.img
	truncate -s 32M "$img"
	run_vmm run --stats --timeout 60 --disk "$img" \
		--cmdline 'workload=blk blk.seed=8 blk.expect_ioerr=1' "$GUEST"
	umount "$mnt" 2>/dev/null
	expect 0 'No space left on device \(host I/O error 1, the guest sees IOERR\)' \
		'blk: [0-9]+ requests got IOERR' 'blk: done' \
		'^blk0_failures 0$' || return 1
	[ "$(blk_stat blk0_io_errors)" -gt 0 ] ||
		{ why="blk0_io_errors $(blk_stat blk0_io_errors)"; return 1; }
	# Rate-limited: at most 8 lines plus one per 1024 errors.
	[ "$(grep -c 'the guest sees IOERR' <<<"$out")" -le 8 ] ||
		{ why="the I/O error log is not rate-limited"; return 1; }
}

# A second VMM cannot open an image that a running one uses read-write.
test_blk_locked() {
	local img pid
	img=$(blk_new_image blk-locked.img 1M)
	out=''
	coproc BLKLOCK { exec "$VMM" run --timeout 60 --disk "$img" \
		--cmdline workload=hang "$GUEST" 2>&1; }
	pid=$BLKLOCK_PID
	blk_read_until "${BLKLOCK[0]}" 'hang: idling' || {
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		why="the first VMM never idled (it holds the lock from then on)"
		return 1
	}
	run_vmm run --timeout 20 --disk "$img" --cmdline workload=hello "$GUEST"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect 1 "disk '.*blk-locked.img' is locked by another process"
}

# The guest's blk-hostile workload: bad requests answered IOERR/UNSUPP
# with the device fine, bad chains NEEDS_RESET and a reset recovers; the
# VMM counts each and keeps a clean page database (--check). The chain outside the disk's DMA blocks is hosted only.
blk_hostile_test() {
	local img
	img=$(blk_new_image "blk-hostile-$1.img" 4M)
	run_vmm run --check --stats --memory-model "$1" --timeout 60 \
		--disk "$img" --cmdline workload=blk-hostile "$GUEST"
	expect 0 'blk-hostile: 10 bad requests answered with a status, device fine' \
		"blk-hostile: $2 bad chains: NEEDS_RESET each, reset recovers" \
		'blk-hostile: done' "^blk0_failures $2\$" \
		'^blk0_bad_requests 6$' '^blk0_unsupported 4$' \
		'^blk0_io_errors 0$' || return 1
	# "write across the end" starts in the last sector: nothing of it lands.
	if [ -n "$(tail -c 512 "$img" | tr -d '\0' | head -c 1)" ]; then
		why="the refused write across the end wrote the last sector"
		return 1
	fi
}
test_blk_hostile_hosted() { blk_hostile_test hosted 9; }
test_blk_hostile_native() { blk_hostile_test native 8; }

# The control API's stat has the disk's counters while the guest holds
# after its flush (blk.hold=1); quit ends the VM.
test_blk_api_stat() {
	local img sock=$TMP/blk.sock log=$TMP/blk-api.log json
	img=$(blk_new_image blk-api.img 8M)
	start_with_api "$sock" "$log" --disk "$img" \
		--cmdline 'workload=blk blk.hold=1' || return 1
	# The state, not a time: the flush is done (or the VM is gone).
	while ! grep -q 'blk: flush complete' "$log" &&
		kill -0 "$vm_pid" 2>/dev/null; do
		sleep 0.05
	done
	json=$("$VMM" stat --api "$sock" --json)
	"$VMM" quit --api "$sock" >/dev/null
	wait "$vm_pid"
	status=$?
	out=$(cat "$log")
	expect 0 'blk: flush complete' || return 1
	out=$(python3 -c 'import json,sys
d = json.load(sys.stdin); b = d.get("result", d)["host"]["blk"][0]
for k in ("path", "writes", "flushes", "bytes_written", "failures"):
	print(k, b[k])' <<<"$json" 2>&1)
	expect 0 "^path $img\$" '^writes [1-9]' '^flushes [1-9]' \
		'^bytes_written 8388608$' '^failures 0$'
}

# Bad images are bad command lines: one clear line, exit 2, before KVM.
blk_usage_test() {
	local pattern=$1
	shift
	run_vmm run "$@" "$GUEST"
	expect 2 "$pattern" "try 'vmm run --help'"
}
test_blk_args_missing() {
	blk_usage_test "--disk: cannot open '/nonexistent.img' read-write: No such file" \
		--disk /nonexistent.img
}
test_blk_args_small() {
	head -c 1000 /dev/zero >"$TMP/blk-small.img"
	blk_usage_test "'.*blk-small.img' is not a raw image: need a regular file of a nonzero multiple of 512 bytes" \
		--disk "$TMP/blk-small.img"
}
test_blk_args_flag() {
	blk_usage_test "--disk: unknown flag 'fast' \(readonly, direct\)" \
		--disk "$(blk_new_image blk-flag.img 1M),fast"
}
test_blk_args_too_many() {
	local img
	img=$(blk_new_image blk-many.img 1M)
	blk_usage_test "--disk: at most 4 disks" --disk "$img,readonly" \
		--disk "$img,readonly" --disk "$img,readonly" \
		--disk "$img,readonly" --disk "$img,readonly"
}

check blk-hosted kvm test_blk_hosted
check blk-native kvm test_blk_native
check blk-two-disks kvm test_blk_two_disks
check blk-direct kvm test_blk_direct
check blk-flush-then-kill kvm test_blk_flush_then_kill
check blk-readonly kvm test_blk_readonly
check blk-locked kvm test_blk_locked
check blk-api-stat kvm test_blk_api_stat
check blk-hostile-hosted kvm test_blk_hostile_hosted
check blk-hostile-native kvm test_blk_hostile_native
check blk-args-missing nokvm test_blk_args_missing
check blk-args-small nokvm test_blk_args_small
check blk-args-flag nokvm test_blk_args_flag
check blk-args-too-many nokvm test_blk_args_too_many
# The full-filesystem test mounts a tmpfs: it needs root (and KVM).
if mkdir -p "$TMP/blk-tmpfs" &&
	mount -t tmpfs -o size=4m buddyvm-blk "$TMP/blk-tmpfs" 2>/dev/null; then
	check blk-full-fs kvm test_blk_full_fs
	umount "$TMP/blk-tmpfs" 2>/dev/null
else
	echo "${YELLOW}SKIP (cannot mount a tmpfs: not root?): blk-full-fs${RESET}"
	skipped=$((skipped + 1))
fi

# tests/integration/balloon.tests.sh - virtio-balloon under KVM, sourced by
# run.sh (uses its check/expect/run_vmm, $VMM, $GUEST, $TMP). The target is
# set through the control API (vmm run --api, vmm balloon), as an operator
# would.

# bal_start ARGS...: start_with_api on $TMP/bal.sock with --timeout 100;
# $bal_pid, output in $TMP/bal.out.
bal_start() {
	local rc
	bal_sock=$TMP/bal.sock
	start_with_api "$bal_sock" "$TMP/bal.out" --timeout 100 "$@"
	rc=$?
	bal_pid=$vm_pid
	return $rc
}

# bal_wait_for PATTERN [SECONDS]: the guest printed PATTERN (extended
# regex) within SECONDS (default 30), a state, polled; otherwise stop the VM.
bal_wait_for() {
	wait_for_output "$TMP/bal.out" "$@" && return 0
	bal_stop
	return 1
}

# bal_wait_ready: the guest has touched its memory and started the balloon.
bal_wait_ready() { bal_wait_for 'balloon: ready'; }

# bal_stop: quit the VM and collect its output and status.
bal_stop() {
	"$VMM" quit --api "$bal_sock" >/dev/null 2>&1
	wait "$bal_pid"
	status=$?
	out=$(cat "$TMP/bal.out")
}

# bal_target SIZE SECONDS: set the balloon target and wait until the balloon
# reaches it; otherwise say why and stop the VM.
bal_target() {
	"$VMM" balloon --api "$bal_sock" --target "$1" --wait \
		--timeout "$2" >"$TMP/bal.cli" 2>&1 && return 0
	why="balloon --wait failed: $(cat "$TMP/bal.cli")"
	bal_stop
	return 1
}

# bal_json EXPR: evaluate a Python expression over the `stat` result r.
bal_json() {
	"$VMM" stat --api "$bal_sock" --json |
		python3 -c 'import json,sys
d = json.load(sys.stdin); r = d.get("result", d)
print(eval(sys.argv[1]))' "$1"
}

# Inflate a guest whose memory is all touched: the balloon's pages must come
# from the guest's caches, and the host must get their memory back.
test_balloon_inflate_deflate() {
	local before after drop want=$((256 << 20))
	bal_start --mem 512M --cmdline \
		'workload=balloon balloon.touch=100000' || return 1
	bal_wait_ready || return 1
	before=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	bal_target 256M 30 || return 1
	after=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	drop=$((before - after))
	if [ "$(bal_json 'r["balloon"]["inflated_frames"]')" != 65536 ]; then
		why="host database does not hold 65536 BALLOON frames"
		bal_stop
		return 1
	fi
	if [ $drop -lt $((want * 9 / 10)) ]; then
		why="guest RSS fell by $drop bytes ($before -> $after), want >= 90% of $want"
		bal_stop
		return 1
	fi
	if ! "$VMM" balloon --api "$bal_sock" --target 0 --wait \
		--timeout 30 >"$TMP/bal.cli" 2>&1; then
		why="deflate --wait failed: $(cat "$TMP/bal.cli")"
		bal_stop
		return 1
	fi
	if [ "$(bal_json 'r["balloon"]["inflated_frames"]')" != 0 ]; then
		why="frames left in the balloon after deflating"
		bal_stop
		return 1
	fi
	bal_stop
	expect 0 'at target: target 65536 actual 65536' \
		'at target: target 0 actual 0 pages \(inflated 65536 deflated 65536'
}

# The guest answers statistics requests; the host shows them by name.
test_balloon_stats() {
	local tot
	bal_start --mem 256M --cmdline 'workload=balloon' || return 1
	bal_wait_ready || return 1
	# Each stat asks the guest for fresh numbers: poll until they came.
	for _ in $(seq 300); do
		tot=$(bal_json 'r["guest"]["balloon_stats"].get("total_memory", 0)')
		[ "$tot" != 0 ] && break
		sleep 0.1
	done
	bal_stop
	if [ "$tot" != $((256 << 20)) ]; then
		why="total_memory stat is '$tot'"
		return 1
	fi
	expect 0 'balloon: ready'
}

# Inflate, then exhaust memory through the page source: its OOM path
# deflates the balloon batch by batch (DEFLATE_ON_OOM) until it is empty;
# the host counts every page taken back below the target.
bal_oom() {
	bal_start --mem 128M --stats --check "$@" \
		--cmdline 'workload=balloon-oom' || return 1
	"$VMM" balloon --api "$bal_sock" --target 32M >/dev/null 2>&1
	wait "$bal_pid"
	status=$?
	out=$(cat "$TMP/bal.out")
	expect 0 'balloon-oom: [0-9]+ pages allocated, 8192 deflated on OOM of 8192' \
		'balloon_oom_deflates 8192'
}

test_balloon_oom() { bal_oom; }
test_balloon_oom_native() { bal_oom --memory-model native; }

# Native model: the guest touches 300 MiB, frees it, and reports it free
# (after 3 s); the host's RSS of guest RAM falls with the balloon at 0, the
# reported frames stay GUEST (PG_DISCARDED) and --check is clean at exit.
# The guest prints 'reported N pages free' once the whole pass is done
# (every chain used): only then are the host's figures final. A pass sends
# its blocks 32 at a time, so the first nonzero reported_pages is not it.
test_balloon_reporting_native() {
	local before after reported
	bal_start --mem 512M --memory-model native --stats --check --cmdline \
		'workload=balloon balloon.touch=300 balloon.drop=1 balloon.report_ms=3000' ||
		return 1
	bal_wait_ready || return 1
	before=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	bal_wait_for 'balloon: reported [0-9]+ pages free' || return 1
	reported=$(bal_json 'r["balloon"]["reported_pages"]')
	after=$(bal_json 'r["host"]["rss"]["guest_bytes"]')
	actual=$(bal_json 'r["balloon"]["actual_pages"]')
	bal_stop
	echo "  reporting: rss $((before >> 20)) MiB -> $((after >> 20)) MiB," \
		"$((reported >> 8)) MiB reported"
	if [ "$before" -lt $((300 << 20)) ] || [ "$after" -gt $((before - (250 << 20))) ]; then
		why="guest RSS $before -> $after after reporting $reported pages"
		return 1
	fi
	if [ "$reported" -lt $((250 << 8)) ] || [ "$actual" != 0 ]; then
		why="reported $reported pages, balloon actual $actual"
		return 1
	fi
	expect 0 'balloon: reported [0-9]+ pages free' 'balloon_failures 0'
}

# Hosted model, the guest's memory mostly free: the balloon takes whole
# 2 MiB blocks from the host and has it split them (pvmem SPLIT, ABI 1.4),
# so the host releases whole huge pages and no huge page in part; deflate
# gives the pages back one by one and --check is clean at exit.
test_balloon_hosted_whole_blocks() {
	local split huge part
	bal_start --mem 512M --stats --check \
		--cmdline 'workload=balloon balloon.touch=16' || return 1
	bal_wait_ready || return 1
	bal_target 256M 60 || return 1
	bal_target 0 60 || return 1
	bal_stop
	split=$(awk '$1 == "blocks_split" { print $2 }' <<<"$out")
	huge=$(awk '$1 == "balloon_huge_released" { print $2 }' <<<"$out")
	part=$(awk '$1 == "balloon_partial_released" { print $2 }' <<<"$out")
	echo "  hosted whole blocks: $split blocks split, $huge huge pages" \
		"released whole, $part in part"
	# 256 MiB are 128 blocks; the rings and the guest's own pages may
	# keep a few blocks from being whole.
	if [ "${split:-0}" -lt 120 ] || [ "${huge:-0}" -lt "$split" ]; then
		why="blocks_split '$split', balloon_huge_released '$huge'"
		return 1
	fi
	expect 0 'at target: target 65536 actual 65536' \
		'at target: target 0 actual 0 pages \(inflated 65536 deflated 65536' \
		'^op_split ok [1-9][0-9]* err 0$' 'balloon_failures 0'
}

# Hosted model, the guest's memory all in use: the balloon's pages come
# from the workload's shrinker, whose frees of DMA-zone pages (< 16 MiB)
# go home through the page ring, not one doorbell each (2652 doorbells
# for this inflate before, 17 after).
test_balloon_hosted_shrink_exits() {
	local d0 d1
	bal_start --mem 512M --stats --check \
		--cmdline 'workload=balloon balloon.touch=100000' || return 1
	bal_wait_ready || return 1
	d0=$(bal_json 'r["host"]["pvmem"]["doorbells"]')
	bal_target 256M 60 || return 1
	d1=$(bal_json 'r["host"]["pvmem"]["doorbells"]')
	bal_stop
	echo "  hosted shrink: $((d1 - d0)) doorbells for 256 MiB"
	if [ $((d1 - d0)) -ge 100 ]; then
		why="$((d1 - d0)) pvmem doorbells during the inflate (want < 100)"
		return 1
	fi
	expect 0 'at target: target 65536 actual 65536' 'balloon_failures 0'
}

check balloon-inflate-deflate kvm test_balloon_inflate_deflate
check balloon-stats kvm test_balloon_stats
check balloon-oom kvm test_balloon_oom
check balloon-oom-native kvm test_balloon_oom_native
check balloon-reporting-native kvm test_balloon_reporting_native
check balloon-hosted-whole-blocks kvm test_balloon_hosted_whole_blocks
check balloon-hosted-shrink-exits kvm test_balloon_hosted_shrink_exits

# tests/integration/compact.tests.sh - contiguous DMA buffers in a
# fragmented guest, CMA areas and the compaction controls under KVM,
# sourced by run.sh (uses its check/expect/run_vmm/start_with_api, $VMM,
# $GUEST, $TMP). Every VM run passes --check: the page database is clean
# at exit. The fragment workload is docs/compaction.md's experiment.

# cmp_stat NAME: the value of "NAME value" in the last run's output.
cmp_stat() {
	awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"
}

# cmp_fragment MODEL MODE SIZES REPS [VMM ARGS...]: run workload=fragment
# in a 1 GiB guest.
cmp_fragment() {
	local model=$1 mode=$2 sizes=$3 reps=$4
	shift 4
	out=$(timeout 120 "$VMM" run --mem 1G --memory-model "$model" \
		--check --stats --timeout 100 "$@" --cmdline \
		"workload=fragment fragment.mode=$mode fragment.sizes=$sizes fragment.reps=$reps" \
		"$GUEST" 2>&1)
	status=$?
}

# A guest that fragmented its memory still gets 64 MiB contiguous DMA
# buffers: movable blocks are migrated out of the way (hosted: by the
# guest through its ring, -EAGAIN then retry; native: mm/ in the guest).
cmp_gets_64m() {
	cmp_fragment "$1" on 64 2
	expect 0 'fragment: fragmented: [0-9]+ movable buffers' \
		'fragment: size 64 MiB ok 2/2 ' \
		'fragment: dma size_mib 64 try [01] status 0 .* migrated_frames [1-9]' \
		'fragment: [0-9]+ buffers granted, [1-9][0-9]* movable buffers moved' \
		'fragment: ok' || return 1
	grep -E 'fragment: dma size_mib 64' <<<"$out" | sed 's/^/  /'
}
test_compact_dma64_hosted() {
	cmp_gets_64m hosted || return 1
	expect 0 '^dma_contig_ok 2$' '^dma_contig_posted [1-9]' \
		'^migrate_in_flight 0$'
}
test_compact_dma64_native() { cmp_gets_64m native; }

# Without __GFP_DIRECT_RECLAIM nothing moves: the same request fails, and
# the host says why (hosted) with a distinct status, logged.
test_compact_dma64_off_hosted() {
	cmp_fragment hosted off 64 2
	expect 0 'fragment: dma size_mib 64 try 0 status -16 ' \
		'fragment: size 64 MiB ok 0/2 ' \
		'DMA_ALLOC of 67108864 bytes for device 63 below 2\^32 failed: unmovable frames' \
		'^dma_contig_ebusy 2$' '^migrate_posted 0$' 'fragment: ok'
}
test_compact_dma64_off_native() {
	cmp_fragment native off 64 2
	expect 0 'fragment: dma size_mib 64 try 0 status -12 ' \
		'fragment: size 64 MiB ok 0/2 ' 'fragment: ok'
}

# vmm run --cma: the area is MIGRATE_CMA (pagetypeinfo's CMA column,
# nr_free_cma) and serves the large buffers first.
test_compact_cma_hosted() {
	cmp_fragment hosted cma 16,64 2 --cma 128M
	expect 0 'fragment: size 64 MiB ok 2/2 ' 'fragment: ok' \
		'^cma_area 0 base_pfn [0-9]+ count 32768 ' \
		'^nr_free_cma [1-9]' '^dma_contig_cma [1-9]' || return 1
	grep -Eq 'zone +DMA32, type +CMA( +[0-9]+){10} +[1-9][0-9]* *$' \
		<<<"$out" || {
		why="pagetypeinfo has no free order-10 CMA blocks in DMA32"
		return 1
	}
}
test_compact_cma_native() {
	local base end
	cmp_fragment native cma 16,64 2 --cma 128M
	expect 0 'fragment: fragmented: .* cma area 0$' \
		'fragment: size 64 MiB ok 2/2 ' 'fragment: ok' || return 1
	# The guest reserved the area from cma=128M; the buffers lie in it.
	read -r base end < <(sed -nE \
		's/^fragment: cma area base (0x[0-9a-f]+) end (0x[0-9a-f]+)$/\1 \2/p' \
		<<<"$out")
	[ $((end - base)) -eq $((128 << 20)) ] || {
		why="cma area [$base, $end) is not 128 MiB"
		return 1
	}
	while read -r addr; do
		[ $((addr)) -ge $((base)) ] && [ $((addr)) -lt $((end)) ] || {
			why="buffer at $addr outside the CMA area"
			return 1
		}
	done < <(sed -nE 's/^fragment: dma size_mib 64 .* addr (0x[0-9a-f]+)$/\1/p' <<<"$out")
}

# A CMA area that cannot fit is a clear error before the guest runs.
test_compact_cma_too_big() {
	run_vmm run --mem 256M --cma 32M@dma "$GUEST"
	expect 1 '--cma: no free range of 32 MiB in zone dma'
}

check compact-dma64-hosted kvm test_compact_dma64_hosted
check compact-dma64-native kvm test_compact_dma64_native
check compact-dma64-off-hosted kvm test_compact_dma64_off_hosted
check compact-dma64-off-native kvm test_compact_dma64_off_native
check compact-cma-hosted kvm test_compact_cma_hosted
check compact-cma-native kvm test_compact_cma_native
check compact-cma-too-big kvm test_compact_cma_too_big

# vmm run --movable: the top 128 MiB of a 256 MiB guest is ZONE_MOVABLE
# in the device tree, the allocator (the host's, or the native guest's
# own) and the statistics. The fragment workload fills all the RAM it can
# get with unmovable pages: they stay below the zone (30,000-odd of the
# 32,768 frames there; 46,000-odd without --movable), its pageblocks all
# stay Movable, and the movable buffers went into it.
movable_run() {
	out=$(timeout 120 "$VMM" run --mem 256M --movable 128M \
		--memory-model "$1" --check --stats --timeout 100 --cmdline \
		'workload=fragment fragment.sizes=2 fragment.reps=1' \
		"$GUEST" 2>&1)
	status=$?
	expect 0 'zone Movable +\[0x8000000, 0x10000000\)' \
		'fragment: buddyinfo before zone Movable ' \
		'^Node 0, zone +Movable +0 +64 +0 +0 +0 *$' 'fragment: ok' ||
		return 1
	local pages
	pages=$(sed -nE 's/.* ([0-9]+) kernel pages .*/\1/p' <<<"$out")
	if [ -z "$pages" ] || [ "$pages" -ge 32768 ]; then
		why="${pages:-no} unmovable kernel pages: more than RAM below the Movable zone"
		return 1
	fi
	grep -E 'fragment: buddyinfo before zone Movable|kernel pages' \
		<<<"$out" | sed 's/^/  /'
}
test_movable_hosted() { movable_run hosted; }
test_movable_native() { movable_run native; }
check movable-zone-hosted kvm test_movable_hosted
check movable-zone-native kvm test_movable_native

# A CMA area that the Movable zone left no room for says so.
test_movable_cma_no_room() {
	run_vmm run --mem 512M --movable 320M --cma 256M "$GUEST"
	expect 1 '--cma: no free range of 256 MiB in zone dma32, normal or dma' \
		'--movable takes the top of RAM out of them'
}
check movable-cma-no-room kvm test_movable_cma_no_room

# vmm compact over the API, on a guest that stays fragmented: it prints
# per zone what it did, the JSON has the counters, stat has
# host.compaction, and the hosted guest answers the requests it posted.
test_compact_api() {
	local sock=$TMP/cmp.sock pid rc
	cmp_log=$TMP/cmp.out
	start_with_api "$sock" "$cmp_log" --timeout 200 --mem 512M --stats \
		--check --cmdline \
		'workload=fragment fragment.sizes=2 fragment.reps=1 fragment.hold=1' ||
		return 1
	pid=$vm_pid
	wait_for_output "$cmp_log" 'fragment: holding' 60 &&
		"$VMM" compact --api "$sock" --zone dma32 >"$TMP/cmp.cli" 2>&1 &&
		"$VMM" compact --api "$sock" --order 9 --json >"$TMP/cmp.json" 2>&1 &&
		"$VMM" stat --api "$sock" --json >"$TMP/cmp.stat" 2>&1
	rc=$?
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$pid"
	status=$?
	out=$(cat "$cmp_log" "$TMP/cmp.cli" "$TMP/cmp.json")
	[ $rc -eq 0 ] || {
		why=${why:-"vmm compact or stat failed"}
		return 1
	}
	sed 's/^/  /' "$TMP/cmp.cli"
	expect 0 '^zone DMA32 +[a-z_]+: scanned [1-9][0-9]* \(migrate\)' \
		'order-9 blocks [0-9]+ -> [0-9]+, fragmentation score' \
		'"migrate_scanned": [0-9]+' '"blocks_before": [0-9]+' \
		'"time_us": [0-9]+' '^compact_migrate_scanned [1-9]' ||
		return 1
	python3 - "$TMP/cmp.stat" <<'EOF' || {
import json, sys
c = json.load(open(sys.argv[1]))["host"]["compaction"]
assert c["vmstat"]["compact_migrate_scanned"] > 0, c["vmstat"]
z = {z["name"]: z for z in c["zones"]}["DMA32"]
assert len(z["unusable_index"]) == 11 and len(z["extfrag_index"]) == 11
assert 0 <= z["fragmentation_score"] <= 100
EOF
		why="stat's host.compaction is not as documented"
		return 1
	}
}
check compact-api kvm test_compact_api

# Bad arguments are exit status 2, without a VM; no VMM is status 1.
test_compact_cli_errors() {
	run_vmm compact --api "$TMP/none.sock" --order 11
	expect 2 "--order: '11' is not an order in 0 .. 10" || return 1
	run_vmm compact --api "$TMP/none.sock" --zone High
	expect 2 "--zone: 'High' is not DMA" || return 1
	run_vmm run --cma 12X "$GUEST"
	expect 2 "--cma: '12X' is not a size" || return 1
	run_vmm run --cma 64M@movable "$GUEST"
	expect 2 "--cma: unknown zone 'movable'" || return 1
	run_vmm run --movable 3M "$GUEST"
	expect 2 "--movable: '3M' is not a nonzero multiple of 2M" || return 1
	run_vmm run --movable 192M "$GUEST"
	expect 2 '--movable: 192 MiB leaves less than 65 MiB of --mem' ||
		return 1
	run_vmm compact --api "$TMP/none.sock"
	expect 1 'vmm compact: no VMM at'
}
check compact-cli-errors nokvm test_compact_cli_errors

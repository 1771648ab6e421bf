#!/usr/bin/env bash
# tests/bench/api_bench.sh - round trip of a stat request over the control
# socket (one kept connection, 500 requests in turn), first with no other
# client, then with hostile clients (tests/integration/api_hostile.py: one
# that never reads, half a line, a flood of pipelined requests, connect and
# drop mid-reply, a monitor polling over one connection, and a crowd of 200
# connections beyond the 64-client maximum). The peer is the same VMM
# without them; the ratio is what the hostile clients cost a well-behaved
# one. `make bench` runs it (tests/tests.mk BENCH_SCRIPTS).
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
HERE=$(dirname "$0")
HOSTILE=$HERE/../integration/api_hostile.py
N=500
TMP=$(mktemp -d /tmp/api-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "api bench: SKIPPED (no usable /dev/kvm)"
	exit 0
fi

sock=$TMP/vm.sock
"$VMM" run --api "$sock" --timeout 600 --cmdline workload=hang "$GUEST" \
	>"$TMP/vm.log" 2>&1 &
vm=$!
for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done

python3 "$HERE/api_bench.py" "$sock" $N "$HOSTILE" >"$TMP/rt" || {
	"$VMM" quit --api "$sock" --timeout 30 >/dev/null
	wait $vm
	exit 1
}
read -r _ q_med q_p99 q_max < <(grep '^quiet' "$TMP/rt")
read -r _ h_med h_p99 h_max < <(grep '^hostile' "$TMP/rt")
"$VMM" quit --api "$sock" --timeout 30 >/dev/null
wait $vm
printf '%-34s %9s %9s %9s\n' "stat round trip ($N, one connection)" \
	"median us" "p99 us" "max us"
printf '%-34s %9s %9s %9s\n' "no other client" "$q_med" "$q_p99" "$q_max"
printf '%-34s %9s %9s %9s\n' "hostile clients" "$h_med" "$h_p99" "$h_max"
awk -v a="$h_med" -v b="$q_med" -v c="$h_p99" -v d="$q_p99" 'BEGIN {
	printf "%-34s %9.2f %9.2f\n", "ratio (hostile / quiet)", a / b, c / d }'

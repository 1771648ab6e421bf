#!/usr/bin/env bash
# tests/bench/balloon_bench.sh - the balloon and the guest's own touch of its
# RAM, in both memory models, each figure beside its goal:
#   inflate  a 2 GiB guest that has touched all its RAM inflates 1 GiB:
#            timed until actual == target AND the host backing of guest RAM
#            has dropped by >= 90% of it (goal <= 40 ms/GiB);
#   deflate  the same 1 GiB back (no goal set; reported);
#            BALLOON_ROUNDS (3) VMs per model: the median VM's figures, each
#            VM's inflate time, and the median VM's profile: its vCPU
#            thread's CPU time and time waiting for a CPU during the
#            inflate (schedstat), the guest's phases (balloon.prof=1, guest
#            TSC) and the host's share (--stats balloon_inflate_ns, of which
#            balloon_discard_ns);
#   touch    a 2 GiB guest allocates 1 GiB and writes one word per page
#            (guest TSC, its own VM), against the host's own touch of 1 GiB
#            of anonymous THP memory, one word per page, measured just
#            before that VM (tests/bench/host_touch.c; goal <= 2x);
#   fill     the same writing every byte of each page, on both sides.
#            TOUCH_ROUNDS (5) rounds of a host run then a guest run: the
#            medians of each side and of the rounds' ratios (a round's two
#            runs share the machine's load of the moment).
# The peer, in the same run: the same guest, workload and 1 GiB inflate and
# deflate under QEMU microvm (scripts/qemu-run: QEMU's virtio-balloon over
# virtio-mmio, set by QMP `balloon`, actual by `query-balloon`; the RSS drop
# is its guest-RAM mapping's, tests/bench/qmp_balloon_poll.py), and the
# ratio buddyvm / QEMU per model.
# Every wait is for a state (the guest's "ready" line, actual == target and
# the RSS drop, bounded), never a sleep. `make bench` runs it.
#
# Anchor: Linux + QEMU inflated 7 GB in 4.1 s, 0.49 s with scatter-gather
# (~70 ms/GiB).
set -uo pipefail

BUILD=${BUILD:-build}
VMM=$BUILD/vmm
GUEST=$BUILD/guest.elf
HERE=$(dirname "$0")
POLL=$HERE/balloon_poll.py
QPOLL=$HERE/qmp_balloon_poll.py
QEMU_RUN=$HERE/../../scripts/qemu-run
TMP=$(mktemp -d /tmp/balloon-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/bench/bench_goal.sh
. "$HERE/bench_goal.sh"

if ! (exec 3<>/dev/kvm) 2>/dev/null; then
	echo "balloon bench: SKIPPED (no usable /dev/kvm)"
	exit 0
fi
if ! cc -O2 -o "$TMP/host_touch" "$HERE/host_touch.c"; then
	echo "balloon bench: cannot build tests/bench/host_touch.c" >&2
	exit 1
fi

# wait_log LOG PATTERN PID: the VM printed PATTERN (0), or exited first (1);
# bounded by the VM's own --timeout.
wait_log() {
	until grep -Eqs "$2" "$1"; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
}

stat_line() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

TOUCH_ROUNDS=${TOUCH_ROUNDS:-5}

# median: the median of the numbers on stdin, "-" if any is not a number.
median() {
	sort -n | awk '!/^[0-9.]+$/ { bad = 1 } { v[NR] = $1 }
		END { if (bad || !NR) print "-"
		      else print (NR % 2) ? v[(NR + 1) / 2] \
			: (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# guest_touch MODEL ONE: one VM that allocates and writes 1 GiB (ONE=1: a
# word per page) and exits; prints its ms per GiB, "-" if it did not.
guest_touch() {
	timeout 300 "$VMM" run --mem 2G --memory-model "$1" --timeout 240 \
		--cmdline "workload=balloon balloon.touch=1024 balloon.ms=1 \
balloon.touch_one=$2" "$GUEST" 2>&1 | awk '
		/^balloon: touched [0-9]+ MiB in [0-9]+ ms$/ && $3 > 0 {
			ms = $6 * 1024 / $3 }
		END { print (ms != "") ? ms : "-" }'
}

# touch_model MODEL: TOUCH_ROUNDS of the host's touch of 1 GiB then a
# guest's, and the same for fill; prints the medians "host_touch_ms
# guest_touch_ms touch_ratio host_fill_ms guest_fill_ms fill_ratio".
touch_model() {
	local r w h g f out=
	for ((r = 0; r < TOUCH_ROUNDS; r++)); do
		for w in touch fill; do
			read -r h _ < <("$TMP/host_touch" anon "$w")
			g=$(guest_touch "$1" $([ "$w" = touch ] && echo 1 || echo 0))
			echo "${h:--} $g" >>"$TMP/$1.$w"
		done
	done
	for w in touch fill; do
		f=$TMP/$1.$w
		out+="$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median)"
		out+=" $(awk '$1 > 0 && $2 ~ /^[0-9.]+$/ { print $2 / $1; next }
			{ print "-" }' "$f" | median) "
	done
	echo "$out"
}

BALLOON_ROUNDS=${BALLOON_ROUNDS:-3}

# balloon_prof LOG: the guest's inflate profile (its last "prof" line) and
# the host's share (--stats) as one line of milliseconds.
balloon_prof() {
	awk '/^balloon: prof batches [1-9]/ { p = $0 }
	/^balloon_inflate_notifies / { n = $2 }
	/^balloon_inflate_ns / { h = $2 }
	/^balloon_discard_ns / { d = $2 }
	END {
		k = split(p, f, " ")
		for (i = 1; i < k; i++) {
			if (f[i] == "batches" || f[i] == "runs")
				c = c sprintf(" %s %s", f[i + 1], f[i])
			if (f[i] == "us")
				on = 1
			else if (on && f[i + 1] ~ /^[0-9]+$/)
				g = g sprintf(" %s %.1f", f[i], f[i + 1] / 1000)
		}
		printf "guest (%s) ms:%s; host %.1f ms (discard %.1f) in %s" \
			" notifications\n", substr(c, 2), g, h / 1e6, d / 1e6, n
	}' "$1"
}

# vcpu_sched PID: "run_ns wait_ns" of the VM's vCPU thread so far: the CPU
# time it ran (guest and the host's work on its exits) and the time it
# waited, runnable, for a CPU (/proc/PID/task/TID/schedstat).
vcpu_sched() {
	local t
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = vcpu ]; then
			cut -d' ' -f1-2 "$t/schedstat"
			return
		fi
	done
	echo "0 0"
}

# balloon_vm MODEL ROUND: one VM that touches all its RAM, inflates 1 GiB
# and deflates it; prints "inflate_ms deflate_ms rss_before rss_after huge
# part" and leaves its profile in $TMP/MODEL.ROUND.prof.
balloon_vm() {
	local model=$1 sock=$TMP/$1.$2.sock log=$TMP/$1.$2.log pid
	local ms before after dms huge=- part=- r0 w0 r1 w1
	"$VMM" run --mem 2G --memory-model "$model" --api "$sock" --stats \
		--timeout 600 \
		--cmdline 'workload=balloon balloon.touch=2048 balloon.prof=1' \
		"$GUEST" >"$log" 2>&1 &
	pid=$!
	if ! wait_log "$log" '^balloon: ready' "$pid"; then
		echo "$model: the guest never became ready:" >&2
		tail -5 "$log" >&2
		return 1
	fi
	# One persistent API connection polls the state (balloon_poll.py): a
	# `vmm stat` process per sample would cost ~20 ms each.
	read -r r0 w0 < <(vcpu_sched "$pid")
	if ! read -r ms _ _ before after _ < <(python3 "$POLL" "$sock" \
		$((1 << 30)) $((1024 * 1048576 * 9 / 10))); then
		echo "$model: inflate did not reach 1 GiB within 120 s" >&2
		ms=- before=0 after=0
	fi
	read -r r1 w1 < <(vcpu_sched "$pid")
	read -r dms _ < <(python3 "$POLL" "$sock" 0) || dms=-
	"$VMM" quit --api "$sock" >/dev/null
	wait "$pid"
	huge=$(stat_line "$log" balloon_huge_released)
	part=$(stat_line "$log" balloon_partial_released)
	echo "vCPU thread $(((r1 - r0) / 1000000)) ms on a CPU, $(((w1 - w0) \
		/ 1000000)) ms waiting for one; $(balloon_prof "$log")" \
		>"$TMP/$model.$2.prof"
	echo "$ms $dms $before $after ${huge:--} ${part:--}"
}

# bench_model MODEL: the touch, then BALLOON_ROUNDS balloon VMs; prints one
# line of figures for the tables, the median VM's by inflate time:
# "model host_touch_ms guest_touch_ms touch_ratio host_fill_ms
#  guest_fill_ms fill_ratio inflate_ms deflate_ms rss_before rss_after huge
#  part"; each VM's inflate ms in $TMP/MODEL.all, the median's profile in
#  $TMP/MODEL.prof.
bench_model() {
	local model=$1 touch r row
	touch=$(touch_model "$model")
	for ((r = 0; r < BALLOON_ROUNDS; r++)); do
		echo "$r $(balloon_vm "$model" "$r" || echo - - 0 0 - -)" \
			>>"$TMP/$model.vms"
	done
	cut -d' ' -f2 "$TMP/$model.vms" | tr '\n' ' ' >"$TMP/$model.all"
	# A VM that failed ("-") sorts last; the bench still fails below.
	row=$(awk '{ print (($2 ~ /^[0-9.]+$/) ? $2 : 1e18), $0 }' \
		"$TMP/$model.vms" | sort -g | cut -d' ' -f2- |
		awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }')
	r=${row%% *}
	cp "$TMP/$model.$r.prof" "$TMP/$model.prof" 2>/dev/null
	echo "$model $touch ${row#* }"
	! grep -q '^[0-9]* - ' "$TMP/$model.vms"
}

# bench_qemu: bench_model's balloon VM under QEMU microvm; prints
# "qemu inflate_ms deflate_ms rss_before rss_after", or nothing (and fails).
bench_qemu() {
	local sock=$TMP/qemu.qmp log=$TMP/qemu.log pid ms dms before after
	timeout 900 "$QEMU_RUN" --mem 2G --qmp "$sock" --pidfile "$TMP/qemu.pid" \
		--cmdline 'workload=balloon balloon.touch=2048' "$GUEST" \
		>"$log" 2>&1 &
	pid=$!
	if ! wait_log "$log" '^balloon: ready' "$pid"; then
		echo "qemu: the guest never became ready:" >&2
		tail -5 "$log" >&2
		kill "$pid" 2>/dev/null
		return 1
	fi
	if ! read -r ms _ _ before after _ < <(python3 "$QPOLL" "$sock" \
		"$(cat "$TMP/qemu.pid")" $((2 << 30)) $((1 << 30)) \
		$((1024 * 1048576 * 9 / 10))); then
		echo "qemu: inflate did not reach 1 GiB within 120 s" >&2
		ms=- before=0 after=0
	fi
	read -r dms _ < <(python3 "$QPOLL" "$sock" "$(cat "$TMP/qemu.pid")" \
		$((2 << 30)) 0) || dms=-
	python3 "$HERE/../../scripts/qmp.py" "$sock" quit >/dev/null
	wait "$pid"
	echo "qemu $ms $dms $before $after"
}

rc=0
for m in hosted native; do
	bench_model "$m" >>"$TMP/rows" || rc=1
done
if command -v qemu-system-x86_64 >/dev/null; then
	bench_qemu >"$TMP/qemu_row" || rc=1
else
	echo "balloon bench: QEMU not installed (scripts/install-deps.sh):" \
		"no peer rows" >&2
	rc=1
fi

echo "balloon: 1 GiB of a 2 GiB guest that touched all its RAM, median of" \
	"$BALLOON_ROUNDS VMs (anchor: Linux + QEMU ~70 ms/GiB with" \
	"scatter-gather, 585 without; load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-7s %15s  %-26s %15s  %-18s %s\n' model 'inflate ms/GiB' \
	'goal (inflate)' 'deflate ms/GiB' '2 MiB pages whole' \
	'RSS of guest RAM, MiB'
while read -r m _ _ _ _ _ _ ms dms before after huge part; do
	printf '%-7s %15s  %-26s %15s  %-18s %s -> %s\n' "$m" "$ms" \
		"$(bench_goal "$ms" '<=' 40 ms/GiB)" "$dms" \
		"$huge (+$part in part)" $((before >> 20)) $((after >> 20))
	[ "$ms" = - ] && rc=1
done <"$TMP/rows"
while read -r m _; do
	echo "$m: inflate ms/GiB of each VM: $(cat "$TMP/$m.all")"
	echo "$m: the median VM's profile: $(cat "$TMP/$m.prof" 2>/dev/null)"
done <"$TMP/rows"
if [ -s "$TMP/qemu_row" ] && read -r _ qms qdms qbefore qafter <"$TMP/qemu_row"
then
	printf '%-7s %15s  %-26s %15s  %-18s %s -> %s\n' qemu "$qms" \
		"(peer: microvm, QMP)" "$qdms" - $((qbefore >> 20)) \
		$((qafter >> 20))
	[ "$qms" = - ] && rc=1
	while read -r m _ _ _ _ _ _ ms dms _; do
		awk -v m="$m" -v a="$ms" -v b="$qms" -v c="$dms" -v d="$qdms" '
		function r(x, y) {
			ok = x ~ /^[0-9.]+$/ && y ~ /^[0-9.]+$/ && y > 0
			return ok ? sprintf("%.2f", x / y) : "-"
		}
		BEGIN { printf "ratio buddyvm %s / QEMU: inflate %s, deflate %s\n",
			m, r(a, b), r(c, d) }'
	done <"$TMP/rows"
fi
echo
echo "a guest's touch of 1 GiB of its RAM (allocate + write one word per" \
	"page; fill: every byte; guest TSC) against the host's own of 1 GiB of" \
	"anonymous THP memory: medians of $TOUCH_ROUNDS rounds (ratio: of the" \
	"rounds' ratios), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %-6s %15s %15s %8s  %s\n' model write 'guest ms/GiB' \
	'host ms/GiB' ratio goal
while read -r m ht gt tx hf gf fx _; do
	for w in touch fill; do
		if [ "$w" = touch ]; then h=$ht g=$gt x=$tx; else
			h=$hf g=$gf x=$fx
		fi
		x=$(awk -v x="$x" 'BEGIN {
			if (x ~ /^[0-9.]+$/) printf "%.2f", x; else print "-" }')
		printf '%-7s %-6s %15s %15s %8s  %s\n' "$m" "$w" "$g" "$h" \
			"$x" "$(bench_goal "$x" '<=' 2 x)"
		[ "$g" = - ] && rc=1
	done
done <"$TMP/rows"
exit $rc

#!/usr/bin/env bash
# Run libFuzzer harnesses: tests/fuzz/run.sh BINDIR SECONDS NAME...
#
# For each NAME, BINDIR/NAME first replays every regression input
# (tests/fuzz/regress/NAME/) and seed (tests/fuzz/corpus/NAME/) once, then
# fuzzes for SECONDS on a scratch copy of the seeds in BINDIR/work/NAME/
# (the tree's corpus is never written). Crashes, leaks, timeouts and
# broken invariants fail the harness; their input is kept as
# BINDIR/work/NAME/crash-* (or leak-*, timeout-*), the log as .../log.
# One summary line per harness: executions, exec/s and libFuzzer's
# coverage (cov: edges, ft: features) at the end of the run.
#
# Exit status: 0 every harness ran clean, 1 one failed, 2 bad usage.
# FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
# FUZZ_RESUME=DIR starts from DIR/NAME/ as well as the seeds: the corpus a
# longer run grew (BINDIR/work/NAME/corpus, copied aside first).
set -uo pipefail
if [ $# -lt 2 ]; then
	echo "usage: $0 BINDIR SECONDS NAME..." >&2
	exit 2
fi
bindir=$1
secs=$2
shift 2
case $secs in
'' | *[!0-9]*)
	echo "run.sh: SECONDS must be a whole number, not '$secs'" >&2
	exit 2
	;;
esac
src=$(cd "$(dirname "$0")" && pwd)
failed=0

# Options every run shares: a stuck input is a failure after 25 s, a
# runaway allocation after 2 GiB; inputs are capped at 4 KiB.
common=(-timeout=25 -rss_limit_mb=2048 -max_len=4096)

fuzz_one() {
	local name=$1 bin=$bindir/$1 work=$bindir/work/$1
	local seeds=$src/corpus/$1 regress=$src/regress/$1
	local replay=() rc line execs rate

	if [ ! -x "$bin" ]; then
		echo "fuzz $name: FAILED: no harness at $bin (make fuzz-build)"
		return 1
	fi
	rm -rf "$work"
	mkdir -p "$work/corpus"
	[ -d "$seeds" ] && cp "$seeds"/. "$work/corpus/" -r
	if [ -n "${FUZZ_RESUME:-}" ] && [ -d "$FUZZ_RESUME/$name" ]; then
		cp "$FUZZ_RESUME/$name"/. "$work/corpus/" -r
	fi
	[ -d "$regress" ] && replay+=("$regress")
	[ -d "$seeds" ] && replay+=("$seeds")
	if [ ${#replay[@]} -gt 0 ] &&
		! "$bin" "${common[@]}" -runs=0 -artifact_prefix="$work/" \
			"${replay[@]}" \
			>"$work/replay.log" 2>&1; then
		echo "fuzz $name: FAILED replaying regression inputs/seeds:"
		tail -n 30 "$work/replay.log"
		return 1
	fi
	"$bin" "${common[@]}" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/" ${FUZZ_ARGS:-} "$work/corpus" \
		>"$work/log" 2>&1
	rc=$?
	line=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	if [ $rc -ne 0 ]; then
		echo "fuzz $name: FAILED (libFuzzer status $rc), log $work/log:"
		grep -E -A 25 '^(==[0-9]+==|fuzz invariant|.*runtime error)' \
			"$work/log" | head -n 40
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
			"$work"/oom-* 2>/dev/null | sed 's/^/  input: /'
		return 1
	fi
	echo "fuzz $name: ok, ${execs:-?} execs (${rate:-?}/s);" \
		"$(echo "$line" | grep -oE 'cov: [0-9]+ ft: [0-9]+')" \
		"corp: $(find "$work/corpus" -type f | wc -l)"
}

for name in "$@"; do
	fuzz_one "$name" || failed=1
done
exit $failed

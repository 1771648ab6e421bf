# shellcheck shell=bash
# tests/bench/bench_goal.sh - sourced by the benchmark scripts: the verdict
# beside a figure with a goal, as tests/bench/bench_goal.h prints it.
#
#   bench_goal VALUE OP GOAL UNIT   ->  "goal <= 40 ms/GiB: met" | "...: MISSED"
#   (OP is <= or >=; a VALUE that is not a number is MISSED)
bench_goal() {
	awk -v v="$1" -v op="$2" -v g="$3" -v u="$4" 'BEGIN {
		num = (v ~ /^-?[0-9]+(\.[0-9]+)?$/)
		met = num && (op == "<=" ? v + 0 <= g + 0 : v + 0 >= g + 0)
		sp = (u == "" || u ~ /^[x%]/) ? "" : " "
		printf "goal %s %s%s%s: %s\n", op, g, sp, u,
			met ? "met" : "MISSED"
	}'
}

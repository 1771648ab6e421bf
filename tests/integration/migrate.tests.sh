# tests/integration/migrate.tests.sh - migration of the guest's movable
# frames under KVM, sourced by run.sh (uses its check/expect/run_vmm,
# $VMM, $GUEST). Hosted: the host compacts with the guest's cooperation
# (pvmem ABI 1.1); native: the guest compacts its own buddy. Every run
# passes --check: the page database is clean at exit.

# mig_stat NAME: the value of "NAME value" in the last run's --stats output.
mig_stat() {
	awk -v k="$1" '$1 == k { print $2; exit }' <<<"$out"
}

# Movable buffers survive the host moving them: the guest drains the
# ring, copies, answers; pinned buffers are refused and stay put.
test_migrate_hosted() {
	run_vmm run --mem 256M --check --stats --timeout 60 \
		--cmdline 'workload=migrate migrate.bufs=256' "$GUEST"
	expect 0 'migrate: host posted [1-9][0-9]* requests' \
		'migrate: [1-9][0-9]* of 128 buffers moved, 16 pinned' \
		'migrate: ok' '^migrate_in_flight 0$' '^migrate_timed_out 0$' \
		'^migrate_bad_answers 0$' || return 1
	[ "$(mig_stat migrate_committed)" -gt 0 ] &&
		[ "$(mig_stat migrate_refused)" -gt 0 ] || {
		why="committed $(mig_stat migrate_committed), refused $(mig_stat migrate_refused)"
		return 1
	}
}

# The same workload in the native model: mm/'s compaction in the guest.
test_migrate_native() {
	run_vmm run --mem 256M --memory-model native --check --stats \
		--timeout 60 --cmdline 'workload=migrate migrate.bufs=256' \
		"$GUEST"
	expect 0 'migrate: native compaction moved [1-9][0-9]* frames' \
		'migrate: [1-9][0-9]* of 128 buffers moved, 16 pinned' \
		'migrate: ok'
}

# A guest that lies, refuses and ignores: each lie gets its error, the
# ignored requests time out, the guest still holds all its blocks and
# the host lost nothing (--check).
test_migrate_hostile() {
	run_vmm run --mem 256M --check --stats --timeout 60 \
		--cmdline workload=migrate-hostile "$GUEST"
	expect 0 'migrate-hostile: 8 answers, each its own status' \
		'ignored requests cancelled after [0-9]+ ms' \
		'migrate-hostile: ok' '^migrate_posted 8$' \
		'^migrate_committed 1$' '^migrate_refused 1$' \
		'^migrate_timed_out 6$' '^migrate_bad_answers 7$' \
		'^migrate_in_flight 0$'
}

# A guest that never asks for a ring (every other workload) is never
# asked anything, and its movable allocations stay where they are.
test_migrate_old_guest() {
	run_vmm run --mem 256M --check --stats --timeout 60 \
		--cmdline workload=pressure "$GUEST"
	expect 0 '^migrate_posted 0$' '^op_migrate_setup ok 0 err 0$'
}

check migrate-hosted kvm test_migrate_hosted
check migrate-native kvm test_migrate_native
check migrate-hostile kvm test_migrate_hostile
check migrate-old-guest kvm test_migrate_old_guest

# mig_balloon MODEL: the host inflates 32 MiB, the guest compacts (the
# ballooned pages move), the host deflates all: every pfn the driver names
# is still a BALLOON frame to the host, and --check is clean.
mig_balloon() {
	local sock=$TMP/migb.sock pid
	mig_log=$TMP/migb.out
	start_with_api "$sock" "$mig_log" --timeout 100 --mem 256M \
		--memory-model "$1" --stats --check \
		--cmdline workload=migrate-balloon || return 1
	pid=$vm_pid
	wait_for_output "$mig_log" 'migrate-balloon: ready' &&
		"$VMM" balloon --api "$sock" --target 32M --wait \
			--timeout 30 >"$TMP/migb.cli" 2>&1 &&
		wait_for_output "$mig_log" 'balloon pages moved' &&
		"$VMM" balloon --api "$sock" --target 0 --wait \
			--timeout 30 >>"$TMP/migb.cli" 2>&1 &&
		wait_for_output "$mig_log" 'migrate-balloon: done'
	local rc=$?
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$pid"
	status=$?
	out=$(cat "$mig_log" "$TMP/migb.cli")
	[ $rc -eq 0 ] || {
		why=${why:-"balloon command failed"}
		return 1
	}
	grep -E 'balloon pages moved' "$mig_log" | sed 's/^/  /'
	expect 0 'migrate-balloon: inflated 8192 pages' \
		'migrate-balloon: [1-9][0-9]* balloon pages moved' \
		'migrate-balloon: done' '^balloon_bad_pfns 0$' \
		'^balloon_actual_pages 0$'
}
test_migrate_balloon_hosted() { mig_balloon hosted; }
test_migrate_balloon_native() { mig_balloon native; }

check migrate-balloon-hosted kvm test_migrate_balloon_hosted
check migrate-balloon-native kvm test_migrate_balloon_native

# An idle guest (halted, no timer) is woken by the migration interrupt the
# host pulses when requests have waited half their timeout; it then drains.
test_migrate_wakeup() {
	run_vmm run --mem 256M --check --stats --timeout 30 \
		--cmdline 'workload=migrate migrate.wait_irq=1' "$GUEST"
	expect 0 'migrate: woken by the migration interrupt after [0-9]+ ms' \
		'migrate: ok' '^migrate_in_flight 0$'
}
check migrate-wakeup kvm test_migrate_wakeup

# mig_in_flight SOCK: the running VM's host.pvmem.migrate.in_flight
# (requests posted and not yet answered, cancelled or timed out).
mig_in_flight() {
	"$VMM" stat --api "$1" --json 2>/dev/null | python3 -c 'import json,sys
d = json.load(sys.stdin); print(d.get("result", d)["host"]["pvmem"]["migrate"]["in_flight"])'
}

# mig_compact_until SOCK PATTERN: while the guest has not said PATTERN,
# run `vmm compact` whenever nothing is in flight (the guest answered the
# last pass, or its requests timed out on a loaded host), as many passes
# as it takes; then wait until nothing is in flight (a pass that raced
# with the guest's last answer is cancelled or times out). Fails at once
# when the VM exits; the 90 s bound (under the VM's --timeout) only stops
# a hang.
mig_compact_until() {
	local end=$((SECONDS + 90)) n
	while [ $SECONDS -lt $end ]; do
		kill -0 "$vm_pid" 2>/dev/null || {
			why="the VM exited before /$2/ with nothing in flight"
			return 1
		}
		n=$(mig_in_flight "$1") || n=''
		if grep -Eq -- "$2" "$mig_log"; then
			[ "$n" = 0 ] && return 0
		elif [ "$n" = 0 ]; then
			"$VMM" compact --api "$1" >>"$TMP/migc.cli" 2>&1 || {
				why="vmm compact failed before /$2/"
				return 1
			}
		fi
		sleep 0.1
	done
	why="no /$2/ with nothing in flight after 90 s of compactions"
	return 1
}

# The operator compacts a running hosted guest (vmm compact, mm/'s
# compaction on the host database): the guest's movable buffers become
# requests in its ring, the idle guest drains them (its timer tick or the
# migration interrupt wakes it), every buffer keeps its data.
test_migrate_vmm_compact() {
	local sock=$TMP/migc.sock pid
	mig_log=$TMP/migc.out
	start_with_api "$sock" "$mig_log" --timeout 100 --mem 256M --stats \
		--check --cmdline 'workload=migrate migrate.host=1' || return 1
	pid=$vm_pid
	: >"$TMP/migc.cli"
	wait_for_output "$mig_log" 'migrate: waiting for the host' &&
		mig_compact_until "$sock" 'migrate: ok' &&
		"$VMM" stat --api "$sock" --json >"$TMP/migc.json"
	local rc=$?
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$pid"
	status=$?
	out=$(cat "$mig_log" "$TMP/migc.cli")
	[ $rc -eq 0 ] || {
		why=${why:-"a vmm command failed"}
		return 1
	}
	expect 0 'pending [1-9][0-9]* frames' \
		'migrate: [1-9][0-9]* of 128 buffers moved, 16 pinned' \
		'migrate: ok' '^migrate_committed [1-9]' '^migrate_in_flight 0$' \
		'^migrate_bad_answers 0$' || return 1
	# The control API shows the same: stat's host.pvmem.migrate.
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); m = d.get("result", d)["host"]["pvmem"]["migrate"]
sys.exit(0 if m["committed"] > 0 and m["posted"] >= m["committed"] else 1)' \
		"$TMP/migc.json" || {
		why="stat host.pvmem.migrate: $(cat "$TMP/migc.json" | head -c 300)"
		return 1
	}
}
check migrate-vmm-compact kvm test_migrate_vmm_compact

# Pause, compact, resume (vm_pause/vm_resume tell the device, so guest
# blocks are not asked and ballooned frames may move alone, logged), then
# deflate everything: every pfn the driver names is still ballooned, no
# request is left, --check is clean. (Whether compaction finds targets for
# the balloon frames here is mm/'s business; the moves themselves are
# checked by the unit suite's test_balloon_paused.)
test_migrate_paused() {
	local sock=$TMP/migp.sock pid
	mig_log=$TMP/migp.out
	start_with_api "$sock" "$mig_log" --timeout 100 --mem 256M --stats \
		--check --cmdline 'workload=migrate-balloon migrate-balloon.host=1' ||
		return 1
	pid=$vm_pid
	: >"$TMP/migp.cli"
	wait_for_output "$mig_log" 'migrate-balloon: ready' &&
		"$VMM" balloon --api "$sock" --target 32M --wait \
			--timeout 30 >>"$TMP/migp.cli" 2>&1 &&
		wait_for_output "$mig_log" 'migrate-balloon: waiting for the host' &&
		"$VMM" pause --api "$sock" >>"$TMP/migp.cli" 2>&1 &&
		"$VMM" compact --api "$sock" >>"$TMP/migp.cli" 2>&1 &&
		"$VMM" resume --api "$sock" >>"$TMP/migp.cli" 2>&1 &&
		"$VMM" balloon --api "$sock" --target 0 --wait \
			--timeout 30 >>"$TMP/migp.cli" 2>&1 &&
		wait_for_output "$mig_log" 'migrate-balloon: done'
	local rc=$?
	"$VMM" quit --api "$sock" >/dev/null 2>&1
	wait "$pid"
	status=$?
	out=$(cat "$mig_log" "$TMP/migp.cli")
	grep -E 'moved while paused' "$mig_log" | sed 's/^/  /'
	[ $rc -eq 0 ] || {
		why=${why:-"a vmm command failed"}
		return 1
	}
	expect 0 'pause: paused' 'resume: running' \
		'migrate-balloon: [0-9]+ balloon pages moved while paused' \
		'migrate-balloon: done' '^balloon_bad_pfns 0$' \
		'^migrate_posted 0$' '^migrate_in_flight 0$'
}
check migrate-paused kvm test_migrate_paused

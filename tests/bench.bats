#!/usr/bin/env bats
# make bench in its smoke mode (QUICK=1: one short repetition), so that
# the harness cannot rot: every figure's rows are in the table, with a
# figure or a reason, and nothing it started is left running.  The
# table goes to a temporary file, not the committed results.md.  PM2 is
# left out (BENCH_PM2=off): a test reaches no registry, and PM2's rows
# are make bench's business.

load helper

# Processes whose environment names the bench's temporary folder (its
# PMC_HOME and PM2_HOME are there, and everything it starts inherits
# them): what it may have left behind.
leftovers() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' '\n' < "$p/environ" 2>/dev/null |
		    grep -qF "$BATS_TEST_TMPDIR/pmc-bench." && echo "${p#/proc/}"
	done
	return 0
}

# rows FIGURE: the table's rows of that figure number.
rows() {
	grep -c "^| $1 | " "$out"
}

@test "make bench QUICK=1: one table with every figure's rows, nothing left running" {
	out=$BATS_TEST_TMPDIR/results.md
	TMPDIR=$BATS_TEST_TMPDIR BENCH_OUT=$out BENCH_PM2=off \
	    run timeout 300 make -C "$ROOT" --no-print-directory bench QUICK=1 3>&-
	echo "$output" | tail -n 80
	[ "$status" -eq 0 ]
	grep -q '^## make bench QUICK=1: ' "$out"
	grep -q '^Machine: [0-9]* CPUs (.*), Linux .*, load average ' "$out"
	grep -q '^Versions: pmc [0-9a-f]*.*, node v[0-9].*, pm2 ' "$out"
	grep -q '^| # | figure | subject | median | min–max | ratio | target |$' "$out"
	# 8 node and 5 C subjects; pmcd and pm2 for RSS, private memory, CPU
	# and wake-ups, and pmcd's CPU and wake-ups at 200 and 100 idle
	# instances; 4 CLIs, 2 cold starts and 2 starts until online under
	# ready: auto; 5 kill -9s; 7 reloads or restarts (a draining and a
	# naive node app); pmc's 8 scale figures and pm2's one saying why
	# not; logs; the balance modes: 6 subjects' requests/s in 3 runs,
	# their shares in 2, and sticky's from many addresses; pmc update.
	[ "$(grep -c '^| 1 | throughput, node | ' "$out")" -eq 8 ]
	[ "$(grep -c '^| 1 | throughput, C | ' "$out")" -eq 5 ]
	[ "$(rows 2)" -eq 12 ]
	[ "$(rows 3)" -eq 8 ]
	[ "$(rows 4)" -eq 5 ]
	[ "$(rows 5)" -eq 7 ]
	[ "$(grep -c '^| 6 | scale: pmc, 100 instances | ' "$out")" -eq 8 ]
	[ "$(grep -c '^| 6 | scale: pm2, ' "$out")" -eq 1 ]
	[ "$(rows 7)" -eq 2 ]
	[ "$(rows 8)" -eq 31 ]
	# pmc update, and pm2 update's row saying why not.
	[ "$(rows 9)" -eq 2 ]
	grep -Eq "^\| 9 \| updating the daemon under load, 2 node instances \| pmc update, the daemon's pid kept: yes \| 0 of 2 instances restarted, [0-9]+ failed, [1-9][0-9]* answered .*(PASS|MISS)" "$out"
	# Every row holds a figure (or, for PM2, says why not).
	run grep -F 'failed (see log)' "$out"
	[ "$status" -eq 1 ]
	run grep -E '^\| [1-9] \| [^|]* \| [^|]*(pmc|Node)[^|]* \| (failed|0 req/s|\?)' "$out"
	[ "$status" -eq 1 ]
	run grep -E '^\| [1-9] \| .*pm2.* \| (failed|\?)' "$out"
	[ "$status" -eq 1 ]
	grep -Eq '^\| 1 \| throughput, C \| pmc, [0-9]+ instances, balance: shared \| [1-9][0-9]* req/s, p50 [0-9.]+ ms, p99 [0-9.]+ ms \|' "$out"
	grep -Eq '^\| 2 \| daemon RSS, 2 instances \| pmcd \| [0-9.]+ MB \|.*(PASS|MISS)' "$out"
	for n in 2 200 100; do
		grep -Eq "^\| 2 \| daemon CPU over 1 s idle, $n instances[^|]* \| pmcd \| [0-9.]+ ms \|.*(PASS|MISS)" "$out"
		grep -Eq "^\| 2 \| daemon wake-ups \(voluntary switches\) over 1 s idle, $n instances[^|]* \| pmcd \| [0-9]+ \|.*0: (PASS|MISS)" "$out"
	done
	grep -Eq '^\| 3 \| .* \| pmc list \| [0-9.]+ ms \|.*(PASS|MISS)' "$out"
	grep -Eq '^\| 3 \| pmc start until online, .* \| node, online at the shim.s listen\(\) \| [0-9]+ ms \|.*(PASS|MISS)' "$out"
	grep -Eq '^\| 3 \| pmc start until online, .* \| C server, online at its READY=1 \| [0-9]+ ms \|.*(PASS|MISS)' "$out"
	grep -Eq '^\| 4 \| .* \| [0-9.]+ ms; [0-9]+ failed \([0-9]+ timed out\), [0-9]+ answered \|' "$out"
	grep -Eq '^\| 6 \| scale: pmc, 100 instances \| pmc describe \| [0-9.]+ ms \|' "$out"
	grep -Eq "^\| 6 \| scale: pmc, 100 instances \| pmcd's own CPU time during that start \| [0-9]+ ms \|" "$out"
	grep -Eq '^\| 6 \| scale: pmc, 100 instances \| pmc list --json, first after the idle window \| [0-9.]+ ms \|.*50 ms' "$out"
	grep -Eq '^\| 5 \| .* \| pmc reload, node \(shim\), drains on SIGTERM \| [0-9]+ failed, [1-9][0-9]* answered .*(PASS|MISS)' "$out"
	# The naive app is naive: a reload under load costs it requests.
	grep -Eq '^\| 5 \| .* \| pmc reload, node \(shim\), naive: no SIGTERM handler \| [1-9][0-9]* failed, [1-9][0-9]* answered ' "$out"
	# Issue 16: round-robin's targets, each with its verdict; every
	# share counted by the servers, over all the instances.
	[ "$(grep -cE '^\| 8 \| balance, node: [^|]* \| pmc, [0-9]+ instances, balance: round-robin[^|]* \| [1-9][0-9]* req/s, p50 [0-9.]+ ms, p99 [0-9.]+ ms \|.*p99 ≤ Node RR.s \([0-9.]+ ms\): (PASS|MISS); req/s ≥ shared.s .*(PASS|MISS)' "$out")" -eq 3 ]
	[ "$(grep -cE '^\| 8 \| share max/min, [^|]* \| pmc, [0-9]+ instances, balance: round-robin[^|]* \| [0-9.]+ \([0-9]+–[0-9]+ requests per instance, ([0-9]+) instances\) \|.*≤ 1.05: (PASS|MISS)' "$out")" -eq 2 ]
	[ "$(grep -cE '^\| 8 \| share max/min, [^|]* \| Node cluster, [0-9]+ workers, [^|]* \| [0-9.]+ \(' "$out")" -eq 4 ]
	# Sticky: one client address, one instance; from many, spread, and
	# no address moved.
	[ "$(grep -cE '^\| 8 \| share max/min, [^|]* \| pmc, [0-9]+ instances, balance: sticky[^|]* \| one client address → one instance .*: PASS \|$' "$out")" -eq 2 ]
	grep -Eq '^\| 8 \| share max/min, one client from [0-9]+ addresses [^|]* \| pmc, [0-9]+ instances, balance: sticky[^|]* \| [0-9.]+ \(.*; 0 of [0-9]+ addresses moved\) \|.*: PASS \|$' "$out"
	# The PM2 rows say why they are empty.
	grep -q '^Versions: .*pm2 n/a (pm2 left out: BENCH_PM2=off)' "$out"
	grep -q '| pm2 daemon | n/a (pm2 left out: BENCH_PM2=off) |' "$out"
	# Cleaned up: its folder is gone, no process of it is left.
	run ls -d "$BATS_TEST_TMPDIR"/pmc-bench.*
	[ "$status" -ne 0 ]
	[ -z "$(leftovers)" ]
}

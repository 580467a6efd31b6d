#!/usr/bin/env bats
#
# pmc behind a real load balancer: the recipe of
# supervisor/examples/haproxy, three hosts (network namespaces this suite
# creates), a pmcd with 2 demo-httpd instances on each, HAProxy checking
# GET /health/web on each pmcd.  Root only; skipped with the reason when
# network namespaces cannot be made here.  All traffic stays inside the
# namespaces: wrk and curl run in the balancer's.

bats_require_minimum_version 1.5.0
load helper
load load

EX=$BATS_TEST_DIRNAME/../supervisor/examples/haproxy

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	export PMCX=pmcb$$
}

setup() {
	pmc_setup
	[ "$(id -u)" -eq 0 ] || skip "ip netns needs root"
	command -v haproxy >/dev/null || skip "haproxy not installed (tests/deps.sh installs it)"
	ip netns add "$PMCX-probe" 2>/dev/null ||
	    skip "this machine does not allow network namespaces"
	ip netns del "$PMCX-probe"
	CL=$BATS_TEST_TMPDIR/cl
	export PMC_BIN=${PMC%/pmc}
	# wrk and ss run in the balancer's namespace, for load.bash.
	mkdir -p nsbin
	for t in wrk ss; do
		printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' \
		    "$PMCX-lb" "$(command -v "$t")" > "nsbin/$t"
		chmod 755 "nsbin/$t"
	done
	PATH=$BATS_TEST_TMPDIR/nsbin:$PATH
	run -0 "$EX/cluster.sh" up "$CL" "$DEMO" --notify
}

teardown() {
	stop_load
	[ -z "${CL:-}" ] || "$EX/cluster.sh" down "$CL" 2>/dev/null
}

# through_lb PATH: one request through HAProxy.
through_lb() {
	ip netns exec "$PMCX-lb" curl -sS -m 5 "http://127.0.0.1:8000$1"
}

# host_pids HOST: its instances' pids.
host_pids() {
	"$EX/cluster.sh" pmc "$CL" "$1" list --json | python3 -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin) if i["pid"]))'
}

is_state() {
	[ "$("$EX/cluster.sh" state "$CL" "$1")" = "$1 $2" ]
}

@test "a rolling deploy over three hosts behind HAProxy, under load: 0 failed requests, every instance replaced" {
	for h in h1 h2 h3; do
		eval "before_$h=\$(host_pids $h)"
	done
	[ "$(through_lb /env/VERSION)" = 1 ]
	start_load 8000
	run -0 "$EX/deploy.sh" "$CL" 2
	echo "$output"
	no_failed_requests
	for h in h1 h2 h3; do
		eval "before=\$before_$h"
		after=$(host_pids "$h")
		echo "$h: $before -> $after"
		[ "$(echo "$after" | wc -w)" -eq 2 ]
		for p in $before; do
			[[ " $after " != *" $p "* ]]
		done
		is_state "$h" UP
	done
	[ "$(through_lb /env/VERSION)" = 2 ]
}

@test "a host's pmcd killed -9 costs at most the requests in flight; HAProxy marks it down, and back up once pmcd runs again" {
	start_load 8000
	pid=$(cat "$CL/h2/home/pmcd.pid")
	kill -KILL "$pid"
	wait_for 10 is_state h2 DOWN
	finish_load
	echo "failed $LOAD_FAILED of $LOAD_REQUESTS"
	# wrk keeps 16 connections: at most one request each was in flight.
	[ "$LOAD_FAILED" -le 16 ]
	# Its apps died with it (PR_SET_PDEATHSIG): the others serve alone.
	for i in 1 2 3 4 5 6; do
		[ "$(through_lb /env/HOST)" != h2 ]
	done
	run -0 "$EX/cluster.sh" pmc "$CL" h2 start "$CL/h2/app.yaml"
	wait_for 15 is_state h2 UP
	seen=
	for i in 1 2 3 4 5 6; do
		seen="$seen $(through_lb /env/HOST)"
	done
	echo "answered by:$seen"
	[[ "$seen" == *h2* ]]
}

@test "a drained host gets no new connection once HAProxy has checked it, and serves again after undrain" {
	run -0 "$EX/cluster.sh" pmc "$CL" h3 drain web
	wait_for 10 is_state h3 DOWN
	run -0 "$EX/cluster.sh" pmc "$CL" h3 describe web
	seen_before=$(echo "$output" | sed -n 's/.*, \([0-9]*\) new connections\{0,1\} since.*/\1/p')
	[ -n "$seen_before" ]
	for i in $(seq 30); do
		[ "$(through_lb /env/HOST)" != h3 ]
	done
	run -0 "$EX/cluster.sh" pmc "$CL" h3 describe web
	[[ "$output" == *", $seen_before new connection"* ]]
	run -0 "$EX/cluster.sh" pmc "$CL" h3 undrain web
	wait_for 15 is_state h3 UP
	seen=
	for i in 1 2 3 4 5 6; do
		seen="$seen $(through_lb /env/HOST)"
	done
	[[ "$seen" == *h3* ]]
}

#!/usr/bin/env bats
#
# Health for load balancers and orchestrators: GET /health and
# /health/APP on pmcd's HTTP listener (200, or 503 with the reason), the
# spec's min_online, and pmc drain / undrain, with drain --wait.

bats_require_minimum_version 1.5.0
load helper

teardown() {
	touch "$BATS_TEST_TMPDIR/stop" "$BATS_TEST_TMPDIR/stop2"
	[ -z "${loader:-}" ] || wait "$loader" 2>/dev/null
	[ -z "${checker:-}" ] || wait "$checker" 2>/dev/null
	pmc_teardown
	[ -z "${ns:-}" ] || ip netns del "$ns" 2>/dev/null
	return 0
}

# health [PATH]: "CODE BODY" of GET /health[PATH].
health() {
	curl -sS -m 5 -w ' %{http_code}' "http://127.0.0.1:$mport/health$1" |
	    tr -d '\n' | awk '{ c = $NF; $NF = ""; sub(/ $/, ""); print c " " $0 }'
}

# is_health PATH EXPECTED: health PATH says exactly EXPECTED.
is_health() {
	[ "$(health "$1")" = "$2" ]
}

# described APP REGEX: a line of pmc describe APP matches.
described() {
	"$PMC" describe "$1" | grep -q -- "$2"
}

# start_two MORE-LINES...: app web, 2 demo instances on $port, pmcd's
# HTTP listener on $mport.
start_two() {
	port=$(free_port)
	mport=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" "$@"
	PMCD_METRICS=127.0.0.1:$mport pmc_start app.yaml
	[ "$status" -eq 0 ]
}

@test "GET /health: 200 while every app has min_online instances online, 503 with the reason when not, /health/APP for one" {
	# min_uptime long: the kill is a crash, whatever the instance's age,
	# so it waits its 2 s in backoff.
	start_two 'min_online: 2' 'backoff: {initial: 2s, min_uptime: 60s}'
	[ "$(health)" = "200 ok: 1 app healthy" ]
	[ "$(health /web)" = "200 ok: web: 2/2 online" ]
	[ "$(health /nosuch)" = "404 nosuch: no such app" ]
	# HEAD: the code alone.
	run -0 curl -sS -m 5 -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/health"
	[ "$output" = 200 ]
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/health"
	[ "$output" = 405 ]
	# One instance down (in a 2 s backoff): below min_online.
	kill -KILL "$(slot_pid web 1)"
	wait_for 5 is_health /web "503 unhealthy: web: 1/2 online, min_online 2"
	[ "$(health)" = "503 unhealthy: web: 1/2 online, min_online 2" ]
	wait_for 10 is_health /web "200 ok: web: 2/2 online"
	# A stopped app is unhealthy; the metrics are still served beside.
	run -0 "$PMC" stop web
	[ "$(health /web)" = "503 unhealthy: web: 0/2 online, min_online 2" ]
	run -0 curl -sSf -m 5 -o /dev/null "http://127.0.0.1:$mport/metrics"
}

@test "min_online defaults to 1: one instance of two down is still healthy" {
	start_two 'backoff: {initial: 2s, min_uptime: 60s}'
	kill -KILL "$(slot_pid web 0)"
	wait_for 5 is_health /web "200 ok: web: 1/2 online"
	run -0 "$PMC" describe web
	[[ "$output" == *"min_online: 1"* ]]
}

@test "pmc drain: health 503 while the instances go on serving; undrain: 200 again" {
	start_two
	run -0 "$PMC" drain web
	[ "$output" = "web: drained" ]
	[ "$(health /web)" = "503 unhealthy: web: drained" ]
	[ "$(health)" = "503 unhealthy: web: drained" ]
	# Drained is not down: the port serves every request sent to it.
	for i in 1 2 3 4 5; do
		[ "$(http_get "$port" /pid)" -gt 0 ]
	done
	# Counted as they come (eBPF's counter, or the namespace's).
	wait_for 5 described web "drained: for [0-9]* s, 5 new connections since"
	pmcd_logged 'web: drained: health 503, instances serving'
	run -0 "$PMC" undrain web
	[ "$output" = "web: undrained" ]
	[ "$(health /web)" = "200 ok: web: 2/2 online" ]
	run -1 "$PMC" drain nosuch
	[ "$output" = "pmc: nosuch: no such app" ]
	run -2 "$PMC" drain --quiet 1s web
	[ "$output" = "pmc: drain: --quiet and --timeout go with --wait" ]
	run -2 "$PMC" drain --wait --quiet soon web
	[[ "$output" == *'--quiet: expected a duration such as 2s or 500ms, got "soon"'* ]]
}

@test "pmc drain --wait: times out while connections keep coming, returns once none came for the quiet period" {
	start_two
	client_loop "$port"
	wait_for 10 served_more 5
	# The loop connects far more often than every 2 s: never quiet.
	run -1 "$PMC" drain --wait --quiet 2s --timeout 3s web
	echo "$output"
	[[ "$output" == "pmc: web: drained, but still sent new connections ("*" since the drain) at the timeout" ]]
	n=$(grep -c . "$loop/ok")
	# The balancer stops sending: the wait ends after the quiet period.
	hold_client_loop
	run -0 "$PMC" drain --wait --quiet 1s --timeout 30s web
	[ "$output" = "web: drained, no new connection for 1000 ms" ]
	# The instances served all along.
	[ "$(grep -c . "$loop/fail")" -eq 0 ]
	[ "$n" -gt 5 ]
	release_client_loop
	wait_for 10 served_more $((n + 5))
	stop_client_loop
}

@test "a drained app stays drained across pmc update" {
	start_two
	run -0 "$PMC" drain web
	run -0 "$PMC" update
	[ "$(health /web)" = "503 unhealthy: web: drained" ]
	run -0 "$PMC" undrain web
	[ "$(health /web)" = "200 ok: web: 2/2 online" ]
}

@test "without eBPF (balance: shared), drain --wait counts the namespace's connections, less pmcd's own health checks" {
	[ "$(id -u)" -eq 0 ] || skip "a network namespace of its own needs root"
	ns=pmch$$
	ip netns add "$ns" 2>/dev/null || skip "this machine does not allow network namespaces"
	in_ns() { ip netns exec "$ns" "$@"; }
	in_ns ip link set lo up
	port=$(free_port)
	mport=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'balance: shared'
	run -0 in_ns env PMCD_METRICS=127.0.0.1:$mport "$PMC" start app.yaml
	# Connections keep coming: never quiet, though health checks (pmcd's
	# own accepts) come too.
	in_ns sh -c "while [ ! -e stop ]; do curl -s -o /dev/null http://127.0.0.1:$port/; curl -s -o /dev/null http://127.0.0.1:$mport/health; done" 3>&- &
	loader=$!
	run -1 in_ns "$PMC" drain --wait --quiet 2s --timeout 3s web
	echo "$output"
	[[ "$output" == *"still sent new connections"* ]]
	run -0 in_ns "$PMC" describe web
	[[ "$output" == *"(counted by netns)"* ]]
	touch stop
	wait "$loader"
	loader=
	# Only health checks now: pmcd's own, not counted; quiet.
	in_ns sh -c "while [ ! -e stop2 ]; do curl -s -o /dev/null http://127.0.0.1:$mport/health; sleep 0.1; done" 3>&- &
	checker=$!
	run -0 in_ns "$PMC" drain --wait --quiet 1s --timeout 20s web
	[ "$output" = "web: drained, no new connection for 1000 ms" ]
}

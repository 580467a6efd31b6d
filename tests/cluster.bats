#!/usr/bin/env bats
#
# node_cluster: true -- apps written for Node's cluster module run
# unchanged: the tutorial app (tests/fixtures/node-cluster-seed.js,
# `if (cluster.isPrimary) fork() else server.listen(PORT)`) becomes one
# worker per instance, served on pmcd's sockets through Node's own
# cluster protocol on the channel.

load helper
load load
load nobody

bats_require_minimum_version 1.5.0

# app_file FILE LINE...: a spec of the lines under "apps:".
app_file() {
	local f=$1
	shift
	printf '%s\n' apps: "$@" > "$f"
}

SEED=$TESTS_DIR/fixtures/node-cluster-seed.js

setup() {
	pmc_setup
	command -v node >/dev/null || skip "node not installed"
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_load
	nobody_cleanup
}

# seed_app N PORT [YAML-LINE...]: N instances of the seed app, PORT=PORT.
seed_app() {
	local n=$1 port=$2
	shift 2
	app_file app.yaml "  - name: seed" \
	    "    command: [node, \"$SEED\"]" \
	    "    instances: $n" \
	    "    node_cluster: true" \
	    "    env: {PORT: \"$port\"}" "$@"
}

# workers_seen N: N different "worker I" answered on $port so far.
workers_seen() {
	curl -sS --max-time 2 "http://127.0.0.1:$port/" >> answers 2>&1
	[ "$(sed -n 's/^worker \([0-9]*\) .*/\1/p' answers | sort -u |
	    wc -l)" -eq "$1" ]
}

# start_close_load: wrk with a new connection per request.
start_close_load() {
	command -v wrk >/dev/null 2>&1 ||
	    skip "wrk not installed (tests/deps.sh installs it)"
	wrk -t2 -c16 -d"${LOAD_BOUND:-120}"s --timeout 2s \
	    -H "Connection: close" "http://127.0.0.1:$1/" \
	    > "$BATS_TEST_TMPDIR/wrk.out" 2>&1 3>&- &
	WRK_PID=$!
	wait_for 5 load_connected "$1"
}

@test "the cluster tutorial app runs unchanged with node_cluster: true: 4 workers, ids 1 to 4, on the spec's socket, online as soon as they listen" {
	local pid
	port=$(free_port)
	seed_app 4 "$port" "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"seed: 4/4 online"* ]]
	pid=$(slot_pid seed 2)
	[ "$(env_of "$pid" NODE_UNIQUE_ID)" = 3 ]
	# Round-robin over the four: each answers within a few requests.
	wait_for 10 workers_seen 4
	sed -n 's/^worker \([0-9]*\) .*/\1/p' answers | sort -u | tr '\n' ' ' |
	    grep -q '^1 2 3 4 $'
	# Each worker is one of pmc's instances, not a child of one.
	for i in 0 1 2 3; do
		grep -q "worker $((i + 1)) pid $(slot_pid seed "$i")" answers
	done
	# The spec's socket served: nothing was bound on demand.
	run -0 "$PMC" describe seed
	[[ "$output" != *"bound for Node's cluster"* ]]
	# ready: auto took Node's "listening": no second of waiting.
	run -0 "$PMC" describe seed
	[[ "$output" == *"channel: open"* ]]
}

@test "node_cluster: a reload under load (a new connection per request) fails no request; every pid changes; the workers were asked to disconnect, not signalled" {
	local before after
	port=$(free_port)
	seed_app 4 "$port" "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids seed)
	start_close_load "$port"
	run -0 "$PMC" reload seed
	finish_load
	echo "# reload of 4 node_cluster workers: $LOAD_REQUESTS answered," \
	    "$LOAD_FAILED failed" >&3
	[ "$LOAD_FAILED" -eq 0 ]
	[ "$LOAD_REQUESTS" -gt 0 ]
	after=$(app_pids seed)
	none_shared "$before" "$after"
	[ "$(inst_log seed 0 | grep -c '^disconnected$')" -ge 1 ]
	! inst_log seed 0 | grep -q '^SIGTERM$'
	! pmcd_logged "after Node's cluster disconnect"
}

@test "node_cluster: kill -9 of a worker under load: no connection is refused, the slot is back with a new worker" {
	local pid
	port=$(free_port)
	seed_app 2 "$port" "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pid=$(slot_pid seed 0)
	start_close_load "$port"
	kill -9 "$pid"
	wait_for 10 new_online "$pid"
	finish_load
	echo "# kill -9 of one of 2 workers: $LOAD_REQUESTS answered," \
	    "$LOAD_CONNECT connect errors, $LOAD_READ read errors" >&3
	[ "$LOAD_CONNECT" -eq 0 ]
	[ "$LOAD_REQUESTS" -gt 0 ]
}

# new_online OLD: instance 0 of seed is online with another pid than OLD.
new_online() {
	[ "$(slot_field seed 0 status)" = online ] &&
	    [ "$(slot_pid seed 0)" != "$1" ]
}

@test "node_cluster: server.listen on a port the spec does not list is bound on demand, shared by the instances, kept across a reload" {
	port=$(free_port)
	seed_app 2 "$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"seed: 2/2 online"* ]]
	wait_for 10 workers_seen 2
	run -0 "$PMC" describe seed
	[[ "$output" == *"0.0.0.0:$port (bound for Node's cluster)"* ]]
	pmcd_logged "seed: bound 0.0.0.0:$port for Node's cluster"
	run -0 "$PMC" reload seed
	: > answers
	wait_for 10 workers_seen 2
	[ "$(grep -c "bound 0.0.0.0:$port" "$PMC_HOME/pmcd.log")" -eq 1 ]
}

@test "node_cluster: a privileged port for an app that runs as another user is refused: the app sees EACCES, pmcd says why" {
	need_nobody
	as_nobody node -e '' 2>/dev/null || skip "nobody cannot run node"
	as_nobody test -r "$SEED" || skip "nobody cannot read $SEED"
	nobody_tmp
	cd "$NOBODY_TMP"
	# Port 1 is privileged everywhere the test runs (below 1024 by
	# default; skip where ip_unprivileged_port_start says otherwise).
	[ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -gt 1 ] ||
	    skip "every port is unprivileged here"
	seed_app 1 1 "    user: nobody" "    ready: delay:0" \
	    "    restart: never"
	pmc_start app.yaml
	wait_for 10 inst_logged seed 0 '^listen error EACCES$'
	pmcd_logged "seed\[0\]: server.listen through Node's cluster refused: 0.0.0.0:1: a privileged port"
}

@test "node_cluster needs channel: true" {
	seed_app 1 1 "    channel: false"
	pmc_start app.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"app.yaml:5:19: node_cluster: needs channel: true"* ]]
}

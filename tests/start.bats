#!/usr/bin/env bats
#
# pmc start: instances serve one port, get exactly their sockets and
# variables, and a spec is applied whole or not at all (a bad one leaves
# a running pmcd as it was).

load helper

bats_require_minimum_version 1.5.0

# fds_of PID: the open descriptors of a process, ascending, one line.
fds_of() {
	find "/proc/$1/fd" -mindepth 1 -printf '%f\n' | sort -n | tr '\n' ' ' |
	    sed 's/ $//'
}

# One round of 8 parallel GET /pid on PORT, answers appended to $pidlog;
# true once $pidlog holds WANT distinct pids.
pid_round() {
	local port=$1 want=$2 jobs=
	for _ in 1 2 3 4 5 6 7 8; do
		http_get "$port" /pid >> "$pidlog" 2>/dev/null 3>&- &
		jobs="$jobs $!"
	done
	# shellcheck disable=SC2086
	wait $jobs
	[ "$(sort -u "$pidlog" | grep -c .)" -ge "$want" ]
}

# served_pids PORT WANT: poll until WANT distinct pids have answered on
# PORT (10 s at most); prints them sorted, one line.
served_pids() {
	pidlog=$BATS_TEST_TMPDIR/pids.$1
	: > "$pidlog"
	wait_for 10 pid_round "$1" "$2" || return 1
	sort -un "$pidlog" | tr '\n' ' ' | sed 's/ $//'
}

# Every pid in $1 is one of the pids in $2.
subset_of() {
	local p
	for p in $1; do
		[[ " $2 " == *" $p "* ]] || { echo "$p is not in {$2}"; return 1; }
	done
}

# Is the CPU count of this test capped by a cgroup v2 quota?
cpu_quota_set() {
	local rel dir q
	rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
	dir=/sys/fs/cgroup$rel
	while [ -n "$dir" ] && [ "$dir" != /sys/fs ]; do
		if [ -r "$dir/cpu.max" ] && read -r q _ < "$dir/cpu.max" &&
		    [ "$q" != max ]; then
			return 0
		fi
		dir=${dir%/*}
	done
	return 1
}

ipv6_works() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null
}

# hold_port PORT: a python3 process listening on 127.0.0.1:PORT in the
# background; its pid in $holder.
hold_port() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[2], "w").close()
time.sleep(120)' "$1" "$BATS_TEST_TMPDIR/held" 3>&- &
	holder=$!
	wait_for 5 test -e "$BATS_TEST_TMPDIR/held"
}

teardown() {
	[ -z "${holder:-}" ] || kill "$holder" 2>/dev/null || true
	pmc_teardown
}

@test "start runs N instances that all serve the port" {
	port=$(free_port)
	demo_spec app.yaml web 3 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	all_online web 3
	listed=$(app_pids web)
	[ "$(wc -w <<< "$listed")" -eq 3 ]
	served=$(served_pids "$port" 3)
	echo "served by: $served; listed: $listed"
	subset_of "$served" "$listed"
}

@test "instances: max runs one instance per CPU" {
	cpu_quota_set && skip "a cgroup CPU quota caps max below nproc"
	port=$(free_port)
	demo_spec app.yaml web max "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	all_online web "$(nproc)"
	[ "$(app_pids web | wc -w)" -eq "$(nproc)" ]
}

@test "instances: max follows the CPU affinity pmcd was started with" {
	cpu_quota_set && skip "a cgroup CPU quota caps max below nproc"
	port=$(free_port)
	demo_spec app.yaml web max "127.0.0.1:$port"
	run --separate-stderr taskset -c 0 "$PMC" start app.yaml 3>&-
	[ "$status" -eq 0 ]
	# pmcd was started by that pmc, and so runs on CPU 0 only.
	[ "$(taskset -pc "$(cat "$PMC_HOME/pmcd.pid")" | sed 's/.*: //')" = 0 ]
	all_online web "$(taskset -c 0 nproc)"
	[ "$(app_pids web | wc -w)" -eq 1 ]
	[ "$(http_get "$port" /pid)" = "$(app_pids web)" ]
}

@test "an instance has exactly fds 0-2, its listen socket at 3 and its channel at 4" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	for pid in $(app_pids web); do
		fds=$(fds_of "$pid")
		[ "$fds" = "0 1 2 3 4" ] || { echo "pid $pid has fds: $fds"; return 1; }
		ss -Hltnp "sport = :$port" | grep -q "pid=$pid,fd=3)"
		[[ "$(readlink "/proc/$pid/fd/4")" == socket:* ]]
		[ "$(env_of "$pid" PMC_CHANNEL_FD)" = 4 ]
	done
}

@test "three listen entries (IPv4, IPv6, unix) are fds 3, 4, 5 (the channel 6) and all answer" {
	ipv6_works || skip "no IPv6 loopback here"
	port=$(free_port)
	port6=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
	sock=$BATS_TEST_TMPDIR/web.sock
	demo_spec app.yaml web 2 \
	    "[127.0.0.1:$port, \"[::1]:$port6\", \"unix:$sock\"]"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	all_online web 2
	pids=$(app_pids web)
	for pid in $pids; do
		fds=$(fds_of "$pid")
		[ "$fds" = "0 1 2 3 4 5 6" ] || { echo "pid $pid has fds: $fds"; return 1; }
		ss -Hltnp "sport = :$port" | grep -q "pid=$pid,fd=3)"
		ss -Hltnp "sport = :$port6" | grep -q "pid=$pid,fd=4)"
		ss -Hlxp | grep -F "$sock " | grep -q "pid=$pid,fd=5)"
		[ "$(env_of "$pid" LISTEN_FDS)" = 3 ]
		[ "$(env_of "$pid" LISTEN_FDNAMES)" = web:web:web ]
	done
	subset_of "$(http_get "$port" /pid)" "$pids"
	subset_of "$(curl -sS --max-time 5 "http://[::1]:$port6/pid")" "$pids"
	subset_of "$(curl -sS --max-time 5 --unix-socket "$sock" http://web/pid)" "$pids"
}

@test "an instance gets LISTEN_*, PMC_*, NOTIFY_SOCKET, pmcd's env and the spec's" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" \
	    'env: {GREETING: "hello world", EMPTY: ""}'
	# pmcd starts with these; the spec's env wins over pmcd's.
	export INHERITED=from-pmcd GREETING=outer
	pmc_start app.yaml
	unset INHERITED GREETING
	[ "$status" -eq 0 ]
	for slot in 0 1; do
		pid=$(slot_pid web "$slot")
		[ "$(env_of "$pid" LISTEN_PID)" = "$pid" ]
		[ "$(env_of "$pid" LISTEN_FDS)" = 1 ]
		[ "$(env_of "$pid" LISTEN_FDNAMES)" = web ]
		[ "$(env_of "$pid" PMC_APP)" = web ]
		[ "$(env_of "$pid" PMC_INSTANCE)" = "$slot" ]
		[ "$(env_of "$pid" GREETING)" = "hello world" ]
		tr '\0' '\n' < "/proc/$pid/environ" | grep -qx 'EMPTY='
		[ "$(env_of "$pid" INHERITED)" = from-pmcd ]
		[ -n "$(env_of "$pid" NOTIFY_SOCKET)" ]
	done
	[ "$(http_get "$port" /env/GREETING)" = "hello world" ]
	[ "$(http_get "$port" /env/PMC_APP)" = web ]
}

@test "starting the same spec again is a no-op that succeeds" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(app_pids web)" = "$before" ]
	all_online web 2
	[ "$("$PMC" list --json | python3 -c 'import json,sys; print(sum(i["restarts"] for i in json.load(sys.stdin)))')" -eq 0 ]
}

@test "starting a changed spec restarts the app with it" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'env: {VERSION: "1"}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	[ "$(http_get "$port" /env/VERSION)" = 1 ]
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'env: {VERSION: "2"}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	all_online web 2
	after=$(app_pids web)
	for pid in $after; do
		[[ " $before " != *" $pid "* ]] || { echo "pid $pid kept"; return 1; }
		[ "$(env_of "$pid" VERSION)" = 2 ]
	done
	[ "$(http_get "$port" /env/VERSION)" = 2 ]
}

@test "a port in use fails the start, names the address, starts nothing" {
	port=$(free_port)
	other=$(free_port)
	demo_spec other.yaml other 1 "127.0.0.1:$other"
	pmc_start other.yaml
	[ "$status" -eq 0 ]
	other_pid=$(app_pids other)
	hold_port "$port"
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"pmc: "*"127.0.0.1:$port"*"Address already in use"* ]]
	# Nothing of web, and pmcd still runs the other app as it was.
	run -0 "$PMC" list --json
	[[ "$output" != *'"web"'* ]]
	run -0 "$PMC" ping
	[ "$(app_pids other)" = "$other_pid" ]
	all_online other 1
	[ "$(http_get "$other" /pid)" = "$other_pid" ]
}

@test "a missing binary: start fails naming it, the app is errored" {
	port=$(free_port)
	demo_spec other.yaml other 1 "127.0.0.1:$port"
	pmc_start other.yaml
	other_pid=$(app_pids other)
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["./no-such-server", "--flag"]
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"pmc: "*"./no-such-server"*"No such file or directory"* ]]
	[ "$(app_statuses web)" = errored ]
	run -0 "$PMC" describe web
	[[ "$output" == *"./no-such-server"*"No such file or directory"* ]]
	run -0 "$PMC" ping
	[ "$(app_pids other)" = "$other_pid" ]
	[ "$(http_get "$port" /pid)" = "$other_pid" ]
}

@test "a missing cwd: start fails naming it, the app is errored" {
	port=$(free_port)
	demo_spec other.yaml other 1 "127.0.0.1:$port"
	pmc_start other.yaml
	other_pid=$(app_pids other)
	demo_spec app.yaml web 1 "127.0.0.1:$(free_port)" \
	    "cwd: $BATS_TEST_TMPDIR/no/such/dir"
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"pmc: "*"$BATS_TEST_TMPDIR/no/such/dir"*"No such file or directory"* ]]
	[ "$(app_statuses web)" = errored ]
	run -0 "$PMC" describe web
	[[ "$output" == *"$BATS_TEST_TMPDIR/no/such/dir"*"No such file or directory"* ]]
	run -0 "$PMC" ping
	[ "$(app_pids other)" = "$other_pid" ]
	[ "$(http_get "$port" /pid)" = "$other_pid" ]
}

@test "a spec error changes nothing in a running pmcd" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'env: {VERSION: "1"}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	# The same app with a new env, and an error further down.
	demo_spec bad.yaml web 2 "127.0.0.1:$port" 'env: {VERSION: "2"}' \
	    'restart: sometimes'
	pmc_start bad.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"bad.yaml:"*"restart"*"sometimes"* ]]
	# The same file sent straight to pmcd, past pmc's own checks.
	run send_start bad.yaml
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.yaml:"*"restart"*"sometimes"* ]]
	[ "$(app_pids web)" = "$before" ]
	all_online web 2
	[ "$(http_get "$port" /env/VERSION)" = 1 ]
}

@test "a spec whose second app cannot start applies nothing" {
	port=$(free_port)
	busy=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'env: {VERSION: "1"}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	hold_port "$busy"
	cat > both.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    instances: 2
	    listen: 127.0.0.1:$port
	    env: {VERSION: "2"}
	  - name: api
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$busy
	EOF
	pmc_start both.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"127.0.0.1:$busy"* ]]
	[ "$(app_pids web)" = "$before" ]
	[ "$(http_get "$port" /env/VERSION)" = 1 ]
	run -0 "$PMC" list --json
	[[ "$output" != *'"api"'* ]]
}

@test "balance: reuseport serves from every instance too" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'balance: reuseport'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	all_online web 2
	listed=$(app_pids web)
	served=$(served_pids "$port" 2)
	echo "served by: $served; listed: $listed"
	subset_of "$served" "$listed"
	# One SO_REUSEPORT socket per slot: each instance has its own.
	for pid in $listed; do
		[ "$(fds_of "$pid")" = "0 1 2 3 4" ]
	done
	[ "$(ss -Hltn "sport = :$port" | grep -c .)" -eq 2 ]
}

@test "list --json has every key of the spec with the right type" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	cat >> app.yaml <<-EOF
	  - name: broken
	    command: ["./no-such-server"]
	EOF
	pmc_start app.yaml
	run -0 "$PMC" list --json
	echo "$output" | python3 -c '
import json, sys
l = json.load(sys.stdin)
assert isinstance(l, list) and len(l) == 3, l
def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def int_(v): return isinstance(v, int) and not isinstance(v, bool)
types = {"name": str, "status": str, "instance": int_, "pid": int_,
    "restarts": int_, "uptime_ms": int_, "memory": int_, "cpu": num}
for i in l:
    for k, t in types.items():
        assert k in i, (k, i)
        ok = isinstance(i[k], t) if isinstance(t, type) else t(i[k])
        assert ok, (k, i[k])
    assert i["status"] in ("starting", "online", "stopping", "stopped",
        "backoff", "errored"), i
got = sorted((i["name"], i["instance"], i["status"]) for i in l)
assert got == [("broken", 0, "errored"), ("web", 0, "online"),
    ("web", 1, "online")], got
for i in l:
    if i["name"] == "web":
        assert i["pid"] > 0 and i["memory"] > 0 and i["uptime_ms"] > 0, i
'
}

#!/usr/bin/env bats
#
# The message channel of each instance (PMC_CHANNEL_FD, NODE_CHANNEL_FD),
# pmc send and pmc events: node apps that only use Node's own
# process.send() and process.on('message'), a python app that ignores
# the channel, a raw speaker that sends what Node never would, and a
# flood.

load helper

bats_require_minimum_version 1.5.0

# app_file FILE LINE...: a spec of the lines under "apps:".
app_file() {
	local f=$1
	shift
	printf '%s\n' apps: "$@" > "$f"
}

NODE_CHANNEL=$TESTS_DIR/fixtures/node-channel.js
CHAN_RAW=$TESTS_DIR/fixtures/chan-raw.py
CHAN_DEAF=$TESTS_DIR/fixtures/chan-deaf.py

setup() {
	pmc_setup
	command -v node >/dev/null || skip "node not installed"
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_events
	[ -z "${reader_pid:-}" ] || kill "$reader_pid" 2>/dev/null || true
	pmc_teardown
}

# start_events [ARG...]: pmc events ARG... in the background, its
# output in $ev, its pid $ev_pid.
start_events() {
	ev=$BATS_TEST_TMPDIR/events.out
	"$PMC" events "$@" > "$ev" 2>&1 3>&- &
	ev_pid=$!
}

stop_events() {
	[ -n "${ev_pid:-}" ] || return 0
	kill "$ev_pid" 2>/dev/null || true
	wait "$ev_pid" 2>/dev/null || true
	ev_pid=
}

# echo_app NAME N [YAML-LINE...]: N instances of node-channel.js.
echo_app() {
	local name=$1 n=$2
	shift 2
	app_file app.yaml "  - name: $name" \
	    "    command: [node, \"$NODE_CHANNEL\"]" \
	    "    instances: $n" \
	    "    ready: notify" "$@"
}

# echoed K: both instances' echo of {"k": K} are in $ev.
echoed() {
	"$PMC" send echo "{\"k\": $1}" >/dev/null 2>&1 || return 1
	[ "$(grep -c "\"echo\":{\"k\":$1}" "$ev")" -eq 2 ]
}

# seen_echo: pmc send {"k": K} with K counting up until an echo shows:
# then the subscription is in place.
seen_echo() {
	k=$((k + 1))
	echoed "$k"
}

@test "a node app using only process.on('message') and process.send() echoes what pmc send gives it; the replies are message events" {
	local line
	echo_app echo 2
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"echo: 2/2 online"* ]]
	start_events --json echo
	k=0
	wait_for 10 seen_echo
	run -0 "$PMC" send echo '{"hello": ["wor ld", 2],
	    "x": null}'
	[[ "$output" == *"sent to 2 instances"* ]]
	wait_for 5 grep -q '"echo":{"hello":\["wor ld",2\],"x":null}' "$ev"
	# One reply from each instance, in the documented shape.
	for i in 0 1; do
		line=$(grep '"hello"' "$ev" | grep "\"instance\":$i,")
		echo "$line" | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
assert e["event"] == "message" and e["app"] == "echo", e
assert e["data"] == {"echo": {"hello": ["wor ld", 2], "x": None},
    "instance": sys.argv[1]}, e
assert e["time"].endswith("Z"), e' "$i"
	done
	# To one instance only.
	run -0 "$PMC" send echo:1 '"only one"'
	[[ "$output" == *"sent to 1 instance"* ]]
	wait_for 5 grep -q '"echo":"only one"' "$ev"
	[ "$(grep -c '"echo":"only one"' "$ev")" -eq 1 ]
	grep '"echo":"only one"' "$ev" | grep -q '"instance":1,'
	run -0 "$PMC" describe echo
	echo "$output" | grep -q "channel: open, .* sent, .* received"
}

@test "NODE_CHANNEL_FD and PMC_CHANNEL_FD name the descriptor after the listen sockets; NODE_APP_INSTANCE is the instance" {
	local pid port
	port=$(free_port)
	echo_app echo 2 "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pid=$(slot_pid echo 1)
	[ "$(env_of "$pid" LISTEN_FDS)" = 1 ]
	[ "$(env_of "$pid" PMC_CHANNEL_FD)" = 4 ]
	[ "$(env_of "$pid" NODE_CHANNEL_FD)" = 4 ]
	[ "$(env_of "$pid" NODE_CHANNEL_SERIALIZATION_MODE)" = json ]
	[ "$(env_of "$pid" NODE_APP_INSTANCE)" = 1 ]
	[ -z "$(env_of "$pid" NODE_UNIQUE_ID)" ]
	[[ "$(readlink "/proc/$pid/fd/4")" == socket:* ]]
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$port/"
	[[ "$output" == "pid "* ]]
}

@test "process.send('ready') after a 2 s warm-up: the instance is online only then, and a reload waits for it too" {
	local port old new
	port=$(free_port)
	echo_app echo 1 "    listen: 127.0.0.1:$port" \
	    "    env: {WARM_MS: \"2000\"}"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"echo: 1/1 online"* ]]
	# Online from pmcd's clock: it came online 2 s or more after its
	# spawn (a slow machine makes it later, never sooner).
	[ "$(slot_field echo 0 uptime_ms)" -ge 2000 ]
	old=$(slot_pid echo 0)
	run -0 "$PMC" reload echo
	new=$(slot_pid echo 0)
	[ "$new" != "$old" ]
	[ "$(slot_field echo 0 uptime_ms)" -ge 2000 ]
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$port/"
	[ "$output" = "pid $new" ]
}

@test "a python app that ignores its channel is unaffected, and pmc send to it just queues" {
	local port pid
	port=$(free_port)
	app_file app.yaml "  - name: deaf" \
	    "    command: [python3, \"$CHAN_DEAF\"]" \
	    "    instances: 2" \
	    "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online deaf 2
	pid=$(slot_pid deaf 0)
	[ "$(env_of "$pid" PMC_CHANNEL_FD)" = 4 ]
	run -0 "$PMC" send deaf '{"unread": true}'
	[[ "$output" == *"sent to 2 instances"* ]]
	for i in 1 2 3 4; do
		run -0 curl -sS --max-time 5 "http://127.0.0.1:$port/"
		[ "$output" = deaf ]
	done
	[ "$(slot_pid deaf 0)" = "$pid" ]
	[ "$(slot_field deaf 0 restarts)" -eq 0 ]
	run -0 "$PMC" describe deaf
	echo "$output" | grep -q "channel: open, 1 sent, 0 received"
}

@test "channel: false gives no descriptor and no variables; pmc send says so" {
	local pid
	app_file app.yaml "  - name: echo" "    command: [sleep, \"600\"]" \
	    "    channel: false"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pid=$(slot_pid echo 0)
	[ -z "$(env_of "$pid" PMC_CHANNEL_FD)" ]
	[ -z "$(env_of "$pid" NODE_CHANNEL_FD)" ]
	[ "$(env_of "$pid" NODE_APP_INSTANCE)" = 0 ]
	run -1 "$PMC" send echo '1'
	[[ "$output" == *"echo[0]: no channel (channel: false)"* ]]
	run -0 "$PMC" describe echo
	! echo "$output" | grep -q '^    channel: '
}

@test "pmc send: what it refuses, each with its reason" {
	echo_app echo 2
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -2 "$PMC" send echo '{"a": }'
	[[ "$output" == *"send: not a JSON value: a value expected at character 7"* ]]
	run -2 "$PMC" send echo '{"a": 1} 2'
	[[ "$output" == *"the end of the value expected at character 10"* ]]
	run -2 "$PMC" send echo "$(printf '"%070000d"' 0)"
	[[ "$output" == *"send: 70002 bytes: at most 65536"* ]]
	run -1 "$PMC" send nosuch '1'
	[[ "$output" == *"nosuch: no such app"* ]]
	run -1 "$PMC" send echo:2 '1'
	[[ "$output" == *"echo: no instance 2 (it has 2)"* ]]
	run -2 "$PMC" send echo:x '1'
	[[ "$output" == *"expected NAME, NAME:INSTANCE or all"* ]]
	run -0 "$PMC" stop echo
	run -1 "$PMC" send echo:0 '1'
	[[ "$output" == *"echo[0]: channel closed (not running)"* ]]
	run -2 "$PMC" send nosuch
	[[ "$output" == *"usage: pmc send NAME[:INSTANCE]|all JSON"* ]]
}

@test "a raw channel: a line that is not JSON and one of 100 KiB are dropped and counted, a handle is acknowledged and closed, its msg taken" {
	# Subscribed to every app before raw starts: its first lines count.
	app_file keep.yaml "  - name: keep" "    command: [sleep, \"600\"]" \
	    "    ready: delay:0"
	pmc_start keep.yaml
	[ "$status" -eq 0 ]
	start_events --json
	k=0
	wait_for 10 keep_restart_seen
	app_file app.yaml "  - name: raw" \
	    "    command: [python3, \"$CHAN_RAW\"]" \
	    "    ready: notify"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"raw: 1/1 online"* ]]
	wait_for 5 inst_logged raw 0 'got {"cmd":"NODE_HANDLE_ACK"}'
	run -0 "$PMC" describe raw
	echo "$output"
	[[ "$output" == *"2 bad lines dropped"* ]]
	[[ "$output" == *"1 handles closed"* ]]
	[[ "$output" == *", 3 received"* ]]
	pmcd_logged 'raw\[0\]: channel: a line that is not JSON'
	# Once per run in the log, however many follow.
	[ "$(grep -c 'raw\[0\]: channel:' "$PMC_HOME/pmcd.log")" -eq 1 ]
	# The good line and the handle's msg are messages, nothing else.
	wait_for 5 grep -q '"data":{"inner":1}' "$ev"
	grep -q '"data":{"good":1}' "$ev"
	[ "$(grep -c '"event":"message"' "$ev")" -eq 2 ]
	# pmcd kept no descriptor of the instance's.
	run -0 "$PMC" send raw '{"after": "handle"}'
	wait_for 5 inst_logged raw 0 'got {"after":"handle"}'
}

@test "pmc events: exit with the signal, then start and online again, after a kill -9" {
	local pid
	start_web web 1
	pid=$(slot_pid web 0)
	start_events web
	# Subscribed once a stop and start shows; then the kill.
	wait_for 10 restarted_seen
	pid=$(slot_pid web 0)
	kill -9 "$pid"
	wait_for 10 grep -q "web\[0\] exit pid=$pid signal=KILL uptime_ms=" "$ev"
	wait_for 10 online_after_exit "$pid"
	cat "$ev"
	# In this order: exit, restart (when it backs off), start, online.
	sed -n "/web\[0\] exit pid=$pid /,\$p" "$ev" | grep 'web\[0\]' |
	    sed 's/^[^ ]* web\[0\] \([a-z]*\) .*/\1/' | tr '\n' ' ' |
	    grep -Eq '^exit (restart )?start online '
	[ "$(grep "web\[0\] online pid=" "$ev" | tail -1 |
	    sed 's/.*pid=//')" = "$(slot_pid web 0)" ]
	# The documented line: TIME APP[N] KIND key=value...
	grep "exit pid=$pid" "$ev" |
	    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z web\[0\] exit '
}

# keep_restart_seen: pmc restart keep shows in $ev: subscribed.
keep_restart_seen() {
	"$PMC" restart keep >/dev/null 2>&1 || return 1
	grep -q '"app":"keep","instance":0,"pid":' "$ev"
}

# online_after_exit PID: a line "web[0] online" follows the exit of PID.
online_after_exit() {
	sed -n "/web\[0\] exit pid=$1 /,\$p" "$ev" | grep -q 'web\[0\] online pid='
}

# restarted_seen: pmc restart web shows in $ev as stopping then online.
restarted_seen() {
	"$PMC" restart web >/dev/null 2>&1 || return 1
	grep -q "web\[0\] stopping pid=.* then=start" "$ev" &&
	    grep -q "web\[0\] online pid=" "$ev"
}

@test "pmc events: a spec that is refused says why; one that starts says so; an unknown app is an error" {
	port=$(free_port)
	echo_app echo 1 "    listen: 127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -1 "$PMC" events nosuch
	[[ "$output" == *"nosuch: no such app"* ]]
	start_events --json
	k=0
	wait_for 10 seen_echo_one
	# It loads, but its address is echo's: pmcd refuses it.
	app_file bad.yaml "  - name: bad" "    command: [sleep, \"1\"]" \
	    "    listen: 127.0.0.1:$port"
	run -1 "$PMC" start bad.yaml
	wait_for 5 grep -q '"event":"spec"' "$ev"
	grep '"event":"spec"' "$ev" | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
assert e["outcome"] == "refused" and "app" not in e, e
assert e["file"].endswith("/bad.yaml"), e
assert "127.0.0.1:" in e["error"] and "echo" in e["error"], e'
	app_file two.yaml "  - name: two" "    command: [sleep, \"100\"]"
	run -0 "$PMC" start two.yaml
	wait_for 5 grep -q '"event":"spec","app":"two"' "$ev"
	grep '"app":"two"' "$ev" | grep '"event":"spec"' |
	    grep -q '"outcome":"started"'
}

# seen_echo_one: as seen_echo, for an app of one instance.
seen_echo_one() {
	k=$((k + 1))
	"$PMC" send echo "{\"k\": $k}" >/dev/null 2>&1 || return 1
	grep -q "\"echo\":{\"k\":$k}" "$ev"
}

# rss_kb PID: its resident set, kB.
rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}

# received_at_least N: instance 0 of flood has sent pmcd N messages.
received_at_least() {
	local got
	got=$("$PMC" describe flood | sed -n 's/.*channel: open, [0-9]* sent, \([0-9]*\) received.*/\1/p')
	[ -n "$got" ] && [ "$got" -ge "$1" ]
}

@test "a flood of messages and a subscriber that never reads: pmcd's RSS stays flat, pmc ping answers, the subscriber is dropped saying how many it missed" {
	local pmcd before after fifo go n
	app_file app.yaml "  - name: flood" \
	    "    command: [node, \"$NODE_CHANNEL\"]" \
	    "    ready: notify" \
	    "    env: {FLOOD: \"1\"}"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pmcd=$(pmcd_pid)
	wait_for 10 received_at_least 1000
	before=$(rss_kb "$pmcd")
	# A subscriber whose reader never reads: pmc blocks on the full
	# pipe, pmcd's queue for it fills, and it falls behind.
	fifo=$BATS_TEST_TMPDIR/fifo
	go=$BATS_TEST_TMPDIR/go
	mkfifo "$fifo" "$go"
	# It holds the pipe open from the start; reads once told to.
	(read -r _ < "$go"; exec cat) < "$fifo" > "$BATS_TEST_TMPDIR/read.out" \
	    3>&- &
	reader_pid=$!
	"$PMC" events > "$fifo" 2>&1 3>&- &
	ev_pid=$!
	wait_for 30 pmcd_logged "events: a subscriber fell 256 KiB behind"
	# The flood goes on while pmcd answers and keeps its size; all
	# this within the 10 s pmcd gives a client that reads nothing.
	n=$("$PMC" describe flood | sed -n 's/.*sent, \([0-9]*\) received.*/\1/p')
	wait_for 5 received_at_least $((n + 20000))
	run -0 timeout 5 "$PMC" ping
	after=$(rss_kb "$pmcd")
	echo "# pmcd RSS ${before} kB before, ${after} kB with a stalled" \
	    "subscriber and $((n + 20000))+ messages" >&3
	# Under make asan the quarantine holds what is freed: no figure.
	[ -n "${PMC_SANITIZER_REPORTS:-}" ] || [ "$after" -lt $((before + 4096)) ]
	# Now it is read: the stream ends saying what it missed.
	echo go > "$go"
	status=0
	wait "$ev_pid" || status=$?
	ev_pid=
	[ "$status" -eq 1 ]
	wait "$reader_pid"
	reader_pid=
	wait_for 5 grep -q "events missed" "$BATS_TEST_TMPDIR/read.out"
	[[ "$(tail -1 "$BATS_TEST_TMPDIR/read.out")" =~ ^"pmc: events: dropped: "[0-9]+" events missed, read too slowly"$ ]]
	all_online flood 1
}

#!/usr/bin/env bats
#
# How the four balance modes spread connections over the instances of
# an app, measured: 4 instances of demo-httpd, 1000 requests one after
# the other or from 8 threads at once, a new connection each; the
# distribution per instance shows in the TAP output.  The client is
# tests/balclient.py.  The default is round-robin, or shared where
# per-slot sockets cannot be had (a unix address, a socket passed by the
# service manager).
#
# balance: shared -- one listening socket that pmcd holds and every
#	instance inherits: one accept queue.  A connection waits in it
#	until some instance accepts it, so an instance that is slow or
#	restarting never holds connections back: whichever is idle takes
#	the next one.  Spread is not even: the instances that sleep in
#	epoll_wait are woken last-in first-out, so under light load the
#	instance that just finished (the busiest) tends to get the next
#	connection too; under heavy load all are busy and it evens out.
#	(demo-httpd waits in poll(), which wakes every instance: the
#	first to accept wins.)
#	Good for servers of uneven speed and for long requests.
# balance: reuseport -- one SO_REUSEPORT socket per instance slot, all
#	bound to the address; the kernel hashes each connection's 4-tuple
#	to one of them: an even spread however busy the instances are,
#	and no thundering herd.  But each slot has its own queue: a slow
#	or stuck instance's connections wait for it, never taken by the
#	others.  pmcd keeps a slot's socket while the slot restarts, so
#	restarts do not reset connections; on a scale-down pmcd's eBPF
#	program moves the connections queued on a retired slot's socket
#	to the others (without CAP_BPF there is no program, and they are
#	reset unless net.ipv4.tcp_migrate_req=1).
#	Good for many short requests of even cost.
# balance: round-robin -- the sockets of reuseport, and a kernel
#	program that deals new connections to the slots in turn, from a
#	schedule of the slots whose instance is online: exact turns (1000
#	connections over 4 instances: 250 each), and a slot whose
#	instance is down is left out, so no connection waits for it.
#	With slow_start, an instance that comes online (started,
#	restarted, replaced by a reload, added by a scale-up) starts
#	with a small weight in the schedule and ramps linearly to its
#	full weight over that time (1 of 16: a restarted one of 4 gets
#	about 2% of the connections at first).  Without CAP_BPF a classic
#	BPF program draws a slot at random, weighted: even on average,
#	not exact.  Node's SCHED_RR, done in the kernel.
#	Good for requests of even cost, and, with slow_start, for servers
#	that must warm up (caches, a JIT) before taking their share.
# balance: sticky -- the sockets of reuseport, and a kernel program
#	that hashes the client's address to one of 256 buckets, each
#	owned by a slot (rendezvous hashing): one client address, one
#	instance, as long as that instance lives.  An instance down for
#	more than a second gives its buckets to the live ones, and gets
#	them back when it is online again; scaling 4 -> 5 moves about a
#	fifth of the clients, all to the new instance.  Exact with or
#	without CAP_BPF.
#	Good for servers that cache per client.

load helper
load load
load nobody

bats_require_minimum_version 1.5.0

INSTANCES=4
REQUESTS=1000
CLIENT=$TESTS_DIR/balclient.py
# 49 client addresses for sticky: 127.0.0.2 ... 127.0.0.50.
SOURCES=2-50
NSOURCES=49
PER_SOURCE=20
# A slot killed with this spec stays down (status backoff) for an hour.
STAY_DOWN='backoff: {initial: 1h, max: 1h, min_uptime: 1h}'

teardown() {
	stop_bal_load
	stop_load
	nobody_cleanup
}

# start_demo MODE [YAML-LINE...]: $INSTANCES demo-httpd on a free $port,
# balance MODE, all online.
start_demo() {
	local mode=$1
	shift
	port=$(free_port)
	demo_spec app.yaml web $INSTANCES "127.0.0.1:$port" \
	    "balance: $mode" "$@"
	pmc_start app.yaml
	[ "$status" -eq 0 ] || { echo "pmc start: $stderr"; return 1; }
	wait_for 10 all_online web $INSTANCES
}

# web_values KEY: KEY of every instance of app web in `pmc list --json`,
# in slot order, one space apart.
web_values() {
	"$PMC" list --json | python3 -c '
import json, sys
l = sorted((i for i in json.load(sys.stdin) if i["name"] == "web"),
    key=lambda i: i["instance"])
print(" ".join(str(i[sys.argv[1]]) for i in l))' "$1"
}

# slot_is SLOT STATUS: instance SLOT of app web has that status.
slot_is() {
	[ "$(slot_field web "$1" status)" = "$2" ]
}

# up_for SLOT MS: instance SLOT of app web has been up MS or longer.
up_for() {
	local up
	up=$(slot_field web "$1" uptime_ms)
	[ -n "$up" ] && [ "$up" -ge "$2" ]
}

# back_online SLOT OLDPID: slot SLOT runs a new process, online.
back_online() {
	local pid
	pid=$(slot_pid web "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ] &&
	    slot_is "$1" online
}

# weights_even N: app web has N instances, online, all with one weight,
# above 0: none ramps behind the others.
weights_even() {
	local w
	all_online web "$1" || return 1
	w=$(web_values weight) || return 1
	[ "$(echo "$w" | wc -w)" -eq "$1" ] &&
	    [ "$(echo "$w" | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] &&
	    [ "${w%% *}" != 0 ]
}

# ramp_over N MS: weights_even N, and every instance up MS or longer:
# online as long as slow_start, ramped to its full weight.  (Weights
# are even all along the ramp of instances started together.)
ramp_over() {
	local s
	weights_even "$1" || return 1
	for ((s = 0; s < $1; s++)); do
		up_for "$s" "$2" || return 1
	done
}

# within WHAT VALUE LOW HIGH: LOW <= VALUE <= HIGH, or fail saying so.
within() {
	[ "$2" -ge "$3" ] && [ "$2" -le "$4" ] && return 0
	echo "$1: $2, expected $3 to $4"
	return 1
}

# client ARG...: run the client on $port (60 s at most); its report in
# $client_out (and on stdout, for a failing test), $failed set.
client() {
	client_out=$(timeout 60 python3 "$CLIENT" "$port" "$@")
	echo "$client_out"
	failed=$(echo "$client_out" | sed -n 's/^failed: //p')
	[ -n "$failed" ]
}

# count_of I: the answers instance I gave in the last client run.
count_of() {
	local n
	n=$(echo "$client_out" | sed -n "s/^instance $1: //p")
	echo "${n:-0}"
}

# measure LABEL THREADS [CLIENT-ARG...]: $REQUESTS requests, show the
# distribution in the TAP output and set $total (requests answered),
# $answered (instances that answered at least once), $smallest (the
# least an instance got, 0 for one that got none) and $failed.  Stops
# after 5 failures.
measure() {
	local label=$1 threads=$2 line
	shift 2
	client -n $REQUESTS -t "$threads" --max-failures 5 "$@" || return 1
	line=$(echo "$client_out" | sed -n 's/^instance \([0-9]*\): /\1=/p' |
	    tr '\n' ' ' | sed 's/ $//')
	echo "# $label: instance=answers ${line:-none}, failed=$failed" >&3
	answered=$(echo "$client_out" | grep -c '^instance')
	smallest=$(echo "$client_out" | sed -n 's/^instance [0-9]*: //p' |
	    sort -n | head -n 1)
	[ "$answered" -eq $INSTANCES ] || smallest=0
	total=$(echo "$client_out" | sed -n 's/^instance [0-9]*: //p' |
	    awk '{ n += $1 } END { print n + 0 }')
}

# --- shared and reuseport ----------------------------------------------

@test "balance: shared, 1000 requests one at a time: all answered, by 2 instances or more" {
	start_demo shared
	measure "shared, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -ge 2 ]
	all_online web $INSTANCES
}

@test "balance: shared, 1000 requests from 8 threads: all answered, by 2 instances or more" {
	start_demo shared
	measure "shared, 8 clients" 8
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -ge 2 ]
	all_online web $INSTANCES
}

@test "balance: reuseport, 1000 requests one at a time: all answered, every instance got a share" {
	start_demo reuseport
	measure "reuseport, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -eq $INSTANCES ]
	[ "$smallest" -gt 0 ]
	all_online web $INSTANCES
}

@test "balance: reuseport, 1000 requests from 8 threads: all answered, every instance got a share" {
	start_demo reuseport
	measure "reuseport, 8 clients" 8
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -eq $INSTANCES ]
	[ "$smallest" -gt 0 ]
	all_online web $INSTANCES
}

# --- round-robin -------------------------------------------------------

@test "balance: round-robin, 1000 requests one at a time: 250 ± 1 for each instance, by eBPF" {
	needs_ebpf
	start_demo round-robin
	run -0 "$PMC" describe web
	echo "$output" | grep -i balance | grep round-robin | grep -qi ebpf ||
	    { echo "describe names no round-robin balance by eBPF"; return 1; }
	[ "$(web_values balance)" = "round-robin round-robin round-robin round-robin" ]
	[ "$(web_values balance_engine)" = "ebpf ebpf ebpf ebpf" ]
	measure "round-robin, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	for i in 0 1 2 3; do
		within "instance $i" "$(count_of $i)" 249 251
	done
	all_online web $INSTANCES
}

@test "balance: round-robin leaves out a slot whose instance is down: 1000 requests all answered, 333 ± 1 for each live one" {
	needs_ebpf
	start_demo round-robin "$STAY_DOWN"
	kill -KILL "$(slot_pid web 1)"
	wait_for 10 slot_is 1 backoff
	[ "$(web_values weight | cut -d' ' -f2)" = 0 ]
	# 5 s per connection: one dealt to slot 1 would wait there, and
	# fail.
	measure "round-robin, instance 1 down, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$(count_of 1)" -eq 0 ]
	for i in 0 2 3; do
		within "instance $i" "$(count_of $i)" 332 334
	done
	# It was down all along.
	slot_is 1 backoff
}

# ramp_window: 200 requests one at a time; $share: instance 2's share of
# the answers, in thousandths.
ramp_window() {
	client -n 200 -t 1 --max-failures 5 > /dev/null || return 1
	[ "$failed" -eq 0 ] || { echo "$client_out"; return 1; }
	share=$(( $(count_of 2) * 1000 / 200 ))
}

@test "balance: round-robin with slow_start, a restarted instance's share ramps up from well under a quarter to a quarter" {
	local shares=() ended=0 deadline i mid=0 old
	needs_ebpf
	start_demo round-robin 'slow_start: 8s'
	# The first start ramps too: let it end (up 8 s, and 1 s more for
	# the time from start to online).
	wait_for 20 ramp_over $INSTANCES 9000
	# Up past backoff.min_uptime (1 s): a kill -9 restarts it at once.
	up_for 2 1100
	old=$(slot_pid web 2)
	kill -KILL "$old"
	wait_for 10 back_online 2 "$old"
	# Windows of 200 requests until pmcd says the ramp is over, then one
	# more.
	deadline=$(( $(now_ms) + 30000 ))
	while [ "$ended" -eq 0 ]; do
		weights_even $INSTANCES && ended=1
		ramp_window
		shares+=("$share")
		echo "# window ${#shares[@]}$([ "$ended" -eq 1 ] &&
		    echo ' (ramp over)'): instance 2 got $share/1000," \
		    "weights $(web_values weight)" >&3
		[ "$(now_ms)" -lt "$deadline" ] ||
		    { echo "the ramp did not end within 30 s"; return 1; }
	done
	[ "${#shares[@]}" -ge 3 ] ||
	    { echo "only ${#shares[@]} windows: no ramp seen"; return 1; }
	# Well under a quarter at first...
	[ "${shares[0]}" -lt 120 ]
	# ...then on the way up: some window of the ramp between the two...
	for ((i = 1; i < ${#shares[@]} - 1; i++)); do
		if [ "${shares[i]}" -gt $(( shares[0] + 20 )) ] &&
		    [ "${shares[i]}" -lt 220 ]; then
			mid=1
		fi
	done
	[ "$mid" -eq 1 ] || { echo "no window between: ${shares[*]}"; return 1; }
	# ...and a quarter once it is over (at the weight of the others).
	within "instance 2 after the ramp, in thousandths" "${shares[-1]}" 220 280
	all_online web $INSTANCES
}

# --- sticky ------------------------------------------------------------

# sticky_map LABEL: $PER_SOURCE connections from each of the $NSOURCES
# addresses, one at a time, all answered, each address always by one
# instance; $map holds "ADDRESS INSTANCE" lines.  Shows how many
# addresses each instance had.
sticky_map() {
	local bad
	client -n $((NSOURCES * PER_SOURCE)) -t 1 -s $SOURCES \
	    --max-failures 5 || return 1
	[ "$failed" -eq 0 ] || return 1
	map=$(echo "$client_out" | sed -n 's/^source \([0-9.]*\): /\1 /p')
	[ "$(echo "$map" | wc -l)" -eq $NSOURCES ] || return 1
	bad=$(echo "$map" | awk '$2 !~ /^[0-9]+$/')
	[ -z "$bad" ] || { echo "not on one instance: $bad"; return 1; }
	echo "# $1: instance=addresses" \
	    "$(echo "$map" | awk '{ print $2 }' | sort -n | uniq -c |
	    awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }')" >&3
}

# on_instance MAP I: the addresses of MAP on instance I, as a -s list.
on_instance() {
	echo "$1" | awk -v i="$2" '$2 == i { sub(/.*\./, "", $1); print $1 }' |
	    paste -sd, -
}

# answered_from LIST: one connection from each address of LIST, all at
# once, 1 s each: every one answered.
answered_from() {
	local n
	n=$(echo "$1" | tr ',' '\n' | wc -l)
	client -n "$n" -t "$n" -T 1 -s "$1" > /dev/null && [ "$failed" -eq 0 ]
}

@test "balance: sticky, 49 client addresses: each stays on one instance; a lost instance's clients move to live ones, no one else's, and come back with it" {
	local before victim a b now moved=0
	needs_ebpf
	start_demo sticky "$STAY_DOWN"
	[ "$(web_values balance_engine)" = "ebpf ebpf ebpf ebpf" ]
	sticky_map "sticky, 4 instances"
	before=$map
	[ "$(echo "$before" | awk '{ print $2 }' | sort -u | wc -l)" -ge 2 ]
	# The instance with the most addresses goes down, for good.
	victim=$(echo "$before" | awk '{ print $2 }' | sort | uniq -c |
	    sort -rn | awk 'NR == 1 { print $2 }')
	kill -KILL "$(slot_pid web "$victim")"
	wait_for 10 slot_is "$victim" backoff
	# After the grace (1 s) its clients are answered again.
	wait_for 15 answered_from "$(on_instance "$before" "$victim")"
	sticky_map "sticky, instance $victim down"
	while read -r a b; do
		now=$(echo "$map" | awk -v a="$a" '$1 == a { print $2 }')
		if [ "$b" = "$victim" ]; then
			[ "$now" != "$victim" ] ||
			    { echo "$a still on $victim"; return 1; }
			moved=$((moved + 1))
		else
			same "instance of $a" "$b" "$now"
		fi
	done <<< "$before"
	echo "# sticky: $moved addresses moved off instance $victim" >&3
	[ "$moved" -ge 1 ]
	slot_is "$victim" backoff
	# Back online, it gets its clients back: the map of the start.
	run -0 "$PMC" restart web
	wait_for 10 all_online web $INSTANCES
	sticky_map "sticky, instance $victim back"
	same "the map" "$before" "$map"
}

@test "balance: sticky, scale 4 -> 5: at most 20 of 49 client addresses move, all to the new instance 4" {
	local before a b now moved=0
	needs_ebpf
	start_demo sticky
	sticky_map "sticky, 4 instances"
	before=$map
	run -0 "$PMC" scale web 5
	wait_for 10 all_online web 5
	sticky_map "sticky, 5 instances"
	while read -r a b; do
		now=$(echo "$map" | awk -v a="$a" '$1 == a { print $2 }')
		[ "$now" = "$b" ] && continue
		same "new instance of $a (was $b)" 4 "$now"
		moved=$((moved + 1))
	done <<< "$before"
	echo "# sticky, 4 -> 5: $moved of $NSOURCES addresses moved" >&3
	within "addresses moved" "$moved" 1 20
}

# --- scale-down under load ---------------------------------------------

# start_bal_load [ARG...]: the client from 8 threads and the $NSOURCES addresses
# in the background, until stop_bal_load; its report goes to $lload/out,
# its count of answers to $lload/answers.
start_bal_load() {
	lload=$BATS_TEST_TMPDIR/bal-load
	mkdir -p "$lload"
	echo 0 > "$lload/answers"
	python3 "$CLIENT" "$port" -t 8 -s $SOURCES --until "$lload/stop" \
	    --progress "$lload/answers" "$@" > "$lload/out" 2>&1 3>&- &
	lload_pid=$!
}

# load_answered N: the load has had N answers or more.
load_answered() {
	[ "$(cat "$lload/answers")" -ge "$1" ]
}

stop_bal_load() {
	[ -n "${lload_pid:-}" ] || return 0
	touch "$lload/stop"
	# Each request in flight ends within its 5 s.
	wait_for 15 not_alive "$lload_pid" || kill "$lload_pid" 2>/dev/null
	wait "$lload_pid" 2>/dev/null
	lload_pid=
}

# scale_down_under_load MODE: 4 instances, balance MODE, scaled to 2
# while clients keep connecting: wrk's 16 (from 127.0.0.1: they keep
# every instance's queue full) and 8 of the client's (from the 49
# addresses: for sticky, several buckets).  Not one request fails (a
# connection queued on a retired slot's socket moves to another), the
# load goes on after, and then only instances 0 and 1 answer.
scale_down_under_load() {
	local n line
	start_demo "$1"
	start_load "$port"
	start_bal_load
	wait_for 10 load_answered 100
	run -0 "$PMC" scale web 2
	[[ "$output" == *"web: 2/2 online"* ]]
	n=$(cat "$lload/answers")
	wait_for 10 load_answered $((n + 100))
	stop_bal_load
	no_failed_requests || { cat "$lload/out"; return 1; }
	cat "$lload/out"
	client_out=$(cat "$lload/out")
	failed=$(echo "$client_out" | sed -n 's/^failed: //p')
	line=$(echo "$client_out" | sed -n 's/^instance \([0-9]*\): /\1=/p' |
	    tr '\n' ' ' | sed 's/ $//')
	echo "# $1, scale 4 -> 2 under load: instance=answers $line," \
	    "failed=$failed; wrk: $LOAD_REQUESTS answered," \
	    "$LOAD_FAILED failed" >&3
	[ "$failed" = 0 ]
	[ "$(app_statuses web)" = "online online" ]
	client -n 100 -t 1 -s $SOURCES --max-failures 5
	[ "$failed" -eq 0 ]
	[ "$(( $(count_of 0) + $(count_of 1) ))" -eq 100 ]
}

@test "balance: shared, scale 4 -> 2 under load: no request fails" {
	scale_down_under_load shared
}

@test "balance: reuseport, scale 4 -> 2 under load: no request fails" {
	needs_ebpf
	scale_down_under_load reuseport
}

@test "balance: round-robin, scale 4 -> 2 under load: no request fails" {
	needs_ebpf
	scale_down_under_load round-robin
}

@test "balance: sticky, scale 4 -> 2 under load: no request fails" {
	needs_ebpf
	scale_down_under_load sticky
}

# delete_under_load MODE: 4 instances, balance MODE, deleted while
# clients keep connecting (wrk's 16 keep the instances busy, so that
# connections wait in the queues).  Every connection the kernel
# accepted is answered: pmcd shuts the doors first (with eBPF a new
# connection is refused at once, as by a closed port; on the shared
# socket a filter drops its SYN, and the retry meets the closed port:
# neither counts as failed) and stops the instances once the queues
# are empty.  After
# the delete the port refuses, and no instance is left.
delete_under_load() {
	start_demo "$1"
	delete_loaded "$1"
}

# delete_loaded LABEL: the same for app web, started.
delete_loaded() {
	local pids pid refused failed
	pids=$(app_pids web)
	start_load "$port"
	start_bal_load --refused-ok
	wait_for 10 load_answered 100
	run -0 "$PMC" delete web
	[[ "$output" == *"web: deleted"* ]]
	run ! curl -sS --max-time 5 "http://127.0.0.1:$port/"
	[[ "$output" == *"Failed to connect"* ]]
	stop_bal_load
	finish_load
	cat "$lload/out"
	refused=$(sed -n 's/^refused: //p' "$lload/out")
	failed=$(sed -n 's/^failed: //p' "$lload/out")
	echo "# $1, delete under load: $(cat "$lload/answers") answered," \
	    "$refused refused once deleting, $failed failed;" \
	    "wrk: $LOAD_REQUESTS answered" >&3
	[ "$failed" = 0 ]
	for pid in $pids; do
		not_alive "$pid"
	done
}

@test "balance: shared, delete under load: no accepted connection fails" {
	# The SYN filter wants CAP_NET_ADMIN on some kernels.
	[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_NET_ADMIN)"
	delete_under_load shared
}

@test "balance: reuseport, delete under load: no accepted connection fails" {
	needs_ebpf
	delete_under_load reuseport
}

@test "balance: round-robin, delete under load: no accepted connection fails" {
	needs_ebpf
	delete_under_load round-robin
}

@test "balance: sticky, delete under load: no accepted connection fails" {
	needs_ebpf
	delete_under_load sticky
}

# --- without CAP_BPF ---------------------------------------------------

# nobody_pmc: $PMC becomes a script that runs pmc as nobody, the user
# of the test's pmcd, with its PMC_HOME (a root pmc will not use a home
# of nobody's), for the helpers and teardown alike.
nobody_pmc() {
	cat > "$NOBODY_TMP/pmc" <<-EOF
	#!/bin/sh
	exec setpriv --reuid nobody --regid nogroup --clear-groups \
	    env PMC_HOME="$PMC_HOME" "$PMC" "\$@"
	EOF
	chmod 0755 "$NOBODY_TMP/pmc"
	PMC=$NOBODY_TMP/pmc
}

@test "balance: round-robin without CAP_BPF (pmcd as nobody): classic BPF, said so; 1000 requests all answered, every instance got a share" {
	need_nobody
	nobody_home
	cd "$NOBODY_TMP"
	port=$(free_port)
	demo_spec app.yaml web $INSTANCES "127.0.0.1:$port" \
	    "balance: round-robin"
	nobody_pmc
	run -0 "$PMC" start app.yaml 3>&-
	[ "$(stat -c %U "/proc/$(pmcd_pid)")" = nobody ]
	wait_for 10 all_online web $INSTANCES
	run -0 "$PMC" describe web
	echo "$output" | grep -i balance | grep round-robin | grep -qi classic ||
	    { echo "describe names no round-robin by classic BPF"; return 1; }
	[[ "$output" == *CAP_BPF* ]]
	pmcd_logged CAP_BPF
	[ "$(web_values balance_engine)" = "classic classic classic classic" ]
	measure "round-robin, classic BPF, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	# A weighted random draw: even on average only.
	[ "$smallest" -ge 100 ]
	all_online web $INSTANCES
}

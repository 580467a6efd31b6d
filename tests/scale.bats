#!/usr/bin/env bats
#
# pmc scale NAME N|+N|-N: more instances start in new slots, fewer stop
# the highest slots gracefully; the others are not touched, and under
# load (balance: shared) no request fails.

bats_require_minimum_version 1.5.0
load helper
load load

# --- instances ----------------------------------------------------------------

# web_spec PORT INSTANCES [BALANCE]: app.yaml with app web, a demo-httpd
# that tells READY=1.
web_spec() {
	demo_spec app.yaml web "$2" "127.0.0.1:$1" "balance: ${3:-shared}" \
	    "ready: notify"
}

# The slots of app web in pmc list, in order.
slots() {
	"$PMC" list --json | python3 -c '
import json, sys
print(" ".join(str(i["instance"]) for i in json.load(sys.stdin)
    if i["name"] == "web"))'
}

# The socket each instance of app web has at fd 3, one a line.
fd3_sockets() {
	local pid
	for pid in $(app_pids web); do
		readlink "/proc/$pid/fd/3"
	done
}

# expect_slots "0 1 2": app web has these slots, all online, one process
# each under pmcd.
expect_slots() {
	[ "$(slots)" = "$1" ] || { echo "slots: $(slots), expected $1"; return 1; }
	all_online web "$(echo "$1" | wc -w)"
	[ "$(pmcd_children)" -eq "$(echo "$1" | wc -w)" ] ||
	    { echo "$(pmcd_children) processes under pmcd"; return 1; }
}

# ---------------------------------------------------------------------------

@test "scale 2 -> 4 -> 1 under load fails no request; slots and pids follow" {
	port=$(free_port)
	web_spec "$port" 2
	run -0 "$PMC" start app.yaml
	p0=$(slot_pid web 0)
	p1=$(slot_pid web 1)

	start_load "$port"
	run -0 "$PMC" scale web 4
	[[ "$output" == *"web: 4/4 online"* ]]
	expect_slots "0 1 2 3"
	# Scaling up leaves the running ones alone.
	[ "$(slot_pid web 0)" = "$p0" ]
	[ "$(slot_pid web 1)" = "$p1" ]
	p2=$(slot_pid web 2)
	p3=$(slot_pid web 3)
	[ "$(env_of "$p3" PMC_INSTANCE)" = 3 ]
	# balance: shared: one socket for all.
	[ "$(fd3_sockets | sort -u | wc -l)" -eq 1 ]
	[[ "$(fd3_sockets | head -n 1)" == "socket:["* ]]

	run -0 "$PMC" scale web 1
	[[ "$output" == *"web: 1/1 online"* ]]
	no_failed_requests

	# The highest slots went; slot 0 is the same process.
	expect_slots "0"
	[ "$(slot_pid web 0)" = "$p0" ]
	for pid in $p1 $p2 $p3; do not_alive "$pid"; done
	[ "$(http_get "$port" /pid)" = "$p0" ]
	run -0 "$PMC" describe web
	[[ "$output" == *"instances: 1"* ]]
}

@test "scale +N and -N count from the running number" {
	port=$(free_port)
	web_spec "$port" 1
	run -0 "$PMC" start app.yaml
	p0=$(slot_pid web 0)

	run -0 "$PMC" scale web +2
	expect_slots "0 1 2"
	p1=$(slot_pid web 1)
	run -0 "$PMC" scale web -1
	expect_slots "0 1"
	[ "$(slot_pid web 0)" = "$p0" ]
	[ "$(slot_pid web 1)" = "$p1" ]
	run -0 "$PMC" scale web +1
	expect_slots "0 1 2"
	[ "$(env_of "$(slot_pid web 2)" PMC_INSTANCE)" = 2 ]
	run -0 "$PMC" scale web -2
	expect_slots "0"
	[ "$(slot_pid web 0)" = "$p0" ]
}

@test "scale refuses a bad count with exit 2, an unknown app with exit 1" {
	port=$(free_port)
	web_spec "$port" 2
	run -0 "$PMC" start app.yaml
	pids=$(app_pids web)

	for n in 0 abc -2 -5 +0x1 2000 +2000 "" 1.5; do
		run -2 --separate-stderr "$PMC" scale web "$n"
		[[ "$stderr" == "pmc: scale: web: expected a count from 1 to 1024, or +N or -N, got \"$n\"" ]] ||
		    { echo "scale web '$n': $stderr"; return 1; }
	done
	[ "$(app_pids web)" = "$pids" ]
	expect_slots "0 1"

	run -1 --separate-stderr "$PMC" scale nosuch 3
	[[ "$stderr" == *"pmc: nosuch: no such app"* ]]
	run -2 --separate-stderr "$PMC" scale web
	[[ "$stderr" == *"usage: pmc scale NAME N|+N|-N"* ]]
}

@test "scale during a reload is refused" {
	port=$(free_port)
	web_spec "$port" 2
	sed -i 's/"--notify"\]/"--notify", "--ready-delay-ms", "500"]/' app.yaml
	run -0 "$PMC" start app.yaml

	run -0 "$PMC" reload --no-wait web
	run -1 --separate-stderr "$PMC" scale web 3
	[[ "$stderr" == *"web: a reload is under way"* ]]
}

@test "scale with balance: reuseport gives each new slot its own socket" {
	port=$(free_port)
	web_spec "$port" 1 reuseport
	run -0 "$PMC" start app.yaml
	p0=$(slot_pid web 0)

	run -0 "$PMC" scale web 3
	expect_slots "0 1 2"
	[ "$(fd3_sockets | sort -u | wc -l)" -eq 3 ]
	for s in 1 2; do
		[ "$(env_of "$(slot_pid web $s)" LISTEN_FDS)" = 1 ]
	done
	http_get "$port" /pid
	run -0 "$PMC" scale web 1
	expect_slots "0"
	[ "$(slot_pid web 0)" = "$p0" ]
	[ "$(http_get "$port" /pid)" = "$p0" ]
}

@test "scale up exits 1 naming the new slot that fails to start" {
	port=$(free_port)
	printf '#!/bin/sh\n[ "$PMC_INSTANCE" = 2 ] && exit 4\nexec "%s" --notify\n' \
	    "$DEMO" > server.sh
	chmod +x server.sh
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["./server.sh"]
	    instances: 2
	    listen: 127.0.0.1:$port
	    ready: notify
	EOF
	run -0 "$PMC" start app.yaml
	pids=$(app_pids web)

	run -1 --separate-stderr "$PMC" scale web 3
	[[ "$stderr" == *"pmc: web[2]: exited with status 4"* ]]
	[[ "$output" == *"web: 2/3 online"* ]]
	[ "$(slot_pid web 0) $(slot_pid web 1)" = "$pids" ]
	run -0 "$PMC" scale web 2
	expect_slots "0 1"
}

@test "a slot being dropped by scale is not brought back by a restart" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--ignore-term"]
	    instances: 2
	    listen: 127.0.0.1:$port
	    kill_timeout: 1s
	    balance: shared
	EOF
	run -0 "$PMC" start app.yaml
	# Slot 1 ignores TERM: it is still stopping when restart comes.  (With
	# a socket of its own, which a scale down shuts, demo-httpd would
	# exit at once: shared keeps it serving until the kill.)
	run -0 "$PMC" scale web 1 &
	scale_pid=$!
	wait_for 5 test_has_stopping web
	run "$PMC" restart web
	wait "$scale_pid" || true
	wait_for 10 all_online web 1
	[ "$(app_statuses web)" = online ]
}

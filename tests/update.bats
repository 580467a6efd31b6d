#!/usr/bin/env bats
#
# pmc update: pmcd executes a new binary in its own process and keeps
# every instance, socket, counter and client; a binary that cannot take
# the state leaves the old pmcd as it was.
#
# "The new binary" is a copy of bin/pmcd at another path, so that
# /proc/PID/exe shows which one runs.

bats_require_minimum_version 1.5.0
load helper
load load

# start_demo N: app web, N demo instances on $port, started.
start_demo() {
	port=$(free_port)
	demo_spec app.yaml web "$1" "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
}

# new_binary: $NEW, a copy of pmcd that pmcd may execute.
new_binary() {
	NEW=$BATS_TEST_TMPDIR/pmcd-new
	cp "$PMCD" "$NEW"
	chmod 755 "$NEW"
}

exe_of() {
	readlink "/proc/$1/exe"
}

fds_of() {
	ls "/proc/$1/fd" | wc -l
}

# started SLOT: the start time of an instance, as pmc list --json has it
# (uptime counts from it, so it must not change).
uptime_of() {
	slot_field web "$1" uptime_ms
}

@test "pmc update under load: 0 failed requests, every pid kept, the new binary runs, counters carried" {
	new_binary
	port=$(free_port)
	demo_spec app.yaml web 4 "127.0.0.1:$port" \
	    'backoff: {initial: 700ms, max: 10s, min_uptime: 60s}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 4
	# A crash first, so that there are a restart count and a backoff
	# delay (700 ms, doubled to 1400 ms for the next one) to carry.
	kill -KILL "$(slot_pid web 0)"
	wait_for 10 pmcd_logged 'web\[0\]: .*restarting in 700ms'
	wait_for 10 all_online web 4
	pmcd=$(pmcd_pid)
	before=$(app_pids web)
	up_before=$(uptime_of 1)
	fds_before=$(fds_of "$pmcd")
	[ "$(exe_of "$pmcd")" = "$(readlink -f "$PMCD")" ]

	start_load "$port"
	run -0 "$PMC" update --binary "$NEW"
	echo "$output"
	[[ "$output" == "pmcd $pmcd updated: running $NEW; 4 instances kept" ]]
	no_failed_requests

	[ "$(pmcd_pid)" = "$pmcd" ]
	[ "$(exe_of "$pmcd")" = "$NEW" ]
	[ "$(app_pids web)" = "$before" ]
	all_online web 4
	[ "$(slot_field web 0 restarts)" -eq 1 ]
	[ "$(uptime_of 1)" -ge "$up_before" ]
	# Nothing leaked or lost across the exec: the same descriptors.
	[ "$(fds_of "$pmcd")" -eq "$fds_before" ]
	# The next crash of slot 0 backs off from where it was.
	kill -KILL "$(slot_pid web 0)"
	wait_for 10 pmcd_logged 'web\[0\]: .*restarting in 1400ms'
	wait_for 10 all_online web 4
	[ "$(slot_field web 0 restarts)" -eq 2 ]
	[ "$(http_get "$port" /pid)" -gt 0 ]
}

@test "pmc update without --binary executes pmcd's own path again; an instance's channel and the spec are the same after" {
	start_demo 2
	pmcd=$(pmcd_pid)
	before=$(app_pids web)
	run -0 "$PMC" describe web
	describe_before=$(echo "$output" | grep -v -e uptime -e cpu -e memory)
	run -0 "$PMC" update
	[[ "$output" == "pmcd $pmcd updated: running $(readlink -f "$PMCD"); 2 instances kept" ]]
	[ "$(app_pids web)" = "$before" ]
	run -0 "$PMC" describe web
	[ "$(echo "$output" | grep -v -e uptime -e cpu -e memory)" = "$describe_before" ]
	# The spec came across whole: starting the file again changes nothing.
	run -0 "$PMC" start app.yaml
	[[ "$output" == *"web: unchanged"* ]]
	[ "$(app_pids web)" = "$before" ]
	# The channel is the one the instance holds: a message gets through.
	run -0 "$PMC" send web:0 '{"hello":1}'
	run -0 "$PMC" describe web
	[[ "$output" == *"channel: open, 1 sent"* ]]
}

@test "a binary that refuses the state, one that cannot run, or none: pmc update exits 1 saying why and the old pmcd serves on" {
	start_demo 2
	pmcd=$(pmcd_pid)
	exe=$(exe_of "$pmcd")
	before=$(app_pids web)

	# A pmcd of another state version answers --check-state so.
	printf '#!/bin/sh\necho "state version $2; this pmcd reads version 99"\nexit 1\n' > other.sh
	chmod 755 other.sh
	run -1 "$PMC" update --binary other.sh
	[ "$output" = "pmc: update: $BATS_TEST_TMPDIR/other.sh refused: state version 1; this pmcd reads version 99" ]
	cp "$PMCD" notexec
	chmod 644 notexec
	run -1 "$PMC" update --binary notexec
	[ "$output" = "pmc: update: $BATS_TEST_TMPDIR/notexec: Permission denied" ]
	run -1 "$PMC" update --binary nosuch
	[ "$output" = "pmc: update: nosuch: No such file or directory" ]
	# A binary that hangs is given 5 s.
	printf '#!/bin/sh\nexec sleep 60\n' > hang.sh
	chmod 755 hang.sh
	run -1 "$PMC" update --binary hang.sh
	[ "$output" = "pmc: update: $BATS_TEST_TMPDIR/hang.sh --check-state did not answer in 5 s" ]

	[ "$(pmcd_pid)" = "$pmcd" ]
	[ "$(exe_of "$pmcd")" = "$exe" ]
	[ "$(app_pids web)" = "$before" ]
	[ "$(http_get "$port" /pid)" -gt 0 ]
	pmcd_logged "update: $BATS_TEST_TMPDIR/other.sh refused"
	# And a good binary still goes after all that.
	new_binary
	run -0 "$PMC" update --binary "$NEW"
	[ "$(exe_of "$pmcd")" = "$NEW" ]
}

@test "as root, a binary others could write is refused before it runs" {
	[ "$(id -u)" -eq 0 ] || skip "the trust rules of a root pmcd"
	start_demo 1
	pmcd=$(pmcd_pid)
	# Were it run, it would leave a mark: the check shows it never was.
	printf '#!/bin/sh\ntouch %s/ran\nexit 0\n' "$BATS_TEST_TMPDIR" > evil.sh
	chmod 777 evil.sh
	run -1 "$PMC" update --binary evil.sh
	echo "$output"
	[[ "$output" == "pmc: update: $BATS_TEST_TMPDIR/evil.sh: "*"writable by others"* ]] ||
	    [[ "$output" == "pmc: update: $BATS_TEST_TMPDIR/evil.sh: "*"writ"* ]]
	[ ! -e ran ]
	# Owned by another user: refused too.
	chmod 755 evil.sh
	chown nobody evil.sh
	run -1 "$PMC" update --binary evil.sh
	echo "$output"
	[[ "$output" == "pmc: update: $BATS_TEST_TMPDIR/evil.sh: "*"uid"* ]]
	[ ! -e ran ]
	# The same file, root's and not writable by others, is run.
	chown root evil.sh
	run -1 "$PMC" update --binary evil.sh
	[ -e ran ]
	[ "$(pmcd_pid)" = "$pmcd" ]
}

@test "an update while a reload runs is refused, with what to wait for" {
	port=$(free_port)
	cmd="[\"$DEMO\"]" demo_spec app.yaml web 2 "127.0.0.1:$port" \
	    'ready: delay:1500ms'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 15 all_online web 2
	run -0 "$PMC" reload --no-wait web
	run -1 "$PMC" update
	[ "$output" = "pmc: update: web is reloading; pmc update again when it has ended" ]
	# Once it has ended, the same request goes through.
	new_binary
	wait_for 20 "$PMC" update --binary "$NEW"
	[ "$(exe_of "$(pmcd_pid)")" = "$NEW" ]
	all_online web 2
}

@test "pmc events goes on across an update: an update event, then the new pmcd's events" {
	new_binary
	start_demo 2
	"$PMC" events > events.out 2>&1 3>&- &
	ev=$!
	# Subscribed once a kill shows in the stream.
	pid=$(slot_pid web 0)
	tries=0
	until grep -q 'web\[0\] exit' events.out; do
		[ $((tries += 1)) -le 20 ]
		kill -KILL "$pid" 2>/dev/null || true
		wait_for 10 all_online web 2
		pid=$(slot_pid web 0)
		grep -q 'web\[0\] exit' events.out || sleep 0.2
	done
	run -0 "$PMC" update --binary "$NEW"
	wait_for 5 grep -q " update binary=" events.out
	kill -KILL "$(slot_pid web 1)"
	wait_for 10 grep -q 'web\[1\] exit' events.out
	kill -0 "$ev"
	kill "$ev"
	cat events.out
	grep -q " update binary=$NEW pid=$(pmcd_pid) instances=2\$" events.out
}

@test "SIGUSR2 updates as pmc update does: the same pid, the instances kept, said in the log" {
	start_demo 2
	pmcd=$(pmcd_pid)
	before=$(app_pids web)
	kill -USR2 "$pmcd"
	wait_for 10 pmcd_logged "pmcd $pmcd updated: running $(readlink -f "$PMCD"); 1 app, 2 instances kept"
	[ "$(pmcd_pid)" = "$pmcd" ]
	[ "$(app_pids web)" = "$before" ]
	[ "$(http_get "$port" /pid)" -gt 0 ]
}

@test "a backoff under way when pmcd updates ends when it would have, and the instances' output still reaches their log files" {
	port=$(free_port)
	cmd="[\"$DEMO\", \"--notify\", \"--print-every-ms\", \"100\"]" \
	    demo_spec app.yaml web 2 "127.0.0.1:$port" \
	    'backoff: {initial: 3s, min_uptime: 60s}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	kill -KILL "$(slot_pid web 1)"
	wait_for 5 is_backoff
	t0=$(now_ms)
	run -0 "$PMC" update
	[ "$(slot_field web 1 status)" = backoff ]
	# Restarted by the timer the old pmcd set, carried over: without it
	# the slot would wait in backoff for ever.
	wait_for 10 all_online web 2
	waited=$(( $(now_ms) - t0 ))
	echo "online again $waited ms after the update"
	pmcd_logged 'web\[1\]: .*restarting in 3000ms'
	[ "$(slot_field web 1 restarts)" -eq 1 ]
	# Both instances' lines go on into web.out.log after the update.
	pid0=$(slot_pid web 0)
	pid1=$(slot_pid web 1)
	wait_for 5 inst_logged web 0 "tick [0-9]* pid $pid0"
	wait_for 5 inst_logged web 1 "tick [0-9]* pid $pid1"
	n=$(inst_log web 0 | grep -c "pid $pid0")
	wait_for 5 more_ticks "$n" "$pid0"
}

is_backoff() {
	[ "$(slot_field web 1 status)" = backoff ]
}

more_ticks() {
	[ "$(inst_log web 0 | grep -c "pid $2")" -gt "$1" ]
}

@test "a client half-way through its request when pmcd updates is told to try again" {
	start_demo 1
	# Half a header: pmcd holds the connection, waiting for the rest.
	python3 - "$PMC_HOME/pmc.sock" > half.out 3>&- <<-'EOF' &
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	s.sendall(b"\x02\x00")
	s.settimeout(20)
	out = b""
	while True:
	    b = s.recv(4096)
	    if not b:
	        break
	    out += b
	print(out[16:].decode(errors="replace").replace("\0", "|"))
	EOF
	half=$!
	wait_for 5 half_connected
	run -0 "$PMC" update
	wait "$half"
	cat half.out
	grep -q "pmcd is updating itself; try again" half.out
}

half_connected() {
	[ "$(ss -Hx state connected src "$PMC_HOME/pmc.sock" | wc -l)" -ge 1 ]
}

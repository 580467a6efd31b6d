#!/usr/bin/env bats
#
# pmcd under a service manager: it speaks sd_notify on its own
# $NOTIFY_SOCKET (READY=1 once every app it was started with is online,
# RELOADING=1 + MONOTONIC_USEC around SIGHUP and `pmc reload all`,
# STOPPING=1, STATUS= lines, WATCHDOG=1 at half $WATCHDOG_USEC), and it
# serves the listen sockets systemd passes it (LISTEN_FDS), matched to
# apps by LISTEN_FDNAMES, else by address, without binding its own.
#
# The service manager is played by a recorder (a datagram socket that
# writes down what pmcd says) and by systemd-socket-activate.

bats_require_minimum_version 1.5.0
load helper

setup() {
	pmc_setup
	SOCK=$BATS_TEST_TMPDIR/notify.sock
	REC=$BATS_TEST_TMPDIR/notify.rec
	PORT=$(free_port)
}

teardown() {
	[ -z "${REC_PID:-}" ] || kill "$REC_PID" 2>/dev/null
	# systemd-socket-activate that never exec'd pmcd (no pid file then).
	[ -z "${SA_PID:-}" ] || [ -f "$PMC_HOME/pmcd.pid" ] ||
	    kill "$SA_PID" 2>/dev/null
	pmc_teardown
}

# --- the recorder ---------------------------------------------------------

# start_recorder: listen on $SOCK; every datagram goes to $REC as one line,
# newlines shown as '|'.  $REC.from gets "SENDER-PID MONOTONIC-USEC LINE"
# for each; at each READY=1 it runs `pmc list --json` at once and appends
# "slot:pid:status ..." to $REC.ready.
start_recorder() {
	cat > recorder.py <<-'EOF'
	import json, os, socket, struct, subprocess, sys, time
	path, out, pmc = sys.argv[1:4]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
	s.bind(path + ".new")
	os.rename(path + ".new", path)
	def add(name, line):
	    with open(name, "a") as f:
	        f.write(line + "\n")
	while True:
	    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
	    now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
	    pid = 0
	    for lvl, typ, d in anc:
	        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
	            pid = struct.unpack("iII", d[:12])[0]
	    text = data.decode(errors="replace")
	    line = text.replace("\n", "|")
	    add(out + ".from", "%d %d %s" % (pid, now, line))
	    if "READY=1" in text.split("\n"):
	        r = subprocess.run([pmc, "list", "--json"], capture_output=True,
	            text=True, timeout=5)
	        l = sorted(json.loads(r.stdout), key=lambda i: i["instance"])
	        add(out + ".ready", " ".join("%d:%d:%s" % (i["instance"],
	            i["pid"], i["status"]) for i in l))
	    add(out, line)
	EOF
	python3 recorder.py "$SOCK" "$REC" "$PMC" 2> recorder.err 3>&- &
	REC_PID=$!
	wait_for 5 test -S "$SOCK"
}

# start_pmcd [VAR=VALUE...]: pmcd -f app.yaml, notifying the recorder;
# PMCD_PID, its output in pmcd.err.
start_pmcd() {
	env NOTIFY_SOCKET="$SOCK" "$@" "$PMCD" -f app.yaml \
	    > pmcd.err 2>&1 3>&- &
	PMCD_PID=$!
}

# count LINE: how many times pmcd said exactly LINE.
count() {
	[ -f "$REC" ] || { echo 0; return; }
	grep -cxF -- "$1" "$REC" || true
}

# said N LINE: pmcd said LINE at least N times.
said() {
	[ "$(count "$2")" -ge "$1" ]
}

# nth_ready N: the "slot:pid:status ..." seen at the Nth READY=1.
nth_ready() {
	sed -n "$1p" "$REC.ready"
}

show_record() {
	echo "--- recorded:"
	cat "$REC" 2>/dev/null
	echo "--- pmcd:"
	cat pmcd.err 2>/dev/null
}

mono_usec() {
	python3 -c 'import time
print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)'
}

# Two instances; slot 0 is ready after 300 ms, slot 1 after 700 ms, so
# READY=1 has something to wait for.  Extra lines go at the end.
two_slow_instances() {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sh", "-c", "exec \"\$0\" --notify --ready-delay-ms \$((300 + 400 * PMC_INSTANCE))", "$DEMO"]
	    instances: 2
	    listen: 127.0.0.1:$PORT
	    ready: notify
	$(printf '%s\n' "$@")
	EOF
}

READY2='READY=1|STATUS=1 app, 2/2 instances online'

# --- sd_notify --------------------------------------------------------------

@test "READY=1 is sent once, when every instance is online, after STATUS lines that count them" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2" || { show_record; false; }
	show_record
	# Before it: the count going up (slot 0 is online 400 ms before
	# slot 1), and nothing else.
	run sh -c "sed '/^READY=1/,\$d' '$REC'"
	[ "${lines[${#lines[@]} - 1]}" = 'STATUS=1 app, 1/2 instances online' ]
	! printf '%s\n' "${lines[@]}" |
	    grep -vx 'STATUS=1 app, [01]/2 instances online' || false
	[ "$(grep -c READY=1 "$REC")" -eq 1 ]
	# When it came, pmc list agreed.
	run nth_ready 1
	[[ "$output" =~ ^0:[0-9]+:online\ 1:[0-9]+:online$ ]]
	# Every datagram is pmcd's own; the instances notify pmcd, not us.
	[ -z "$(awk -v p="$PMCD_PID" '$1 != p' "$REC.from")" ]
	run http_get "$PORT" /env/NOTIFY_SOCKET
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	[ "$output" != "$SOCK" ]
}

@test "STATUS follows the instances after READY=1, which is not sent again" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	old=$(app_pids web)
	kill -KILL "${old%% *}"
	wait_for 5 said 1 'STATUS=1 app, 1/2 instances online' || { show_record; false; }
	# Back after the restart (the first 2/2 was in the READY=1 datagram).
	wait_for 10 said 1 'STATUS=1 app, 2/2 instances online' ||
	    { show_record; false; }
	show_record
	[ "$(count "$READY2")" -eq 1 ]
	[ -z "$(grep READY=1 "$REC" | sed 1d)" ]
	run all_online web 2
	[ "$status" -eq 0 ]
}

@test "SIGHUP: RELOADING=1 with MONOTONIC_USEC of now, then READY=1 once the reloaded instances are online" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	old=$(app_pids web)
	# A changed spec, so that SIGHUP has instances to replace.
	two_slow_instances "    env: {RELEASE: two}"
	t0=$(mono_usec)
	kill -HUP "$PMCD_PID"
	wait_for 15 said 2 "$READY2" || { show_record; false; }
	show_record
	# After the first READY=1: RELOADING=1 first, then the second READY=1.
	run sh -c "sed '1,/^READY=1/d' '$REC' | grep -n ."
	[[ "${lines[0]}" =~ ^1:RELOADING=1\|MONOTONIC_USEC=[0-9]+$ ]]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c READY=1)" -eq 1 ]
	[[ "${lines[${#lines[@]} - 1]}" = *:"$READY2" ]]
	# MONOTONIC_USEC: CLOCK_MONOTONIC when pmcd began, in microseconds.
	mono=$(sed -n 's/^RELOADING=1|MONOTONIC_USEC=//p' "$REC")
	got=$(awk '$3 ~ /^RELOADING=1/ { print $2 }' "$REC.from")
	echo "before SIGHUP $t0, MONOTONIC_USEC $mono, received $got"
	[ "$mono" -ge "$t0" ]
	[ "$mono" -le "$got" ]
	# The READY=1 came after the reload: new pids, all online.
	ready=$(nth_ready 2)
	echo "at READY=1: $ready (before: $old)"
	[[ "$ready" =~ ^0:[0-9]+:online\ 1:[0-9]+:online$ ]]
	for p in $old; do
		[[ " $ready " != *":$p:"* ]]
	done
	[ "$(http_get "$PORT" /env/RELEASE)" = two ]
}

@test "pmc reload all: RELOADING=1, then READY=1 when the reload ends" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	old=$(app_pids web)
	t0=$(mono_usec)
	run timeout 20 "$PMC" reload all
	[ "$status" -eq 0 ]
	wait_for 5 said 2 "$READY2" || { show_record; false; }
	show_record
	run sh -c "sed '1,/^READY=1/d' '$REC' | grep -E 'READY|RELOADING'"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^RELOADING=1\|MONOTONIC_USEC=[0-9]+$ ]]
	[ "${lines[1]}" = "$READY2" ]
	[ "${lines[0]#*MONOTONIC_USEC=}" -ge "$t0" ]
	ready=$(nth_ready 2)
	echo "at READY=1: $ready (before: $old)"
	[[ "$ready" =~ ^0:[0-9]+:online\ 1:[0-9]+:online$ ]]
	for p in $old; do
		[[ " $ready " != *":$p:"* ]]
	done
}

@test "SIGTERM: STOPPING=1, every instance stopped, exit status 0" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	pids=$(app_pids web)
	kill -TERM "$PMCD_PID"
	wait_for 15 not_alive "$PMCD_PID"
	rc=0
	wait "$PMCD_PID" || rc=$?
	show_record
	echo "pmcd exited $rc"
	[ "$rc" -eq 0 ]
	wait_for 5 said 1 STOPPING=1
	# Nothing after STOPPING=1 says ready or reloading.
	! sed '1,/^STOPPING=1$/d' "$REC" | grep -E 'READY|RELOADING' || false
	for p in $pids; do
		not_alive "$p"
	done
	grep -q 'SIGTERM' pmcd.err
}

@test "pmc kill: STOPPING=1" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	run timeout 20 "$PMC" kill
	[ "$status" -eq 0 ]
	wait_for 5 said 1 STOPPING=1 || { show_record; false; }
	wait_for 15 not_alive "$PMCD_PID"
	rc=0
	wait "$PMCD_PID" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "WATCHDOG_USEC=400000: WATCHDOG=1 every 200 ms" {
	start_recorder
	two_slow_instances
	t0=$(mono_usec)
	start_pmcd WATCHDOG_USEC=400000
	wait_for 5 said 6 WATCHDOG=1 || { show_record; false; }
	# The third within 1.5 s of starting pmcd.
	run awk '$3 == "WATCHDOG=1" { t[n++] = $2 } END { print t[2] }' \
	    "$REC.from"
	echo "third ping $(( (output - t0) / 1000 )) ms after start"
	[ $(( output - t0 )) -le 1500000 ]
	# Paced, not a burst: 5 intervals take about 1 s.
	run awk '$3 == "WATCHDOG=1" { t[n++] = $2 }
	    END { print t[5] - t[0] }' "$REC.from"
	echo "5 intervals: $output us"
	[ "$output" -ge 750000 ]
	[ "$output" -le 2500000 ]
}

@test "WATCHDOG_PID of another process: no WATCHDOG=1; pmcd's own pid: pings" {
	start_recorder
	two_slow_instances
	start_pmcd WATCHDOG_USEC=200000 WATCHDOG_PID=$$
	wait_for 10 said 1 "$READY2"
	# 100 ms pings would have come by now; keep looking for a second.
	run ! wait_for 1 said 1 WATCHDOG=1
	[ "$(count WATCHDOG=1)" -eq 0 ]
	kill -TERM "$PMCD_PID"
	wait_for 15 not_alive "$PMCD_PID"
	wait "$PMCD_PID"

	rm -f "$REC"
	NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=200000 sh -c \
	    'export WATCHDOG_PID=$$; exec "$0" -f app.yaml' "$PMCD" \
	    > pmcd.err 2>&1 3>&- &
	PMCD_PID=$!
	wait_for 2 said 3 WATCHDOG=1 || { show_record; false; }
}

# --- socket activation ------------------------------------------------------

need_socket_activate() {
	command -v systemd-socket-activate >/dev/null 2>&1 ||
	    skip "systemd-socket-activate not installed (package systemd)"
}

# activate ARGS...: systemd-socket-activate ARGS... pmcd -f app.yaml in
# the background; it execs pmcd at the first connection, in place (same
# pid), with only PMC_HOME of our environment.
activate() {
	systemd-socket-activate "$@" -E PMC_HOME "$PMCD" -f app.yaml \
	    > sa.out 2> sa.err 3>&- &
	SA_PID=$!
	wait_for 5 sa_listening
}

sa_listening() {
	grep -q '^Listening on' sa.err
}

# one_app NAME LISTEN: a spec of two demo-httpd instances.
one_app() {
	write_spec app.yaml <<-EOF
	apps:
	  - name: $1
	    command: ["$DEMO"]
	    instances: 2
	    listen: $2
	    ready: delay:200ms
	EOF
}

# listeners PORT: ss lines of the listening TCP sockets on PORT.
listeners() {
	ss -Hltnpe "( sport = :$1 )"
}

# The pids that hold the socket listening on PORT, sorted, one a line.
holders() {
	listeners "$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un
}

# served_by APP PORT: a request on PORT is answered by an instance of APP.
served_by() {
	local body
	body=$(http_get "$2") || return 1
	echo "$body"
	[[ "$body" =~ ^hello\ from\ pid\ [0-9]+\ instance\ [0-9]\ app\ $1$ ]]
}

# replaced APP OLD-PIDS: every instance of APP is online, none of OLD-PIDS.
replaced() {
	local p now
	all_online "$1" 2 || return 1
	now=" $(app_pids "$1") "
	for p in $2; do
		[[ "$now" != *" $p "* ]] || return 1
	done
}

# The first request starts pmcd, and is answered by an instance.
first_request() {
	local body
	body=$(curl -sS --max-time 10 "http://127.0.0.1:$1/") || return 1
	echo "first answer: $body"
	[[ "$body" =~ ^hello\ from\ pid\ [0-9]+\ instance\ [0-9]\ app\ $2$ ]]
}

# Exactly one socket listens on PORT, held by pmcd (SA_PID: the same
# process once exec'd) and by the instances of APP, nobody else.
only_adopted_socket() {
	local port=$1 app=$2 want got
	listeners "$port"
	[ "$(listeners "$port" | grep -o 'ino:[0-9]*' | sort -u | wc -l)" -eq 1 ]
	want=$({ echo "$SA_PID"; app_pids "$app" | tr ' ' '\n'; } | sort -un)
	got=$(holders "$port")
	echo "holders: $(tr '\n' ' ' <<< "$got"); want: $(tr '\n' ' ' <<< "$want")"
	[ "$got" = "$want" ]
}

@test "socket activation: the first connection starts pmcd, whose instances serve the adopted socket" {
	need_socket_activate
	one_app web "127.0.0.1:$PORT"
	activate -l "127.0.0.1:$PORT" --fdname=web
	first_request "$PORT" web
	wait_for 10 all_online web 2
	[ "$(cat "$PMC_HOME/pmcd.pid")" = "$SA_PID" ]
	grep "adopted socket 127.0.0.1:$PORT (web)" sa.err
	only_adopted_socket "$PORT" web
	# pmcd listens on nothing else.
	[ "$(ss -Hltnp | grep -c "pid=$SA_PID,")" -eq 1 ]
	run http_get "$PORT" /env/LISTEN_FDNAMES
	[ "$output" = web ]
	run http_get "$PORT" /env/LISTEN_FDS
	[ "$output" = 1 ]
	for _ in 1 2 3 4; do
		served_by web "$PORT"
	done
	kill -TERM "$SA_PID"
	rc=0
	wait "$SA_PID" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "socket activation: matched by LISTEN_FDNAMES when the spec's address differs" {
	need_socket_activate
	other=$(free_port)
	while [ "$other" = "$PORT" ]; do other=$(free_port); done
	one_app web "127.0.0.1:$other"
	activate -l "127.0.0.1:$PORT" --fdname=web
	first_request "$PORT" web
	wait_for 10 all_online web 2
	grep "adopted socket 127.0.0.1:$PORT (web)" sa.err
	only_adopted_socket "$PORT" web
	# The spec's own address was not bound.
	[ -z "$(listeners "$other")" ]
}

@test "socket activation: matched by address when the name differs, whatever the spelling" {
	need_socket_activate
	one_app web "localhost:$PORT"
	activate -l "127.0.0.1:$PORT" --fdname=frontend
	first_request "$PORT" web
	wait_for 10 all_online web 2
	grep "adopted socket 127.0.0.1:$PORT (frontend)" sa.err
	only_adopted_socket "$PORT" web
}

@test "socket activation: two sockets go to their apps by name, not by order" {
	need_socket_activate
	p2=$(free_port)
	while [ "$p2" = "$PORT" ]; do p2=$(free_port); done
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$p2
	    ready: delay:200ms
	  - name: api
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$PORT
	    ready: delay:200ms
	EOF
	activate -l "127.0.0.1:$PORT" -l "127.0.0.1:$p2" --fdname=api:web
	first_request "$PORT" api
	wait_for 10 all_online web 1
	wait_for 10 all_online api 1
	grep "adopted socket 127.0.0.1:$PORT (api)" sa.err
	grep "adopted socket 127.0.0.1:$p2 (web)" sa.err
	served_by web "$p2"
	served_by api "$PORT"
	only_adopted_socket "$PORT" api
	only_adopted_socket "$p2" web
}

@test "socket activation: the adopted socket outlives a reload and a delete" {
	need_socket_activate
	one_app web "127.0.0.1:$PORT"
	activate -l "127.0.0.1:$PORT" --fdname=web
	first_request "$PORT" web
	wait_for 10 all_online web 2
	ino=$(listeners "$PORT" | grep -o 'ino:[0-9]*')
	old=$(app_pids web)
	sed -i 's/delay:200ms/delay:300ms/' app.yaml
	kill -HUP "$SA_PID"
	wait_for 10 replaced web "$old"
	only_adopted_socket "$PORT" web
	[ "$(listeners "$PORT" | grep -o 'ino:[0-9]*')" = "$ino" ]
	served_by web "$PORT"

	run timeout 20 "$PMC" delete web
	[ "$status" -eq 0 ]
	# pmcd keeps it: connections wait in the backlog, none is refused.
	[ "$(holders "$PORT")" = "$SA_PID" ]
	run timeout 20 "$PMC" start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 2
	only_adopted_socket "$PORT" web
	[ "$(listeners "$PORT" | grep -o 'ino:[0-9]*')" = "$ino" ]
	served_by web "$PORT"
}

@test "pmc update: RELOADING=1, then READY=1 from the same pid, which still runs: the unit is not restarted" {
	start_recorder
	two_slow_instances
	start_pmcd
	wait_for 10 said 1 "$READY2"
	old=$(app_pids web)
	cp "$PMCD" pmcd-new
	run -0 "$PMC" update --binary "$BATS_TEST_TMPDIR/pmcd-new"
	wait_for 10 said 2 "$READY2" || { show_record; false; }
	show_record
	run sh -c "sed '1,/^READY=1/d' '$REC' | grep -n ."
	[[ "${lines[0]}" =~ ^1:RELOADING=1\|MONOTONIC_USEC=[0-9]+$ ]]
	# Every datagram came from pmcd's one pid, before and after.
	[ -z "$(awk -v p="$PMCD_PID" '$1 != p' "$REC.from")" ]
	kill -0 "$PMCD_PID"
	[ "$(readlink "/proc/$PMCD_PID/exe")" = "$BATS_TEST_TMPDIR/pmcd-new" ]
	[ "$(app_pids web)" = "$old" ]
	[ "$(nth_ready 2)" = "$(nth_ready 1)" ]
}

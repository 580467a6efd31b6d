#!/usr/bin/env bats
# stop.bats -- `pmc stop` and `pmc delete`: every process of an instance
# goes (its process group, grandchildren included), with the app's
# stop_signal and then SIGKILL after kill_timeout; a stopped app keeps its
# listen socket, a deleted one frees it.

bats_require_minimum_version 1.5.0
load helper

# running PID: the opposite, to check a pid before expecting it gone.
running() {
	! gone "$1"
}

# can_connect PORT: a TCP connect to 127.0.0.1:PORT succeeds.
can_connect() {
	python3 - "$1" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
	s.close()
	EOF
}

# start_ok FILE...: pmc start succeeds (pmcd detaches without fd 3).
start_ok() {
	run "$PMC" start "$@" 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "pmc stop stops every instance; connections wait in the backlog until pmc start" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	start_ok app.yaml
	all_online web 2
	old=$(app_pids web)
	[ "$(echo "$old" | wc -w)" -eq 2 ]
	run -0 http_get "$port" /
	[[ "$output" == "hello from pid "* ]]

	run -0 "$PMC" stop web
	[ "$output" = "web: stopped" ]
	# shellcheck disable=SC2086
	all_gone $old
	[ "$(app_statuses web)" = "stopped stopped" ]
	[ -z "$(app_pids web)" ]

	# pmcd still holds the socket: a client gets in and waits.
	can_connect "$port"
	python3 - "$port" > backlog.out 3>&- <<-'EOF' &
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
	print("connected", flush=True)
	s.settimeout(15)
	s.sendall(b"GET / HTTP/1.0\r\n\r\n")
	data = b""
	while True:
	    b = s.recv(4096)
	    if not b:
	        break
	    data += b
	print(data.decode().split("\r\n\r\n", 1)[-1], end="")
	EOF
	client=$!
	wait_for 5 grep -q '^connected$' backlog.out

	start_ok app.yaml
	all_online web 2
	new=$(app_pids web)
	[ "$(echo "$new" | wc -w)" -eq 2 ]
	for p in $new; do
		[[ " $old " != *" $p "* ]]
	done
	wait "$client"
	cat backlog.out
	grep -q '^hello from pid [0-9]* instance [01] app web$' backlog.out
}

@test "pmc stop kills the grandchildren of every instance" {
	port=$(free_port)
	cmd="[\"$DEMO\", \"--notify\", \"--spawn-child\"]" \
	    demo_spec app.yaml web 2 "127.0.0.1:$port"
	start_ok app.yaml
	all_online web 2
	pids=$(app_pids web)
	kids=$(child_pids web 2)
	[ "$(echo "$kids" | wc -w)" -eq 2 ]
	for p in $kids; do
		running "$p"
		[[ " $pids " != *" $p "* ]]
	done

	run -0 "$PMC" stop web
	# shellcheck disable=SC2086
	all_gone $pids $kids
	[ "$(app_statuses web)" = "stopped stopped" ]
}

@test "pmc stop of a 'sh -c \"server & wait\"' command ends the shell and the server" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: wrapped
	    command: ["sh", "-c", "$DEMO --port $port & wait"]
	EOF
	start_ok app.yaml
	all_online wrapped 1
	shpid=$(app_pids wrapped)
	run -0 http_get "$port" /pid
	server=$output
	[ -n "$shpid" ]
	[ -n "$server" ]
	[ "$server" != "$shpid" ]
	# The server is the shell's child, not pmcd's.
	[ "$(awk '{print $4}' "/proc/$server/stat")" = "$shpid" ]

	run -0 "$PMC" stop wrapped
	all_gone "$shpid" "$server"
	[ "$(app_statuses wrapped)" = "stopped" ]
	run ! can_connect "$port"
}

@test "a process of the group still shutting down when the leader exits gets kill_timeout" {
	# The shell dies of TERM at once; its worker takes 500 ms to finish.
	write_spec app.yaml <<-'EOF'
	apps:
	  - name: drain
	    command: ["sh", "-c", "(trap 'sleep 0.5; echo drained; exit 0' TERM; while :; do sleep 0.1; done) & echo worker $!; wait"]
	    kill_timeout: 5s
	EOF
	start_ok app.yaml
	all_online drain 1
	shpid=$(app_pids drain)
	wait_for 5 inst_logged drain 0 '^worker '
	worker=$(inst_log drain 0 | sed -n 's/^worker //p')
	running "$worker"

	run -0 "$PMC" stop drain
	all_gone "$shpid" "$worker"
	# Not SIGKILLed with the leader: it finished within kill_timeout.
	wait_for 5 inst_logged drain 0 '^drained$'
	[ "$(app_statuses drain)" = "stopped" ]
}

@test "an instance that ignores TERM is killed after kill_timeout" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: stubborn
	    command: ["$DEMO", "--ignore-term"]
	    listen: 127.0.0.1:$port
	    kill_timeout: 500ms
	EOF
	start_ok app.yaml
	all_online stubborn 1
	pid=$(app_pids stubborn)
	[ -n "$pid" ]

	t0=$(date +%s%N)
	run -0 "$PMC" stop stubborn
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "stop took ${ms}ms"
	gone "$pid"
	[ "$(app_statuses stubborn)" = "stopped" ]
	# Not before the timeout; and after its 500 ms, not the 5 s default.
	[ "$ms" -ge 450 ]
	grep -q 'stubborn\[0\]: still running 500ms after TERM, sending KILL' \
	    "$PMC_HOME/pmcd.log"
}

@test "stop_signal: INT is the signal the instance gets" {
	write_spec app.yaml <<-'EOF'
	apps:
	  - name: sig
	    command: ["sh", "-c", "trap 'echo got INT; exit 0' INT; trap 'echo got TERM; exit 0' TERM; echo trapping; while :; do sleep 0.1; done"]
	    stop_signal: INT
	    kill_timeout: 3s
	EOF
	start_ok app.yaml
	all_online sig 1
	pid=$(app_pids sig)
	wait_for 5 inst_logged sig 0 '^trapping$'

	run -0 "$PMC" stop sig
	gone "$pid"
	cat "$PMC_HOME/logs/sig.out.log"
	inst_logged sig 0 '^got INT$'
	run ! inst_logged sig 0 'got TERM'
	[ -z "$(grep 'sig\[0\]' "$PMC_HOME/pmcd.log" | grep KILL)" ]
}

@test "pmc delete removes the app from the list and frees its port" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	start_ok app.yaml
	all_online web 2
	pids=$(app_pids web)
	run ! can_bind "$port"

	run -0 "$PMC" delete web
	[ "$output" = "web: deleted" ]
	# shellcheck disable=SC2086
	all_gone $pids
	run -0 "$PMC" list --json
	[ "$(echo "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 0 ]
	can_bind "$port"
	run -1 --separate-stderr "$PMC" describe web
	[ "$stderr" = "pmc: web: no such app" ]
}

@test "pmc stop all stops every app" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    instances: 2
	    listen: 127.0.0.1:$port
	  - name: worker
	    command: ["sleep", "1000"]
	EOF
	start_ok app.yaml
	all_online web 2
	all_online worker 1
	pids="$(app_pids web) $(app_pids worker)"
	[ "$(echo "$pids" | wc -w)" -eq 3 ]

	run -0 "$PMC" stop all
	# shellcheck disable=SC2086
	all_gone $pids
	[ "$(app_statuses web)" = "stopped stopped" ]
	[ "$(app_statuses worker)" = "stopped" ]
	run -0 "$PMC" ping
}

@test "pmc stop of an unknown app exits 1 and says so" {
	port=$(free_port)
	demo_spec app.yaml web 1 "127.0.0.1:$port"
	start_ok app.yaml
	all_online web 1
	pid=$(app_pids web)

	run -1 --separate-stderr "$PMC" stop nope
	[ "$stderr" = "pmc: nope: no such app" ]
	[ -z "$output" ]
	# The running app is left alone.
	[ "$(app_pids web)" = "$pid" ]
	all_online web 1
}

@test "pmc stop of several names stops the known ones and exits 1 for the unknown" {
	p1=$(free_port)
	p2=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: a
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$p1
	  - name: b
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$p2
	EOF
	start_ok app.yaml
	all_online a 1
	all_online b 1
	pids="$(app_pids a) $(app_pids b)"

	run -1 --separate-stderr "$PMC" stop a nope b
	echo "stdout: $output"
	echo "stderr: $stderr"
	[[ "$stderr" == *"pmc: nope: no such app"* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ "$output" == *"a: stopped"* ]]
	[[ "$output" == *"b: stopped"* ]]
	# shellcheck disable=SC2086
	all_gone $pids
	[ "$(app_statuses a)" = "stopped" ]
	[ "$(app_statuses b)" = "stopped" ]
}

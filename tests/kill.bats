#!/usr/bin/env bats
# kill.bats -- the end of pmcd: `pmc kill`, SIGTERM and SIGINT stop every
# app gracefully and leave no process behind; `pmc ping`; one pmcd per
# PMC_HOME.

bats_require_minimum_version 1.5.0
load helper

# all_running PID...: the opposite, to check pids before expecting them gone.
all_running() {
	local p
	for p in "$@"; do
		! gone "$p" || { echo "pid $p does not run" >&2; return 1; }
	done
}

# A spec with a demo-httpd app "web" (2 instances, each with a child) on
# $port and an app "sig" that logs the signal it gets and then exits 0.
write_apps() {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--notify", "--spawn-child"]
	    instances: 2
	    listen: 127.0.0.1:$port
	  - name: sig
	    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; trap 'echo got INT; exit 0' INT; echo trapping; while :; do sleep 0.1; done"]
	    kill_timeout: 3s
	EOF
}

# The pids of every instance of web and sig, and of web's children.
record_pids() {
	wait_for 10 all_online web 2
	wait_for 10 all_online sig 1
	wait_for 5 inst_logged sig 0 '^trapping$'
	pids="$(app_pids web) $(app_pids sig)"
	kids=$(child_pids web 2)
	[ "$(echo $pids $kids | wc -w)" -eq 5 ]
	# shellcheck disable=SC2086
	all_running $pids $kids
}

# pmcd_by_signal SIG: run `pmcd -f`, send it SIG; it stops every app
# with its stop_signal (TERM), not KILL, and exits 0.
pmcd_by_signal() {
	local pmcd st=0
	write_apps
	"$PMCD" -f app.yaml > pmcd.out 2>&1 3>&- &
	pmcd=$!
	wait_for 10 "$PMC" ping
	[ "$(cat "$PMC_HOME/pmcd.pid")" = "$pmcd" ]
	record_pids

	kill -"$1" "$pmcd"
	wait_for 15 gone "$pmcd"
	wait "$pmcd" || st=$?
	cat pmcd.out
	[ "$st" -eq 0 ]
	# shellcheck disable=SC2086
	all_gone $pids $kids
	inst_logged sig 0 '^got TERM$'
	run ! inst_logged sig 0 'got INT'
	run ! grep -q KILL pmcd.out
	[ ! -e "$PMC_HOME/pmc.sock" ]
	can_bind "$port"
}

@test "pmc kill leaves no process behind" {
	write_apps
	p2=$(free_port)
	cat >> app.yaml <<-EOF
	  - name: wrapped
	    command: ["sh", "-c", "$DEMO --port $p2 & wait"]
	EOF
	run -0 "$PMC" start app.yaml 3>&-
	pmcd=$(cat "$PMC_HOME/pmcd.pid")
	record_pids
	all_online wrapped 1
	shpid=$(app_pids wrapped)
	server=$(http_get "$p2" /pid)
	all_running "$pmcd" "$shpid" "$server"

	run -0 "$PMC" kill
	# Nothing left the moment pmc kill returns.
	# shellcheck disable=SC2086
	all_gone "$pmcd" $pids $kids "$shpid" "$server"
	[ ! -e "$PMC_HOME/pmc.sock" ]
	can_bind "$port"
	can_bind "$p2"
	# The apps were stopped, not killed.
	inst_logged sig 0 '^got TERM$'
	run -1 --separate-stderr "$PMC" ping
	[ "$stderr" = "pmc: pmcd is not running (no $PMC_HOME/pmc.sock)" ]
}

@test "SIGTERM to pmcd stops every app gracefully and pmcd exits 0" {
	pmcd_by_signal TERM
}

@test "SIGINT to pmcd stops every app gracefully and pmcd exits 0" {
	pmcd_by_signal INT
}

@test "pmc ping answers pong while pmcd runs, and fails when none does" {
	run -1 --separate-stderr "$PMC" ping
	[[ "$stderr" == "pmc: pmcd is not running"* ]]
	[ -z "$output" ]

	write_spec app.yaml <<-EOF
	apps:
	  - name: w
	    command: ["sleep", "100"]
	EOF
	run -0 "$PMC" start app.yaml 3>&-
	run -0 --separate-stderr "$PMC" ping
	[ "$output" = "pong" ]
	[ -z "$stderr" ]
}

@test "a second pmcd for the same PMC_HOME refuses: already running" {
	port=$(free_port)
	demo_spec app.yaml web 1 "127.0.0.1:$port"
	run -0 "$PMC" start app.yaml 3>&-
	all_online web 1
	pmcd=$(cat "$PMC_HOME/pmcd.pid")
	pid=$(app_pids web)

	run -1 --separate-stderr timeout 10 "$PMCD" -f 3>&-
	echo "$stderr"
	[[ "$stderr" == *"already running"* ]]
	[[ "$stderr" == *"$pmcd"* ]]
	run -1 --separate-stderr timeout 10 "$PMCD" -f app.yaml 3>&-
	[[ "$stderr" == *"already running"* ]]
	# Detaching or not.
	run -1 --separate-stderr timeout 10 "$PMCD" 3>&-
	[[ "$stderr" == *"already running"* ]]

	# The first one is untouched: same pid, socket, app.
	[ "$(cat "$PMC_HOME/pmcd.pid")" = "$pmcd" ]
	run -0 "$PMC" ping
	[ "$output" = pong ]
	[ "$(app_pids web)" = "$pid" ]
	run -0 http_get "$port" /pid
	[ "$output" = "$pid" ]
}

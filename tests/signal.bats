#!/usr/bin/env bats
#
# pmc signal SIG NAME...|all: the signal reaches every instance's whole
# process group; a bad signal is a usage error.

bats_require_minimum_version 1.5.0
load helper

# trap_spec INSTANCES: app.yaml with app sig, a shell that logs each
# SIGUSR1 it gets; "up" is logged once the trap is set.
trap_spec() {
	write_spec app.yaml <<-EOF
	apps:
	  - name: sig
	    command: ["sh", "-c", "trap 'echo got USR1 \$\$' USR1; echo up; while :; do sleep 0.1; done"]
	    instances: $1
	    ready: delay:100ms
	EOF
}

# logged APP INSTANCES TEXT: each instance's stdout lines hold TEXT.
logged() {
	local i
	for ((i = 0; i < $2; i++)); do
		inst_logged "$1" "$i" "$3" || return 1
	done
}

# count_in APP I TEXT: how many stdout lines of instance I hold TEXT.
count_in() {
	inst_log "$1" "$2" 2>/dev/null | grep -c "$3" || true
}

# count_is APP I TEXT N: N stdout lines of instance I hold TEXT.
count_is() {
	[ "$(count_in "$1" "$2" "$3")" -eq "$4" ]
}

@test "pmc signal USR1 NAME reaches every instance" {
	trap_spec 3
	run -0 "$PMC" start app.yaml
	all_online sig 3
	wait_for 5 logged sig 3 up
	pids=$(app_pids sig)

	run -0 "$PMC" signal USR1 sig
	[[ "$output" == *"sig: sent USR1 to 3 instances"* ]]
	wait_for 5 logged sig 3 "got USR1"
	# Each got it once, in its own log, and kept running.
	for i in 0 1 2; do
		pid=$(echo "$pids" | cut -d' ' -f$((i + 1)))
		[ "$(count_in sig "$i" "got USR1 $pid")" -eq 1 ]
	done
	[ "$(app_pids sig)" = "$pids" ]
	all_online sig 3
}

@test "the signal reaches every process of an instance's group" {
	write_spec app.yaml <<-'EOF'
	apps:
	  - name: sig
	    command: ["sh", "-c", "sh -c 'trap \"echo child got USR1\" USR1; echo child up; while :; do sleep 0.1; done' & trap 'echo leader got USR1' USR1; echo leader up; while :; do sleep 0.1; done"]
	    ready: delay:100ms
	EOF
	run -0 "$PMC" start app.yaml
	wait_for 5 logged sig 1 "child up"
	wait_for 5 logged sig 1 "leader up"

	run -0 "$PMC" signal USR1 sig
	wait_for 5 logged sig 1 "leader got USR1"
	wait_for 5 logged sig 1 "child got USR1"
}

@test "signal names: USR1, SIGUSR1, usr1 and numbers; all names every app" {
	trap_spec 1
	write_spec other.yaml <<-EOF
	apps:
	  - name: other
	    command: ["sh", "-c", "trap 'echo got USR1' USR1; echo up; while :; do sleep 0.1; done"]
	    ready: delay:100ms
	EOF
	run -0 "$PMC" start app.yaml other.yaml
	wait_for 5 logged sig 1 up
	wait_for 5 logged other 1 up

	n=0
	for s in USR1 SIGUSR1 usr1 "$(kill -l USR1)"; do
		run -0 "$PMC" signal "$s" sig
		n=$((n + 1))
		wait_for 5 count_is sig 0 "got USR1" "$n"
	done

	run -0 "$PMC" signal USR1 all
	[[ "$output" == *"sig: sent USR1 to 1 instance"* ]]
	[[ "$output" == *"other: sent USR1 to 1 instance"* ]]
	wait_for 5 logged other 1 "got USR1"
	wait_for 5 count_is sig 0 "got USR1" $((n + 1))
}

@test "an unknown signal exits 2; an unknown app exits 1" {
	trap_spec 1
	run -0 "$PMC" start app.yaml
	pids=$(app_pids sig)

	for s in BOGUS SIGBOGUS 0 99999 ""; do
		run -2 --separate-stderr "$PMC" signal "$s" sig
		[[ "$stderr" == *"pmc: signal: unknown signal \"$s\""* ]] ||
		    { echo "signal '$s': $stderr"; return 1; }
	done
	run -1 --separate-stderr "$PMC" signal USR1 nosuch
	[[ "$stderr" == *"pmc: nosuch: no such app"* ]]
	run -2 --separate-stderr "$PMC" signal USR1
	[[ "$stderr" == *"usage: pmc signal"* ]]
	[ "$(app_pids sig)" = "$pids" ]
	run -1 inst_logged sig 0 "got USR1"
}

@test "signal TERM ends the instances, which are restarted as after a crash" {
	start_web
	old=$web_pids

	run -0 "$PMC" signal TERM web
	for pid in $old; do wait_for 5 not_alive "$pid"; done
	wait_for 10 all_online web 2
	for pid in $(app_pids web); do
		[[ " $old " != *" $pid "* ]]
	done
	http_get "$port" /pid
}

#!/usr/bin/env bats
#
# Keeping instances alive: restarts after a crash in the same slot
# without refusing a connection, doubling backoff, max_restarts, the
# restart policies, and `pmc restart`.

load helper

bats_require_minimum_version 1.5.0

# backoff_delays APP SLOT: the "restarting in Nms" delays pmcd logged for
# one slot, in order, as "N N ...".
backoff_delays() {
	sed -n "s/.* $1\[$2\]: .*, restarting in \([0-9]*\)ms\$/\1/p" \
	    "$PMC_HOME/pmcd.log" | tr '\n' ' ' | sed 's/ $//'
}

# logged_restarts APP SLOT N: true once pmcd logged N restarts of a slot.
logged_restarts() {
	[ "$(backoff_delays "$1" "$2" | wc -w)" -ge "$3" ]
}

# is_status APP STATUSES: app_statuses is exactly STATUSES.
is_status() {
	[ "$(app_statuses "$1")" = "$2" ]
}

# up_for APP SLOT MS: true once that instance has run for MS.
up_for() {
	[ "$(slot_field "$1" "$2" uptime_ms)" -ge "$3" ]
}

@test "an instance killed with SIGKILL comes back in its slot, no request fails" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" \
	    'backoff: {initial: 300ms}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old0=$(slot_pid web 0)
	old1=$(slot_pid web 1)
	client_loop "$port"
	wait_for 5 served_more 5
	# Kill both between two of the loop's requests: one in the middle
	# of an answer would be lost whatever pmcd does.
	hold_client_loop
	kill -KILL "$old0" "$old1"
	release_client_loop
	# No instance is alive now: this waits in the backlog.
	answer=$(http_get "$port" /pid)
	[ "$answer" != "$old0" ] && [ "$answer" != "$old1" ]
	wait_for 10 all_online web 2
	new0=$(slot_pid web 0)
	new1=$(slot_pid web 1)
	[ "$new0" != "$old0" ] && [ "$new1" != "$old1" ]
	[[ " $new0 $new1 " == *" $answer "* ]]
	[ "$(env_of "$new0" PMC_INSTANCE)" = 0 ]
	[ "$(env_of "$new1" PMC_INSTANCE)" = 1 ]
	[ "$(slot_field web 0 restarts)" -eq 1 ]
	[ "$(slot_field web 1 restarts)" -eq 1 ]
	n=$(grep -c . "$loop/ok")
	wait_for 10 served_more $((n + 5))
	stop_client_loop
	echo "failures: $(cat "$loop/fail")"
	[ ! -s "$loop/fail" ]
	grep -qx -e "$new0" -e "$new1" "$loop/ok"
}

@test "a crash loop is restarted with doubling delays" {
	port=$(free_port)
	cmd="[\"$DEMO\", \"--crash-after-ms\", \"0\"]" \
	    demo_spec app.yaml crash 1 "127.0.0.1:$port" \
	    'backoff: {initial: 100ms, max: 30s}'
	t0=$(now_ms)
	pmc_start app.yaml
	wait_for 10 logged_restarts crash 0 5
	elapsed=$(( $(now_ms) - t0 ))
	delays=$(backoff_delays crash 0)
	echo "delays: $delays; 5 restarts took ${elapsed}ms"
	[[ "$delays" == "100 200 400 800 1600"* ]]
	# With a fixed 100ms delay, 5 restarts would take about 500ms.
	[ "$elapsed" -ge 1500 ]
	restarts=$(slot_field crash 0 restarts)
	[ "$restarts" -ge 5 ] && [ "$restarts" -le 6 ]
	grep -q "crash\[0\]: exited with status 3, restarting in 100ms" \
	    "$PMC_HOME/pmcd.log"
}

@test "after max_restarts restarts in a row the instance is errored" {
	port=$(free_port)
	cmd="[\"$DEMO\", \"--crash-after-ms\", \"0\"]" \
	    demo_spec app.yaml crash 1 "127.0.0.1:$port" \
	    'backoff: {initial: 50ms}' 'max_restarts: 3'
	pmc_start app.yaml
	wait_for 10 is_status crash errored
	[ "$(slot_field crash 0 restarts)" -eq 3 ]
	[ "$(slot_field crash 0 pid)" -eq 0 ]
	[ "$(backoff_delays crash 0)" = "50 100 200" ]
	run -0 "$PMC" describe crash
	[[ "$output" == *"crash[0]: errored"*"max_restarts"* ]]
	# Given up for good: no restart comes later.
	sleep 0.5	# time for a restart that must not happen
	is_status crash errored
	[ "$(slot_field crash 0 restarts)" -eq 3 ]
}

@test "restart: never leaves a clean exit stopped and a failure errored" {
	a=$(free_port)
	b=$(free_port)
	cat > app.yaml <<-EOF
	apps:
	  - name: clean
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$a
	    restart: never
	    backoff: {initial: 50ms}
	  - name: failing
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$b
	    restart: never
	    backoff: {initial: 50ms}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	http_get "$a" /exit/0
	http_get "$b" /exit/1
	wait_for 5 is_status clean stopped
	wait_for 5 is_status failing errored
	sleep 0.5	# ten backoff delays: time for a restart that must not happen
	is_status clean stopped
	is_status failing errored
	[ "$(slot_field clean 0 restarts)" -eq 0 ]
	[ "$(slot_field failing 0 restarts)" -eq 0 ]
	[ -z "$(app_pids clean)" ] && [ -z "$(app_pids failing)" ]
	run -0 "$PMC" describe failing
	[[ "$output" == *"exited with status 1"* ]]
}

@test "restart: on-failure restarts after status 3, not after status 0" {
	port=$(free_port)
	# min_uptime long: on a slow machine (asan) the instance may live
	# past the default 1 s before it is told to exit, and a long-lived
	# exit restarts at once, without the delay this test counts.
	demo_spec app.yaml web 1 "127.0.0.1:$port" 'restart: on-failure' \
	    'backoff: {initial: 50ms, min_uptime: 60s}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	first=$(app_pids web)
	http_get "$port" /exit/3
	wait_for 5 logged_restarts web 0 1
	# The next request waits in the backlog for the new instance.
	second=$(http_get "$port" /pid)
	[ -n "$second" ] && [ "$second" != "$first" ]
	wait_for 5 all_online web 1
	[ "$(app_pids web)" = "$second" ]
	[ "$(slot_field web 0 restarts)" -eq 1 ]
	http_get "$port" /exit/0
	wait_for 5 is_status web stopped
	sleep 0.5	# ten backoff delays: time for a restart that must not happen
	is_status web stopped
	[ "$(slot_field web 0 restarts)" -eq 1 ]
	[ -z "$(app_pids web)" ]
}

@test "backoff.min_uptime: an exit after that long restarts at once and the delay starts over" {
	port=$(free_port)
	demo_spec app.yaml web 1 "127.0.0.1:$port" \
	    'backoff: {initial: 100ms, max: 10s, min_uptime: 1500ms}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	# Three quick crashes in a row: each new instance gets the next
	# request (waiting in the backlog) as soon as it runs.
	for n in 1 2 3; do
		http_get "$port" /exit/3
		wait_for 5 logged_restarts web 0 "$n"
	done
	[ "$(backoff_delays web 0)" = "100 200 400" ]
	# Up for min_uptime, then crash: no delay, and the row is over.
	wait_for 5 all_online web 1
	wait_for 5 up_for web 0 1600
	http_get "$port" /exit/3
	wait_for 5 pmcd_logged 'web\[0\]: exited with status 3 after [0-9]*m\?s up (min_uptime 1500ms), restarting now'
	[ "$(slot_field web 0 restarts)" -eq 4 ]
	# The next quick crash backs off from initial again. The request
	# waits in the backlog for the new instance, as above: waiting for
	# it to be online first could, on a loaded machine, let it live past
	# min_uptime and turn the quick crash into a long-lived one.
	http_get "$port" /exit/3
	wait_for 5 logged_restarts web 0 4
	[ "$(backoff_delays web 0)" = "100 200 400 100" ]
}

@test "a kill -9 after min_uptime restarts at once, even with a long backoff.initial" {
	port=$(free_port)
	# Were the exit treated as a crash loop, the next start would be
	# 60 s away; the wait below is far shorter.
	demo_spec app.yaml web 1 "127.0.0.1:$port" \
	    'backoff: {initial: 60s, max: 60s, min_uptime: 200ms}'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_pid web 0)
	wait_for 5 up_for web 0 300
	kill -KILL "$old"
	wait_for 10 all_online web 1
	[ "$(slot_pid web 0)" != "$old" ]
	[ "$(slot_field web 0 restarts)" -eq 1 ]
	pmcd_logged 'web\[0\]: killed by signal KILL after [0-9.]*m\?s up (min_uptime 200ms), restarting now'
	! pmcd_logged 'restarting in'
}

@test "max_restarts counts only exits before min_uptime" {
	# Up 400 ms each time, past min_uptime: never a crash loop, so never
	# given up on, however often it exits.
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sh", "-c", "sleep 0.4; exit 1"]
	    ready: delay:50ms
	    backoff: {initial: 50ms, min_uptime: 200ms}
	    max_restarts: 2
	EOF
	pmc_start app.yaml
	wait_for 20 restarts_at_least web 4
	[ "$(app_statuses web)" != errored ]
	! pmcd_logged 'giving up'
	# The same program below min_uptime: given up on after 2.
	run -0 "$PMC" delete web
	sed -i 's/min_uptime: 200ms/min_uptime: 5s/' app.yaml
	pmc_start app.yaml
	wait_for 20 is_status web errored
	[ "$(slot_field web 0 restarts)" -eq 2 ]
}

@test "pmc restart NAME replaces every instance and all come back online" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old0=$(slot_pid web 0)
	old1=$(slot_pid web 1)
	run -0 "$PMC" restart web
	all_online web 2
	new0=$(slot_pid web 0)
	new1=$(slot_pid web 1)
	[ "$new0" != "$old0" ] && [ "$new1" != "$old1" ]
	[ "$new0" != "$old1" ] && [ "$new1" != "$old0" ]
	[ "$(env_of "$new0" PMC_INSTANCE)" = 0 ]
	[ "$(env_of "$new1" PMC_INSTANCE)" = 1 ]
	answer=$(http_get "$port" /pid)
	[ "$answer" = "$new0" ] || [ "$answer" = "$new1" ]
}

@test "pmc restart of an app errored after max_restarts tries again" {
	port=$(free_port)
	# A server that crashes while ./broken exists.
	cat > server <<-EOF
	#!/bin/sh
	[ -e "$BATS_TEST_TMPDIR/broken" ] && exit 3
	exec "$DEMO"
	EOF
	chmod +x server
	touch broken
	cmd='["./server"]' demo_spec app.yaml web 1 "127.0.0.1:$port" \
	    'backoff: {initial: 50ms}' 'max_restarts: 2'
	pmc_start app.yaml
	wait_for 10 is_status web errored
	[ "$(slot_field web 0 restarts)" -eq 2 ]
	# Still broken: a full new round of restarts, from the initial delay.
	run -1 "$PMC" restart web
	wait_for 10 is_status web errored
	[ "$(backoff_delays web 0)" = "50 100 50 100" ]
	[ "$(slot_field web 0 restarts)" -eq 4 ]
	rm broken
	run -0 "$PMC" restart web
	all_online web 1
	[ "$(http_get "$port" /pid)" = "$(app_pids web)" ]
}

@test "pmc restart of an app errored on a missing binary tries again" {
	port=$(free_port)
	cmd='["./server"]' demo_spec app.yaml web 1 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 1 ]
	is_status web errored
	run -1 "$PMC" restart web
	is_status web errored
	ln -s "$DEMO" server
	run -0 "$PMC" restart web
	all_online web 1
	[ "$(http_get "$port" /pid)" = "$(app_pids web)" ]
}

#!/usr/bin/env bats
# leftover.bats -- a pmcd that was killed leaves the workers a pre-forking
# server forked (its leader dies with pmcd; they do not); the next pmcd
# ends them from $PMC_HOME/groups before it binds anything, and never
# signals a process that merely has the same group number.

bats_require_minimum_version 1.5.0
load helper

PREFORK=$TESTS_DIR/fixtures/prefork.py

teardown() {
	local p
	pmc_teardown
	for p in ${STARTED:-}; do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# prefork_spec PORT: the pre-forking server on 127.0.0.1:PORT.
prefork_spec() {
	cat > app.yaml <<-EOF2
	apps:
	  - name: web
	    command: ["/usr/bin/python3", "$PREFORK"]
	    listen: 127.0.0.1:$1
	    # One socket for all: a per-slot SO_REUSEPORT socket of a new
	    # pmcd would join the workers' group instead of failing to bind.
	    balance: shared
	    ready: delay:100ms
	    kill_timeout: 2s
	EOF2
}

# workers: the pids the server logged.
workers() {
	inst_log web 0 err | sed -n 's/^workers //p' | tail -n 1
}

# start_and_crash PORT: start the server, kill -9 pmcd; prints the
# workers, which outlive it and still serve the port.
start_and_crash() {
	local pmcd leader w
	prefork_spec "$1"
	pmc_start app.yaml
	[ "$status" -eq 0 ] || return 1
	wait_for 10 all_online web 1 || return 1
	wait_for 10 inst_logged web 0 '^workers ' err || return 1
	leader=$(app_pids web)
	w=$(workers)
	pmcd=$(pmcd_pid)
	kill -KILL "$pmcd"
	wait_for 10 gone "$pmcd" || return 1
	wait_for 10 gone "$leader" || return 1
	echo "$w"
}

@test "after kill -9 of pmcd, a pre-forking server's workers hold the port until a new pmcd ends them" {
	local port w w2 p
	port=$(free_port)
	# Without the record (a pmcd that kept none), the workers keep
	# serving old code and the next start cannot bind the port.
	w=$(start_and_crash "$port")
	STARTED=$w
	for p in $w; do kill -0 "$p"; done
	[[ " $w " == *" $(http_get "$port" /) "* ]]
	rm "$PMC_HOME/groups"
	pmc_start app.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"Address already in use"* ]]
	run -0 "$PMC" kill
	for p in $w; do kill -KILL "$p"; done
	wait_for 10 all_gone $w
	# With it, the next pmcd ends them first and serves.
	w=$(start_and_crash "$port")
	STARTED=$w
	[ -s "$PMC_HOME/groups" ]
	pmc_start app.yaml
	echo "$stderr"
	[ "$status" -eq 0 ]
	all_gone $w
	# Said where pmc start shows it (pmcd's log before it is ready).
	[[ "$stderr" == *"pmcd: web[0]: ended 2 leftover processes of group "*" (from a pmcd that did not stop)"* ]]
	wait_for 10 inst_logged web 0 '^workers ' err
	w2=$(workers)
	STARTED="$w $w2"
	none_shared "$w" "$w2"
	[[ " $w2 " == *" $(http_get "$port" /) "* ]]
	# A clean stop leaves no record.
	run -0 "$PMC" kill
	[ ! -e "$PMC_HOME/groups" ]
}

@test "a recorded group whose number now belongs to an older process is left alone" {
	local pid start boot
	setsid --fork sh -c 'echo $$ > sleep.pid; exec sleep 300' 3>&-
	wait_for 5 test -s sleep.pid
	pid=$(cat sleep.pid)
	# Our sleep: its own group and session, as an instance has.
	[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]
	STARTED=$pid
	start=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
	boot=$(cat /proc/sys/kernel/random/boot_id)
	mkdir -p -m 0700 "$PMC_HOME"
	# Recorded as a leader that started after it: not ours, untouched.
	printf 'pmcd-groups 1 %s\n%s %s 15 1000 web 0\n' "$boot" "$pid" \
	    "$((start + 100))" > "$PMC_HOME/groups"
	run --separate-stderr "$PMCD" 3>&-
	wait_for 10 "$PMC" ping
	kill -0 "$pid"
	[[ "$stderr" != *leftover* ]]
	run -0 "$PMC" kill
	# The same record with its real start time: ended (the check is what
	# spared it).
	printf 'pmcd-groups 1 %s\n%s %s 15 1000 web 0\n' "$boot" "$pid" \
	    "$start" > "$PMC_HOME/groups"
	run --separate-stderr "$PMCD" 3>&-
	wait_for 10 "$PMC" ping
	wait_for 5 gone "$pid"
	[[ "$stderr" == *"web[0]: ended 1 leftover process of group $pid "* ]]
}

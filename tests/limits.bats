#!/usr/bin/env bats
# limits.bats -- pmcd and RLIMIT_NOFILE: it raises its own soft limit to
# the hard one (instances keep the limit pmcd was started with), and
# running out of descriptors -- for an instance's pipes, a listen socket,
# a control client -- is logged and survived: pmcd keeps answering and
# recovers once descriptors are free again.

bats_require_minimum_version 1.5.0
load helper

# nofile PID: "soft hard" of its RLIMIT_NOFILE, from /proc/PID/limits.
nofile() {
	sed -n 's/^Max open files  *\([0-9a-z]*\)  *\([0-9a-z]*\) .*/\1 \2/p' \
	    "/proc/$1/limits"
}

# sleepers FILE NAME N [MORE-YAML-LINES]: a spec of N `sleep` instances.
sleepers() {
	local file=$1 name=$2 n=$3
	shift 3
	{
		printf 'apps:\n  - name: %s\n' "$name"
		printf '    command: ["sleep", "1000"]\n'
		printf '    instances: %s\n    ready: delay:100ms\n' "$n"
		for line in "$@"; do
			printf '    %s\n' "$line"
		done
	} > "$file"
}

@test "pmcd raises its soft RLIMIT_NOFILE to the hard one; instances keep pmcd's first" {
	sleepers app.yaml s 1
	run -0 prlimit --nofile=64:4096 "$PMC" start app.yaml 3>&-
	[ "$(nofile "$(pmcd_pid)")" = "4096 4096" ]
	pid=$(app_pids s)
	[ "$(nofile "$pid")" = "64 4096" ]
}

@test "out of descriptors for pipes: logged, backed off, ping served, recovered once freed" {
	# pmcd holds some 10 descriptors of its own and 3 per instance.
	sleepers hog.yaml hog 8
	sleepers many.yaml many 6 "backoff: {initial: 50ms, max: 200ms}"
	run -0 prlimit --nofile=48:48 "$PMC" start hog.yaml 3>&-
	pid=$(pmcd_pid)
	[ "$(nofile "$pid")" = "48 48" ]
	run -1 --separate-stderr "$PMC" start many.yaml
	echo "$stderr"
	[[ "$stderr" == *"pmc: many["*"]: spawn: Too many open files (backoff)"* ]]
	grep -q 'many\[[0-9]\]: spawn: Too many open files, retrying in' \
	    "$PMC_HOME/pmcd.log"
	test_statuses_has many backoff
	# pmcd stays, answers, and keeps trying without filling its log.
	for i in 1 2 3; do
		run -0 timeout 5 "$PMC" ping
		[ "$output" = pong ]
	done
	kill -0 "$pid"
	all_online hog 8
	# Descriptors come back: the waiting slots start on their own.
	run -0 "$PMC" stop hog
	wait_for 5 all_online many 6
	[ "$(pmcd_pid)" = "$pid" ]
	n=$(grep -c 'Too many open files, retrying' "$PMC_HOME/pmcd.log")
	echo "$n lines about it"
	[ "$n" -lt 200 ]
}

@test "out of descriptors for listen sockets: the start fails with the reason, nothing applied" {
	{
		printf 'apps:\n  - name: wide\n    command: ["sleep", "1000"]\n'
		printf '    listen:\n'
		for i in $(seq 1 45); do
			printf '      - unix:%s/s%d.sock\n' "$BATS_TEST_TMPDIR" "$i"
		done
	} > wide.yaml
	sleepers app.yaml s 1
	run -0 prlimit --nofile=40:40 "$PMC" start app.yaml 3>&-
	run -1 --separate-stderr "$PMC" start wide.yaml
	[[ "$stderr" == "pmc: wide: listen unix:$BATS_TEST_TMPDIR/s"*".sock: Too many open files" ]]
	run -0 "$PMC" list --json
	[[ "$output" != *wide* ]]
	[ -z "$(ls "$BATS_TEST_TMPDIR"/s*.sock 2>/dev/null)" ]
	run -0 timeout 5 "$PMC" ping
	all_online s 1
}

@test "out of descriptors for control clients: accept pauses, logged, served after" {
	sleepers app.yaml s 2
	run -0 prlimit --nofile=40:40 "$PMC" start app.yaml 3>&-
	pid=$(pmcd_pid)
	# 50 idle clients: pmcd runs out of descriptors before CLIENTS_MAX.
	# They leave after 20 s at most, should the test fail first.
	python3 - > many.out 3>&- <<-'EOF' &
	import os, socket, time
	socks = []
	for i in range(50):
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	    s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	    socks.append(s)
	print("connected", flush=True)
	time.sleep(20)
	EOF
	bg=$!
	wait_for 5 grep -q connected many.out
	wait_for 5 grep -q 'control: accept, pausing 100ms: Too many open files' \
	    "$PMC_HOME/pmcd.log"
	kill -0 "$pid"
	kill "$bg"
	wait "$bg" || true
	wait_for 5 "$PMC" ping
	run -0 timeout 5 "$PMC" ping
	[ "$output" = pong ]
	[ "$(pmcd_pid)" = "$pid" ]
	all_online s 2
}

#!/usr/bin/env bats
#
# observe.bats -- what pmcd measures and shows: cpu and memory of each
# instance's whole process group, pmc list (table, colour, --json),
# pmc describe, max_memory replacing a growing instance without a failed
# request, and the Prometheus metrics (pmc metrics, pmcd --metrics).

bats_require_minimum_version 1.5.0
load helper
load load

# cpu_at_least APP PERCENT: instance 0 of APP shows at least PERCENT cpu.
cpu_at_least() {
	local cpu
	cpu=$(slot_field "$1" 0 cpu) || return 1
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) < float(sys.argv[2]))' \
	    "${cpu:-0}" "$2"
}

# memory_at_least APP BYTES
memory_at_least() {
	local m
	m=$(slot_field "$1" 0 memory) || return 1
	[ "${m:-0}" -ge "$2" ]
}

# ticks PID: the cpu time of a process, user and system, in clock ticks.
ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# replacing APP: a new instance runs beside the old one (a second row).
replacing() {
	[ "$("$PMC" list --json | grep -c "\"name\": \"$1\"")" -ge 2 ]
}

# metric TEXT NAME APP SLOT: the value of one sample.
metric() {
	sed -n "s/^$2{app=\"$3\",instance=\"$4\"} //p" <<< "$1"
}

# check_metrics TEXT: the strict format check, and promtool's when there.
check_metrics() {
	python3 "$TESTS_DIR/promcheck.py" pmc_instance_up \
	    pmc_instance_restarts_total pmc_instance_cpu_seconds_total \
	    pmc_instance_resident_memory_bytes \
	    pmc_instance_start_time_seconds <<< "$1" || return 1
	if command -v promtool > /dev/null; then
		promtool check metrics <<< "$1" || return 1
	fi
}

@test "a busy loop shows cpu near 100 percent; an idle server near 0" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: busy
	    command: ["sh", "-c", "while :; do :; done"]
	  - name: idle
	    command: ["$DEMO", "--port", "$(free_port)"]
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	# Near 100 on an idle machine; on a busy one, near the share the
	# kernel gives it: what the kernel counts over two seconds.
	pid=$(slot_field busy 0 pid)
	t0=$(ticks "$pid")
	sleep 2
	share=$(( ($(ticks "$pid") - t0) * 100 / $(getconf CLK_TCK) / 2 ))
	want=$(( share - 20 < 80 ? share - 20 : 80 ))
	echo "the kernel gave it $share%; want at least $want%"
	[ "$want" -ge 5 ]
	wait_for 20 cpu_at_least busy "$want"
	cpu=$(slot_field idle 0 cpu)
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 5)' "$cpu"
	# The same figure in the table, as a percentage.
	run -0 "$PMC" list
	[[ "$output" =~ busy\ +0\ +[0-9]+\ +online\ +[0-9]+\.[0-9]% ]]
}

@test "memory is the sum over the instance's process group" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--port", "$(free_port)", "--child-memory", "64"]
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 5 inst_logged web 0 '^memory child .* holds 64 MB' err
	leader=$(slot_field web 0 pid)
	child=$(inst_log web 0 err | sed -n 's/^memory child \([0-9]*\) .*/\1/p')
	[ -n "$child" ] && [ "$child" != "$leader" ]
	# The leader alone holds a few MB; with its child, past 64 MB.
	wait_for 5 memory_at_least web $((64 * 1024 * 1024))
	leader_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$leader/status")
	[ "$leader_kb" -lt 32768 ]
	run -0 "$PMC" describe web
	[[ "$output" == *"process group $leader: "*"$leader"* ]]
	[[ "$output" == *"process group $leader: "*"$child"* ]]
}

@test "list: aligned columns; colour only on a tty and never with NO_COLOR" {
	command -v script > /dev/null || skip "script (bsdutils) is not installed"
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--port", "$(free_port)"]
	  - name: a-much-longer-name
	    command: ["$DEMO", "--port", "$(free_port)"]
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -0 "$PMC" list
	[ "${lines[0]%% *}" = NAME ]
	# Every column starts where its header does.
	for col in INST PID STATUS CPU MEM UPTIME RESTARTS; do
		hdr=${lines[0]%%"$col"*}
		for l in "${lines[@]:1}"; do
			[ "${l:${#hdr}-2:2}" = "  " ] || { echo "$col: $l"; false; }
			[ "${l:${#hdr}:1}" != " " ] || { echo "$col: $l"; false; }
		done
	done
	[[ "$output" != *$'\033'* ]]
	[[ "$output" =~ web\ +0\ +[0-9]+\ +online\ +[0-9.]+%\ +[0-9.]+[BKMG]\ +[0-9]+s\ +0 ]]
	# On a terminal: the status in colour.
	run -0 env -u NO_COLOR TERM=xterm script -qec "$PMC list" /dev/null
	[[ "$output" == *$'\033[32monline\033[0m'* ]]
	run -0 env NO_COLOR=1 TERM=xterm script -qec "$PMC list" /dev/null
	[[ "$output" == *online* ]]
	[[ "$output" != *$'\033['* ]]
}

@test "list --json: the table's figures as numbers" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--port", "$(free_port)", "--child-memory", "16"]
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 5 memory_at_least web $((16 * 1024 * 1024))
	run -0 "$PMC" list --json
	python3 -c '
import json, sys
[i] = json.loads(sys.argv[1])
assert i["pid"] > 0 and i["restarts"] == 0, i
assert isinstance(i["cpu"], (int, float)) and 0 <= i["cpu"] < 50, i
assert i["memory"] >= 16 << 20 and i["uptime_ms"] > 0, i' "$output"
}

@test "describe: the effective spec, sockets, logs, pids, last exit and when" {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_field web 1 pid)
	kill -KILL "$old"
	wait_for 10 all_online web 2
	[ "$(slot_field web 1 pid)" != "$old" ]
	run -0 "$PMC" describe web
	echo "$output"
	# Defaults filled in: who it runs as, where its lines go.
	[[ "$output" == *"  kill_timeout: 5s"* ]]
	[[ "$output" == *"  user: $(id -un) (pmcd's)"* ]]
	[[ "$output" == *"  logs.out: $PMC_HOME/logs/web.out.log"* ]]
	[[ "$output" == *$'sockets:\n  127.0.0.1:'"$port"* ]]
	[[ "$output" == *"stderr: $PMC_HOME/logs/web.err.log"* ]]
	pid0=$(slot_field web 0 pid)
	pid1=$(slot_field web 1 pid)
	[[ "$output" =~ web\[0\]:\ online,\ pid\ $pid0,\ up\ [0-9]+m?s,\ cpu\ [0-9.]+%,\ memory\ [0-9.]+[BKMG],\ 0\ restarts ]]
	[[ "$output" == *"process group $pid0: $pid0"* ]]
	[[ "$output" == *"web[1]: online, pid $pid1,"*", 1 restart"$'\n'* ]]
	[[ "$output" =~ last:\ killed\ by\ signal\ KILL,\ at\ 20[0-9-]+T[0-9:]+Z\ \([0-9]+m?s\ ago\) ]]
}

@test "max_memory replaces a growing instance, new one ready first: no request fails" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--grow", "16"]
	    listen: 127.0.0.1:$port
	    max_memory: 40M
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_field web 0 pid)
	start_load "$port"
	wait_for 15 pmcd_logged "web\[0\]: memory [0-9.]*M over max_memory 40M, replacing"
	wait_for 10 restarts_at_least web 1
	no_failed_requests
	new=$(slot_field web 0 pid)
	[ -n "$new" ] && [ "$new" != "$old" ]
	gone "$old"
	grep -q "web\[0\]: replaced, new pid" "$PMC_HOME/pmcd.log"
	run -0 "$PMC" describe web
	[[ "$output" == *"last: replaced: memory "*" over max_memory 40M"* ]]
	run -0 "$PMC" metrics
	[ "$(metric "$output" pmc_instance_restarts_total web 0)" -ge 1 ]
}

@test "max_memory: an instance over the limit from the start is paced, not replaced in a loop" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: fat
	    command: ["$DEMO", "--child-memory", "24"]
	    listen: 127.0.0.1:$(free_port)
	    max_memory: 8M
	    backoff: {initial: 1s, max: 4s}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 restarts_at_least fat 1
	start=$(now_ms)
	first=$(slot_field fat 0 restarts)
	# Each replacement waits longer: 2 s, then 4 s (backoff.max) ...
	wait_for 20 restarts_at_least fat $((first + 2))
	[ $(( $(now_ms) - start )) -ge 4000 ]
	# A pmc reload while one is under way follows it, instead of failing.
	wait_for 20 replacing fat
	run -0 "$PMC" reload fat
	[[ "$output" == *"fat: 1/1 online"* ]]
	wait_for 10 test_statuses_has fat online
}

@test "pmc metrics: the Prometheus text format, with the list's figures" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: busy
	    command: ["sh", "-c", "while :; do :; done"]
	  - name: web
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$(free_port)
	    instances: 2
	  - name: off
	    command: ["false"]
	    restart: never
	EOF
	pmc_start app.yaml
	wait_for 10 busy_cpu_seconds 0.2
	run -0 --separate-stderr "$PMC" metrics
	text=$output
	echo "$text"
	check_metrics "$text"
	[ "$(metric "$text" pmc_instance_up web 0)" = 1 ]
	[ "$(metric "$text" pmc_instance_up web 1)" = 1 ]
	[ "$(metric "$text" pmc_instance_up off 0)" = 0 ]
	[ "$(metric "$text" pmc_instance_restarts_total off 0)" = 0 ]
	# Not running: no memory or start time, rather than a made-up one.
	[ -z "$(metric "$text" pmc_instance_resident_memory_bytes off 0)" ]
	[ "$(metric "$text" pmc_instance_resident_memory_bytes web 1)" -gt 0 ]
	pid=$(slot_field web 1 pid)
	start=$(metric "$text" pmc_instance_start_time_seconds web 1)
	now=$(date +%s)
	python3 -c 'import sys; s, n = float(sys.argv[1]), int(sys.argv[2]); sys.exit(not n - 120 < s <= n)' "$start" "$now"
	cpu=$(metric "$text" pmc_instance_cpu_seconds_total busy 0)
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) < 0.2)' "$cpu"
	# A counter: it only grows.
	wait_for 5 busy_cpu_seconds "$cpu"
}

# busy_cpu_seconds N: the busy app's cpu counter is past N.
busy_cpu_seconds() {
	local v
	v=$(metric "$("$PMC" metrics)" pmc_instance_cpu_seconds_total busy 0)
	python3 -c 'import sys; sys.exit(float(sys.argv[1] or 0) <= float(sys.argv[2]))' "$v" "$1"
}

@test "pmcd --metrics serves GET /metrics over HTTP; other paths 404; bounded" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--port", "$(free_port)"]
	EOF
	# pmc start passes its environment to the pmcd it starts.
	PMCD_METRICS=127.0.0.1:$port pmc_start app.yaml
	[ "$status" -eq 0 ]
	# The address goes to pmcd.log, not to pmc start's terminal.
	[[ "$output$stderr" != *"metrics on"* ]]
	grep -q "metrics on http://127.0.0.1:$port/metrics" "$PMC_HOME/pmcd.log"
	run -0 curl -sS -m 5 -D headers "http://127.0.0.1:$port/metrics"
	check_metrics "$output"
	[[ "$output" == *'pmc_instance_up{app="web",instance="0"} 1'* ]]
	grep -qi '^content-type: text/plain; version=0.0.4' headers
	head -n 1 headers | grep -q ' 200 '
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
	[ "$output" = 404 ]
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics"
	[ "$output" = 405 ]
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 6000 /dev/zero | tr '\0' x)" "http://127.0.0.1:$port/metrics"
	[ "$output" = 431 ]
	# Clients that say nothing take no more than their share, for a while.
	python3 - "$port" 3>&- <<-'EOF' &
	import socket, sys, time
	s = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	    for _ in range(40)]
	time.sleep(8)
	EOF
	holder=$!
	run -0 timeout 5 "$PMC" ping
	# Past the idle timeout, the silent ones are dropped and it answers.
	wait_for 10 curl -sSf -m 1 -o /dev/null "http://127.0.0.1:$port/metrics"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
}

@test "pmcd --metrics: a bad address is a clear error" {
	run -1 --separate-stderr "$PMCD" -f --metrics nonsense
	[[ "$stderr" == *"--metrics: expected"*'"nonsense"'* ]]
	port=$(free_port)
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
time.sleep(5)' "$port" 3>&- &
	holder=$!
	wait_for 5 ss_listening "$port"
	run -1 --separate-stderr "$PMCD" -f --metrics "127.0.0.1:$port"
	[[ "$stderr" == *"--metrics: 127.0.0.1:$port: Address already in use"* ]]
	kill "$holder"
	wait "$holder" 2>/dev/null || true
}

ss_listening() {
	ss -Hltn "sport = :$1" | grep -q .
}

# voluntary context switches of pid $1
ctxt() {
	awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status"
}

@test "idle and unwatched, pmcd does not wake up; with max_memory it samples once a second" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sleep", "600"]
	    instances: 2
	    ready: delay:10ms
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pid=$(pmcd_pid)
	# Not a wait for something: the window the wake-ups are counted in.
	a=$(ctxt "$pid")
	sleep 5
	b=$(ctxt "$pid")
	echo "wake-ups in 5 s, nothing watching: $((b - a))"
	[ $((b - a)) -eq 0 ]
	# Asked, it samples then and there: figures of now.
	[ "$(slot_field web 0 memory)" -gt 0 ]
	# An app with max_memory is watched: once a second.
	cat >> app.yaml <<-EOF
	  - name: capped
	    command: ["sleep", "600"]
	    max_memory: 1G
	EOF
	pmc_start app.yaml
	a=$(ctxt "$pid")
	sleep 4
	b=$(ctxt "$pid")
	echo "wake-ups in 4 s with max_memory: $((b - a))"
	[ $((b - a)) -ge 3 ]
	run -0 "$PMC" stop capped
	a=$(ctxt "$pid")
	sleep 3
	b=$(ctxt "$pid")
	[ $((b - a)) -le 1 ]
}

# cpu_total APP SLOT: pmc_instance_cpu_seconds_total of one instance.
cpu_total() {
	metric "$("$PMC" metrics)" pmc_instance_cpu_seconds_total "$1" "$2"
}

@test "cpu_seconds_total keeps what an instance used though no one sampled it before it died" {
	# Each burns 0.6 s of CPU with nobody looking (no list, no metrics
	# until the end): the first itself, the second in a child it waits
	# for, the third in a worker that outlives its leader's stop and
	# that pmcd, the subreaper, reaps.
	cat > burn.py <<-'EOF'
	import os, signal, sys, time
	def burn():
	    t = time.process_time()
	    while time.process_time() - t < 0.6:
	        pass
	mode = sys.argv[1]
	if mode == "self":
	    burn()
	elif mode == "child":
	    if os.fork() == 0:
	        burn()
	        os._exit(0)
	    os.wait()
	else:
	    if os.fork() == 0:
	        signal.signal(signal.SIGTERM, signal.SIG_IGN)
	        open("burning", "w").close()
	        burn()
	        os._exit(0)
	    while True:
	        time.sleep(1)
	EOF
	write_spec app.yaml <<-EOF
	apps:
	  - name: self
	    command: ["python3", "burn.py", "self"]
	    ready: delay:10ms
	    restart: never
	  - name: child
	    command: ["python3", "burn.py", "child"]
	    ready: delay:10ms
	    restart: never
	  - name: orphan
	    command: ["python3", "burn.py", "orphan"]
	    ready: delay:10ms
	    kill_timeout: 10s
	EOF
	pmc_start app.yaml
	leaders=$(pgrep -P "$(pmcd_pid)" -f burn.py)
	[ "$(echo "$leaders" | wc -w)" -ge 2 ]
	wait_for 10 test -e burning
	run -0 "$PMC" stop orphan
	for pid in $leaders; do
		wait_for 20 not_alive "$pid"
	done
	text=$("$PMC" metrics)
	for app in self child orphan; do
		v=$(metric "$text" pmc_instance_cpu_seconds_total "$app" 0)
		echo "$app: $v s"
		python3 -c 'import sys; sys.exit(float(sys.argv[1]) < 0.5)' "$v"
	done
}

# group_rss_bytes PGID: what ps says the group holds, summed.
group_rss_bytes() {
	ps -o rss= -g "$1" | awk '{ s += $1 } END { printf "%d\n", s * 1024 }'
}

# group_at_least PGID N: N processes or more in the group.
group_at_least() {
	[ "$(ps -o pid= -g "$1" | wc -l)" -ge "$2" ]
}

# memory_near APP BYTES: instance 0 shows at least 90% of BYTES.
memory_near() {
	local m
	m=$(slot_field "$1" 0 memory) || return 1
	[ "${m:-0}" -ge $(( $2 / 10 * 9 )) ]
}

@test "a leader with 1200 children: every one is counted (the children list is read whole)" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: many
	    command: ["sh", "-c", "i=0; while [ \$i -lt 1200 ]; do sleep 1000 & i=\$((i + 1)); done; wait"]
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	leader=$(slot_field many 0 pid)
	wait_for 30 group_at_least "$leader" 1201
	# The sum of 1201 RSS figures, ps's and pmc's, within a tenth.
	total=$(group_rss_bytes "$leader")
	wait_for 5 memory_near many "$total"
	m=$(slot_field many 0 memory)
	[ "$m" -le $(( total / 10 * 11 )) ]
}

# slot_is APP SLOT STATUS
slot_is() {
	[ "$(slot_field "$1" "$2" status)" = "$3" ]
}

# replacing_now APP: a max_memory replacement is under way.
replacing_now() {
	"$PMC" describe "$1" | grep -Eq "^(replacement|reload) under way"
}

# hungry_script PATH [READY_MS]: an instance that holds 24 MB in a child
# and says it is ready READY_MS after it starts.
hungry_script() {
	cat > "$1" <<-EOF
	#!/bin/sh
	exec "$DEMO" --notify --ready-delay-ms ${2:-3000} --child-memory 24
	EOF
	chmod +x "$1"
}

@test "max_memory: pmc start FILE during a replacement starts the slots that do not run" {
	port=$(free_port)
	cat > "$BATS_TEST_TMPDIR/run.sh" <<-EOF
	#!/bin/sh
	if [ "\$PMC_INSTANCE" = 1 ] && [ ! -e "$BATS_TEST_TMPDIR/ok" ]; then
		exit 1
	fi
	exec "$DEMO" --notify --ready-delay-ms 3000 --child-memory 24
	EOF
	chmod +x "$BATS_TEST_TMPDIR/run.sh"
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$BATS_TEST_TMPDIR/run.sh"]
	    listen: 127.0.0.1:$port
	    instances: 2
	    ready: notify
	    max_memory: 8M
	    max_restarts: 1
	    backoff: {initial: 1s, max: 1s}
	EOF
	pmc_start app.yaml
	wait_for 10 test_statuses_has web errored
	wait_for 10 replacing_now web
	touch "$BATS_TEST_TMPDIR/ok"
	pmc_start app.yaml
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"web: unchanged"* ]]
	[ -z "$stderr" ]
	wait_for 10 slot_is web 1 online
}

@test "max_memory: the slot over the limit the longest goes next; pacing starts at the takeover" {
	hungry_script "$BATS_TEST_TMPDIR/run.sh" 2000
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$BATS_TEST_TMPDIR/run.sh"]
	    listen: 127.0.0.1:$(free_port)
	    instances: 2
	    ready: notify
	    max_memory: 8M
	    backoff: {initial: 1s, max: 1s}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	both() {
		[ "$(slot_field web 0 restarts)" -ge 1 ] &&
		    [ "$(slot_field web 1 restarts)" -ge 1 ]
	}
	# Each replacement takes 2 s (the ready delay): both within 3 of them.
	wait_for 15 both
	[ "$(slot_field web 0 restarts)" -le 2 ]
	[ "$(slot_field web 1 restarts)" -le 2 ]
}

@test "max_memory: restart, scale and a new spec during a replacement cancel it, not fail" {
	hungry_script "$BATS_TEST_TMPDIR/run.sh"
	port=$(free_port)
	spec() {
		write_spec app.yaml <<-EOF
		apps:
		  - name: web
		    command: ["$BATS_TEST_TMPDIR/run.sh"]
		    listen: 127.0.0.1:$port
		    ready: notify
		    max_memory: 8M
		    backoff: {initial: 1s, max: 1s}
		    env: {RELEASE: "$1"}
		EOF
	}
	spec 1
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 replacing_now web
	run --separate-stderr "$PMC" restart web
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"web: 1/1 online"* ]]
	[[ "$stderr" != *reload* ]]
	grep -q "web\[0\]: max_memory replacement cancelled" "$PMC_HOME/pmcd.log"
	wait_for 10 replacing_now web
	run --separate-stderr "$PMC" scale web 2
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *reload* ]]
	wait_for 10 replacing_now web
	spec 2
	pmc_start app.yaml
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"web: spec changed, reloading"* ]]
	[[ "$stderr" != *interrupted* ]]
	pid=$(slot_field web 0 pid)
	[ "$(env_of "$pid" RELEASE)" = 2 ]
}

@test "max_memory without a listen socket: the instance is restarted in place" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: fat
	    command: ["$DEMO", "--port", "$(free_port)", "--child-memory", "24"]
	    max_memory: 8M
	    backoff: {initial: 1s, max: 1s}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_field fat 0 pid)
	wait_for 10 pmcd_logged "fat\[0\]: memory [0-9.]*M over max_memory 8M, restarting (no listen socket to replace it on)"
	wait_for 10 restarts_at_least fat 1
	gone "$old"
	run -0 "$PMC" describe fat
	[[ "$output" == *"last: restarted: memory "*" over max_memory 8M"* ]]
}

@test "max_memory: after 3 replacements that never got ready, a restart in place" {
	cat > "$BATS_TEST_TMPDIR/run.sh" <<-EOF
	#!/bin/sh
	# Only the first one ever gets ready.
	[ -e "$BATS_TEST_TMPDIR/started" ] && exec sleep 1000
	touch "$BATS_TEST_TMPDIR/started"
	exec "$DEMO" --notify --child-memory 24
	EOF
	chmod +x "$BATS_TEST_TMPDIR/run.sh"
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$BATS_TEST_TMPDIR/run.sh"]
	    listen: 127.0.0.1:$(free_port)
	    ready: notify
	    ready_timeout: 500ms
	    max_memory: 8M
	    backoff: {initial: 1s, max: 1s}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_field web 0 pid)
	wait_for 20 pmcd_logged "web\[0\]: memory [0-9.]*M over max_memory 8M, restarting (its replacements failed 3 times)"
	[ "$(grep -c 'web\[0\]: replacement failed' "$PMC_HOME/pmcd.log")" -eq 3 ]
	wait_for 10 gone "$old"
}

@test "describe of 400 instances shows each one's process group" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: many
	    command: ["sleep", "1000"]
	    instances: 400
	    ready: delay:0
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -0 "$PMC" describe many
	[ "$(grep -c '^    process group ' <<< "$output")" -eq 400 ]
	for pid in $(app_pids many); do
		[[ "$output" == *"process group $pid: $pid"* ]] ||
		    { echo "no process group line for pid $pid"; return 1; }
	done
	# That describe walks /proc once for them all, not once an instance
	# (1.7 s for 400), is a wall-clock figure: make bench, figure 6.
}

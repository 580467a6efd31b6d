#!/usr/bin/env bats
# chaos.bats -- pmcd under abuse: instances killed with SIGKILL at random
# while wrk drives their port, and a crash-at-once app restarted 2000
# times.  Whatever happens to its children, pmcd keeps serving, leaks no
# descriptor and no memory, and leaves no zombie.
#
# The figures (requests, errors, restarts, fds, RSS) are printed as "# "
# lines in the TAP output, and appended to $CHAOS_REPORT when it is set.

bats_require_minimum_version 1.5.0
load helper
load load

# How much RSS may grow (KiB).  In the storm, glibc keeps freed memory in
# its arenas, so the heap stays at its high-water mark (more clients or
# records at once); a leak grows with every kill and passes it.  The
# restarts involve no client: measured after 100 of them, the heap is
# flat to a page or two, and 2000 restarts past that, a leak of 24 bytes
# a restart shows.
STORM_SLACK_KB=256
RESTART_SLACK_KB=48
RESTARTS=${CHAOS_RESTARTS:-2000}
# Under `make asan` pmcd forks slowly and ASan's quarantine holds freed
# memory, so RSS says nothing there: fewer restarts, and fds only.
if [ -n "${PMC_SANITIZER_REPORTS:-}" ]; then
	RESTARTS=${CHAOS_RESTARTS:-1000}
	STORM_SLACK_KB= RESTART_SLACK_KB=
fi

# rss_flat BEFORE AFTER SLACK: AFTER is at most SLACK KiB above BEFORE.
rss_flat() {
	if [ -z "$3" ]; then
		figure "RSS not compared under sanitizers"
		return 0
	fi
	[ "$2" -le $(($1 + $3)) ] ||
	    { echo "RSS grew from $1 to $2 KiB, more than $3"; return 1; }
}

# figure TEXT: one "# " line in the TAP output, and in $CHAOS_REPORT.
figure() {
	echo "# $*" >&3
	[ -z "${CHAOS_REPORT:-}" ] || echo "$*" >> "$CHAOS_REPORT"
}

pmcd_fds() {
	ls "/proc/$(pmcd_pid)/fd" | wc -l
}

pmcd_rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' \
	    "/proc/$(pmcd_pid)/status"
}

# fds_are N: pmcd holds N descriptors (shows them when not).
fds_are() {
	local n
	n=$(pmcd_fds)
	[ "$n" -eq "$1" ] && return 0
	echo "pmcd holds $n fds, expected $1:"
	ls -l "/proc/$(pmcd_pid)/fd"
	return 1
}

# no_zombies: no child of pmcd is a zombie.
no_zombies() {
	local z
	z=$(ps --ppid "$(pmcd_pid)" -o pid=,stat= | awk '$2 ~ /^Z/')
	[ -z "$z" ] && return 0
	echo "zombies of pmcd: $z"
	return 1
}

# kill_one APP: SIGKILL one instance of APP at random, by pid, and print
# that pid.  Reads `pmc list --json` (one object a line) with sed: quick
# enough to keep up while wrk holds both CPUs.
kill_one() {
	local pids victim
	read -r -a pids <<< "$("$PMC" list --json | sed -n \
	    "s/.*\"name\": \"$1\", .*\"pid\": \([1-9][0-9]*\),.*/\1/p" |
	    tr '\n' ' ')"
	[ "${#pids[@]}" -gt 0 ] || return 1
	victim=${pids[RANDOM % ${#pids[@]}]}
	kill -KILL "$victim" 2>/dev/null
	echo "$victim"
}

# back_after PID APP N: PID is gone and APP has N instances online again
# (read with grep, as kill_one reads).
back_after() {
	gone "$1" || return 1
	[ "$("$PMC" list --json |
	    grep -c "\"name\": \"$2\", .*\"status\": \"online\"")" -eq "$3" ]
}

@test "kill -9 storm under wrk: no connect error, no bad answer, nothing leaked" {
	port=$(free_port)
	demo_spec app.yaml web 4 "127.0.0.1:$port" \
	    "backoff: {initial: 10ms, max: 100ms}"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 4
	# Warm up: every slot killed once and back, then the figures.
	for pid in $(app_pids web); do
		kill -KILL "$pid"
	done
	wait_for 10 all_online web 4
	wait_for 5 no_zombies
	fds0=$(pmcd_fds)
	rss0=$(pmcd_rss_kb)

	start_load "$port"
	# 20 kills of an instance at random, each as soon as the last one's
	# slot is back: a storm bounded by count, under load from start to
	# end.
	kills=0
	t0=$(now_ms)
	while [ "$kills" -lt 20 ]; do
		victim=$(kill_one web)
		kills=$((kills + 1))
		wait_for 10 back_after "$victim" web 4
	done
	storm_ms=$(( $(now_ms) - t0 ))
	finish_load
	figure "kill-storm: $kills kills in $storm_ms ms under wrk -c16:" \
	    "$LOAD_REQUESTS requests, connect errors $LOAD_CONNECT," \
	    "timeouts $LOAD_TIMEOUT, non-2xx $LOAD_NON2XX, read errors" \
	    "$LOAD_READ and write errors $LOAD_WRITE (requests in flight" \
	    "on a killed instance)"
	# pmcd holds the socket throughout: never a refused connection, and
	# every answer is the server's.  (How many wait past wrk's 2 s
	# timeout depends on how busy the machine is: make bench counts the
	# failed requests of a kill under load, figure 4.)
	[ "$LOAD_CONNECT" -eq 0 ]
	[ "$LOAD_NON2XX" -eq 0 ]
	# demo-httpd serves one connection at a time: a kill loses at most
	# the one request its instance was serving.
	[ $((LOAD_READ + LOAD_WRITE)) -le "$kills" ]

	wait_for 10 all_online web 4
	wait_for 5 no_zombies
	wait_for 5 fds_are "$fds0"
	rss1=$(pmcd_rss_kb)
	figure "kill-storm: pmcd fds $fds0 -> $(pmcd_fds), RSS ${rss0} -> ${rss1} KiB"
	rss_flat "$rss0" "$rss1" "$STORM_SLACK_KB"
	run -0 http_get "$port" /
	[[ "$output" == "hello from pid "* ]]
}

@test "2000 restarts of a crash-at-once app (1000 under sanitizers): fds and RSS flat" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: crash
	    command: ["false"]
	    backoff: {initial: 1ms, max: 1ms}
	EOF
	pmc_start app.yaml
	start_ms=$(now_ms)
	wait_for 20 restarts_at_least crash 100
	# Measure with the app stopped, so that no instance's pipes count.
	run -0 "$PMC" stop crash
	wait_for 5 no_zombies
	n0=$(slot_field crash 0 restarts)
	fds0=$(pmcd_fds)
	rss0=$(pmcd_rss_kb)

	# It never comes online: the restart reports a failure.
	run "$PMC" restart crash
	wait_for 100 restarts_at_least crash "$RESTARTS"
	run -0 "$PMC" stop crash
	secs=$(( ($(now_ms) - start_ms) / 1000 ))
	n1=$(slot_field crash 0 restarts)
	wait_for 5 no_zombies
	wait_for 5 fds_are "$fds0"
	rss1=$(pmcd_rss_kb)
	figure "restarts: $n1 restarts of a crash-at-once app in ${secs} s;" \
	    "from restart $n0 to $n1, pmcd fds $fds0 -> $(pmcd_fds)," \
	    "RSS ${rss0} -> ${rss1} KiB"
	rss_flat "$rss0" "$rss1" "$RESTART_SLACK_KB"
	run -0 timeout 5 "$PMC" ping
	[ "$output" = pong ]
}

#!/usr/bin/env bats
#
# Readiness: an instance is `starting` until ready, then `online`.
# ready: notify waits for READY=1 on NOTIFY_SOCKET from the instance (its
# leader or a process of its group, told by the sender's credentials);
# delay:D waits D alive; auto takes READY=1 or 1 s alive.  STATUS= text
# shows in pmc describe.

bats_require_minimum_version 1.5.0
load helper

teardown() {
	[ -z "${SENDER_PID:-}" ] || kill "$SENDER_PID" 2>/dev/null
	[ -z "${START_PID:-}" ] || kill "$START_PID" 2>/dev/null
	pmc_teardown
}

# notify.py [--wait | --then PROG ARGS...] FIELD...: send the FIELDs as
# one sd_notify datagram to $NOTIFY_SOCKET, then wait to be killed, or
# exec PROG, or exit.
make_notify() {
	cat > notify.py <<-'EOF'
	import os, signal, socket, sys
	args, then, wait = sys.argv[1:], None, False
	if args and args[0] == "--wait":
	    args, wait = args[1:], True
	if "--then" in args:
	    i = args.index("--then")
	    args, then = args[:i], args[i + 1:]
	addr = os.environ["NOTIFY_SOCKET"]
	if addr.startswith("@"):
	    addr = "\0" + addr[1:]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.sendto("\n".join(args).encode(), addr)
	s.close()
	print("sent", " ".join(args), "from", os.getpid(), flush=True)
	if then:
	    os.execvp(then[0], then)
	while wait:
	    signal.pause()
	EOF
}

# status_of APP SLOT: "STATUS UPTIME_MS" of that instance.
status_of() {
	"$PMC" list --json | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    if i["name"] == sys.argv[1] and i["instance"] == int(sys.argv[2]):
        print(i["status"], i["uptime_ms"])' "$1" "$2"
}

# Poll target: instance SLOT of APP is seen with STATUS; the uptime it
# had then goes to $BATS_TEST_TMPDIR/seen-STATUS.
seen() {
	local s
	s=$(status_of "$1" "$2" 2>/dev/null) || return 1
	# shellcheck disable=SC2086 # "STATUS UPTIME" into $2 $3
	set -- "$3" $s
	[ "$1" = "$2" ] || return 1
	echo "$3" > "$BATS_TEST_TMPDIR/seen-$1"
}

# start_bg FILE: pmc start FILE in the background; START_PID.
start_bg() {
	"$PMC" start "$1" > start.out 2>&1 3>&- &
	START_PID=$!
}

# wait_start STATUS: the background pmc start exited with STATUS.
wait_start() {
	local rc=0
	wait "$START_PID" || rc=$?
	START_PID=
	cat start.out
	[ "$rc" -eq "$1" ] || { echo "pmc start exited $rc, expected $1"; return 1; }
}

# described APP TEXT: pmc describe APP shows TEXT.
described() {
	"$PMC" describe "$1" | grep -qF "$2"
}

# ---------------------------------------------------------------------------

@test "ready: notify is starting until READY=1, then online" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--notify", "--ready-delay-ms", "800"]
	    listen: 127.0.0.1:$port
	    ready: notify
	EOF
	start_bg app.yaml
	wait_for 10 seen web 0 starting
	wait_start 0
	[[ "$(cat start.out)" == *"web: 1/1 online"* ]]
	wait_for 5 seen web 0 online
	# demo-httpd sends READY=1 after 800 ms: no sooner online.
	[ "$(cat "$BATS_TEST_TMPDIR/seen-online")" -ge 800 ]
	[ -n "$(env_of "$(app_pids web)" NOTIFY_SOCKET)" ]
	http_get "$port" /pid
}

@test "ready: notify without READY=1 fails after ready_timeout" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--port", "$(free_port)"]
	    ready: notify
	    ready_timeout: 500ms
	    max_restarts: 1
	EOF
	run -1 --separate-stderr "$PMC" start app.yaml
	[[ "$stderr" == *"web[0]: not ready within 500ms (ready_timeout)"* ]]
	run -0 "$PMC" describe web
	[[ "$output" == *"not ready within 500ms"* ]]
	[[ "$output" != *"web[0]: online"* ]]
}

@test "ready: delay:800ms is starting, then online once 800 ms alive" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$port
	    ready: delay:800ms
	EOF
	start_bg app.yaml
	wait_for 10 seen web 0 starting
	wait_start 0
	wait_for 5 seen web 0 online
	[ "$(cat "$BATS_TEST_TMPDIR/seen-online")" -ge 800 ]
	# No NOTIFY_SOCKET for delay: (SPEC: only notify and auto).
	run -22 curl -sf "http://127.0.0.1:$port/env/NOTIFY_SOCKET"
}

@test "ready: auto is online after 1 s alive without READY=1, sooner with it" {
	port=$(free_port)
	port2=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: quiet
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$port
	  - name: told
	    command: ["$DEMO", "--notify"]
	    listen: 127.0.0.1:$port2
	EOF
	start_bg app.yaml
	wait_for 10 seen quiet 0 starting
	wait_for 10 seen told 0 online
	told=$(cat "$BATS_TEST_TMPDIR/seen-online")
	wait_for 10 seen quiet 0 online
	wait_start 0
	[ "$(cat "$BATS_TEST_TMPDIR/seen-online")" -ge 1000 ]
	# READY=1 came first: how much before auto's 1 s is a wall-clock
	# figure, make bench's (figure 3).
	echo "told online after $told ms"
	[ -n "$(env_of "$(app_pids quiet)" NOTIFY_SOCKET)" ]
}

@test "READY=1 from a process that is not an instance is ignored" {
	make_notify
	# never waits for a READY=1 of its own; gate tells READY=1 (from its
	# leader) only once the file "go" exists.
	write_spec app.yaml <<-EOF
	apps:
	  - name: never
	    command: ["sleep", "1000"]
	    ready: notify
	    ready_timeout: 60s
	  - name: gate
	    command: ["sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; exec python3 notify.py --wait READY=1"]
	    ready: notify
	    ready_timeout: 60s
	EOF
	start_bg app.yaml
	wait_for 10 seen never 0 starting
	pid=$(app_pids never)
	sock=$(env_of "$pid" NOTIFY_SOCKET)
	[ -n "$sock" ]

	# A stranger, alive while pmcd reads it, claims to be ready.
	NOTIFY_SOCKET=$sock python3 notify.py --wait READY=1 STATUS=forged \
	    > stranger.out 2>&1 3>&- &
	SENDER_PID=$!
	wait_for 5 grep -q sent stranger.out
	# gate's READY=1 reaches pmcd after the stranger's: once gate is
	# online, pmcd has read the stranger's message too.
	touch go
	wait_for 10 seen gate 0 online
	[ "$(status_of never 0 | cut -d' ' -f1)" = starting ]
	run -0 "$PMC" describe never
	[[ "$output" != *"forged"* ]]
}

@test "READY=1 and STATUS= from a process of the instance's group count; describe shows the status" {
	make_notify
	port=$(free_port)
	# The leader is demo-httpd, which tells nothing; a process of its
	# group (forked by the shell before the exec) tells READY=1.
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sh", "-c", "python3 notify.py --wait READY=1 'STATUS=warming up, 3 of 4' & exec $DEMO"]
	    listen: 127.0.0.1:$port
	    ready: notify
	    ready_timeout: 30s
	EOF
	run -0 "$PMC" start app.yaml
	all_online web 1
	leader=$(app_pids web)
	[ "$(http_get "$port" /pid)" = "$leader" ]
	run -0 "$PMC" describe web
	[[ "$output" == *"web[0]: online, pid $leader"*$'\n    status: warming up, 3 of 4'* ]]
}

@test "the leader's own STATUS= updates replace the last one" {
	make_notify
	port=$(free_port)
	# The leader tells READY=1, then execs a program that tells STATUS=.
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["python3", "notify.py", "READY=1", "STATUS=starting up", "--then", "python3", "notify.py", "STATUS=all good", "--then", "$DEMO"]
	    listen: 127.0.0.1:$port
	    ready: notify
	EOF
	run -0 "$PMC" start app.yaml
	leader=$(app_pids web)
	[ "$(http_get "$port" /pid)" = "$leader" ]
	wait_for 5 described web "status: all good"
	run -0 "$PMC" describe web
	[[ "$output" != *"status: starting up"* ]]
}

@test "a notify message holding a NUL byte is ignored whole, and logged" {
	# As systemd does: "READY=1\0" does not count.  The app then says
	# STATUS=, which pmcd does take, once the file "go" exists.
	cat > nul.py <<-'EOF'
	import os, socket, time
	addr = os.environ["NOTIFY_SOCKET"]
	if addr.startswith("@"):
	    addr = "\0" + addr[1:]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.sendto(b"READY=1\0STATUS=hidden", addr)
	while not os.path.exists("go"):
	    time.sleep(0.05)
	s.sendto(b"STATUS=after the NUL", addr)
	while True:
	    time.sleep(1)
	EOF
	write_spec app.yaml <<-EOF
	apps:
	  - name: nul
	    command: ["python3", "nul.py"]
	    ready: notify
	    ready_timeout: 60s
	EOF
	start_bg app.yaml
	wait_for 10 grep -qF 'nul[0]: a notify message holding a NUL byte was ignored' \
	    "$PMC_HOME/pmcd.log"
	touch go
	wait_for 10 described nul "status: after the NUL"
	[ "$(status_of nul 0 | cut -d' ' -f1)" = starting ]
	run -0 "$PMC" describe nul
	[[ "$output" != *hidden* ]]
}

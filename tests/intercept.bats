#!/usr/bin/env bats
#
# intercept_bind, seen from pmcd: the shim is preloaded into the instances
# of such an app and into no other, its listen() makes an instance ready
# under `ready: auto` (not the bind before it), and an app that needs the
# shim fails to start, saying so, when there is none.  How soon it is
# ready, well before auto's 1 s fallback, is a wall-clock figure: make
# bench measures it (figure 3), a test on a busy machine could not.
#
# The servers here are python3 programs: under `make asan` demo-httpd is
# built with ASan, which aborts when another library is preloaded first.

load helper

bats_require_minimum_version 1.5.0

# Debian's own python3, quick to start, not whichever comes first in PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# maps_shim PID: true when the shim is mapped into the process.
maps_shim() {
	grep -q '/libpmc-shim\.so$' "/proc/$1/maps"
}

# http_server_spec FILE NAME PORT INTERCEPT [LISTEN]: python3 -m
# http.server on 127.0.0.1:PORT, one instance, ready: auto.
http_server_spec() {
	{
		printf 'apps:\n  - name: %s\n' "$2"
		printf '    command: ["%s", "-m", "http.server", "%s", "--bind", "127.0.0.1"]\n' \
		    "$PY" "$3"
		printf '    intercept_bind: %s\n' "$4"
		[ -z "${5:-}" ] || printf '    listen: %s\n' "$5"
	} > "$1"
}

@test "an intercepted python http.server is online and serves" {
	port=$(free_port)
	http_server_spec app.yaml web "$port" true "127.0.0.1:$port"
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(app_statuses web)" = online ]
	# How soon (its listen(), before ready: auto's 1 s fallback) is a
	# figure of make bench: figure 3, "ready: auto through the shim".
	echo "online after $(slot_field web 0 uptime_ms)ms"
	http_get "$port" / | grep -q 'Directory listing'
}

@test "without the shim, the same server is online only by ready: auto's 1 s" {
	# No listen and no intercept_bind: it binds a port of its own, and
	# nothing tells pmcd that it listens.
	port=$(free_port)
	http_server_spec app.yaml web "$port" false
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$(app_statuses web)" = online ]
	uptime=$(slot_field web 0 uptime_ms)
	echo "online after ${uptime}ms"
	[ "$uptime" -ge 1000 ]
	wait_for 5 http_get "$port" / > /dev/null
}

@test "readiness comes from listen(), not bind(): a server that waits between the two is online once it listens" {
	port=$(free_port)
	# Binds, waits 300 ms, writes ./listening, then listens and answers.
	cat > late.py <<-'EOF'
	import socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", int(sys.argv[1])))
	time.sleep(0.3)
	open("listening", "w").close()
	s.listen(16)
	while True:
	    c, _ = s.accept()
	    c.recv(4096)
	    c.sendall(b"HTTP/1.0 200 OK\r\n\r\nlate\n")
	    c.close()
	EOF
	cat > app.yaml <<-EOF
	apps:
	  - name: late
	    command: ["$PY", "late.py", "$port"]
	    listen: 127.0.0.1:$port
	    intercept_bind: true
	    ready: auto
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	# Online only once it listened (the file is written just before).
	[ -e listening ]
	echo "online after $(slot_field late 0 uptime_ms)ms"
	[ "$(app_statuses late)" = online ]
	[ "$(http_get "$port" /)" = late ]
}

@test "LD_PRELOAD names the shim in an intercept_bind instance, and in no other" {
	port=$(free_port)
	other=$(free_port)
	http_server_spec app.yaml web "$port" true "127.0.0.1:$port"
	cat >> app.yaml <<-EOF
	  - name: plain
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$other
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	wait_for 5 all_online web 1
	wait_for 5 all_online plain 1
	web=$(slot_field web 0 pid)
	plain=$(slot_field plain 0 pid)
	preload=$(env_of "$web" LD_PRELOAD)
	echo "web: LD_PRELOAD=$preload"
	[ "$(realpath "$preload")" = "$(realpath "$SHIM")" ]
	maps_shim "$web"
	[ -z "$(env_of "$plain" LD_PRELOAD)" ]
	run -1 maps_shim "$plain"
	[[ "$(http_get "$other" /)" == "hello from pid $plain "* ]]
}

@test "intercept_bind with no shim to be found: start fails saying so, other apps run" {
	# A pmcd with no lib/ beside its bin/ looks in the installed SHIMDIR.
	[ ! -e /usr/local/lib/pmc/libpmc-shim.so ] ||
	    skip "a shim is installed in /usr/local/lib/pmc"
	mkdir -p copy/bin
	cp "$PMC" "$PMCD" copy/bin/
	PMC=$BATS_TEST_TMPDIR/copy/bin/pmc
	export PMCD=$BATS_TEST_TMPDIR/copy/bin/pmcd
	unset PMC_SHIM
	port=$(free_port)
	other=$(free_port)
	http_server_spec app.yaml web "$port" true "127.0.0.1:$port"
	cat >> app.yaml <<-EOF
	  - name: plain
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$other
	EOF
	pmc_start app.yaml
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "pmc: "*"web[0]: intercept_bind: libpmc-shim.so not found"* ]]
	[ "$(app_statuses web)" = errored ]
	# The pmcd that runs is the copy.
	[ "$(readlink "/proc/$(cat "$PMC_HOME/pmcd.pid")/exe")" = "$PMCD" ]
	wait_for 5 all_online plain 1
	[[ "$(http_get "$other" /)" == "hello from pid "* ]]
}

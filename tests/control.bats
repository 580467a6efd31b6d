#!/usr/bin/env bats
# control.bats -- the control socket under a bad or hostile peer: garbage,
# lies in the header, half messages, wrong versions, unknown requests,
# silent clients, too many clients, other users.  Whatever a peer sends,
# pmcd keeps running its apps and answering `pmc`.

bats_require_minimum_version 1.5.0
load helper
load nobody

MSG_PING=1
MSG_STOP=5

# A test's background client ($bg) goes with it, even when the test fails.
teardown() {
	if [ -n "${bg:-}" ]; then
		kill "$bg" 2>/dev/null || true
		wait "$bg" 2>/dev/null || true
	fi
	nobody_cleanup
}

# raw VERSION TYPE LEN FLAGS [PAYLOAD]: send one header (host byte order)
# and PAYLOAD, a Python bytes expression (default b""), on pmc.sock, then
# print each reply as "OUT|ERR|DATA|EXIT field|field..." one a line, and
# last "EOF" when pmcd closes, "RESET" when it resets the connection, or
# "TIMEOUT" when it says nothing for 5 s.  Run from $SOCKDIR when set.
raw() {
	python3 - "$@" <<-'EOF'
	import os, socket, struct, sys
	names = {100: "OUT", 101: "ERR", 102: "DATA", 103: "EXIT"}
	ver, typ, ln, flags = (int(a, 0) for a in sys.argv[1:5])
	payload = eval(sys.argv[5]) if len(sys.argv) > 5 else b""
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ.get("SOCK", os.environ["PMC_HOME"] + "/pmc.sock"))
	s.settimeout(5)
	try:
	    s.sendall(struct.pack("=IIII", ver, typ, ln, flags) + payload)
	except (BrokenPipeError, ConnectionResetError):
	    pass
	buf = b""
	end = "EOF"
	while True:
	    try:
	        b = s.recv(65536)
	    except ConnectionResetError:
	        end = "RESET"
	        break
	    except socket.timeout:
	        end = "TIMEOUT"
	        break
	    if not b:
	        break
	    buf += b
	while len(buf) >= 16:
	    v, t, n, f = struct.unpack("=IIII", buf[:16])
	    body, buf = buf[16:16 + n], buf[16 + n:]
	    fields = body[:-1].split(b"\0") if body else []
	    print(names.get(t, str(t)), "|".join(x.decode() for x in fields))
	if buf:
	    print("PARTIAL", len(buf))
	print(end)
	EOF
}

# still_fine: the same pmcd answers ping and list, and web runs unchanged.
still_fine() {
	kill -0 "$pmcd_pid"
	[ "$(cat "$PMC_HOME/pmcd.pid")" = "$pmcd_pid" ]
	run -0 timeout 5 "$PMC" ping
	[ "$output" = "pong" ]
	all_online web 2
	[ "$(app_pids web)" = "$web_pids" ]
	run -0 http_get "$port" /
	[[ "$output" == "hello from pid "* ]]
}

@test "1 MB of random bytes on the socket leaves pmcd serving" {
	start_web
	for i in 1 2 3; do
		python3 - <<-'EOF'
		import os, socket
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
		s.settimeout(5)
		try:
		    s.sendall(os.urandom(1 << 20))
		    while s.recv(65536):
		        pass
		except (BrokenPipeError, ConnectionResetError):
		    pass
		EOF
	done
	# A valid request followed by garbage is still one request.
	run -0 raw $PMC_PROTO $MSG_PING 0 0 'os.urandom(1 << 20)'
	still_fine
}

@test "a header announcing more than the message bound is refused" {
	start_web
	for len in 0xffffffff $(( 4 * 1024 * 1024 + 1 )); do
		run -0 raw $PMC_PROTO $MSG_PING "$len" 0
		echo "$output"
		# An error and exit 2, or a plain close: never an answer.
		[ "${lines[-1]}" = EOF ] || [ "${lines[-1]}" = RESET ]
		[[ "$output" != *pong* ]]
		if [ "${#lines[@]}" -gt 1 ]; then
			[[ "${lines[0]}" == "ERR "* ]]
			[ "${lines[1]}" = "EXIT 2" ]
		fi
	done
	still_fine
}

@test "a truncated message, then close, leaves pmcd serving" {
	start_web
	# Half a header.
	python3 - <<-'EOF'
	import os, socket
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	s.sendall(b"\x01\x00\x00\x00\x05\x00")
	s.close()
	EOF
	# A whole header promising 100 bytes, and 3 of them.
	python3 - <<-'EOF'
	import os, socket, struct
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	s.sendall(struct.pack("=IIII", int(os.environ["PMC_PROTO"]), 5, 100, 0) + b"web")
	s.close()
	EOF
	still_fine
}

@test "a wrong protocol version is answered 'incompatible pmc and pmcd'" {
	start_web
	run -0 raw $((PMC_PROTO + 1)) $MSG_PING 0 0
	echo "$output"
	[ "${lines[0]}" = "ERR incompatible pmc and pmcd" ]
	[ "${lines[-1]}" = EOF ]
	[[ "$output" != *pong* ]]
	still_fine
}

@test "an unknown message type is answered MSG_ERR and MSG_EXIT 2" {
	start_web
	run -0 raw $PMC_PROTO 9999 0 0
	echo "$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "ERR "*9999* ]]
	[ "${lines[1]}" = "EXIT 2" ]
	[ "${lines[2]}" = EOF ]
	still_fine
}

@test "a payload without its final NUL is refused and not acted on" {
	start_web
	run -0 raw $PMC_PROTO $MSG_STOP 3 0 'b"web"'
	echo "$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "ERR "* ]]
	[ "${lines[1]}" = "EXIT 2" ]
	[ "${lines[2]}" = EOF ]
	# The same request, well formed, does stop web: the bytes were right.
	still_fine
	run -0 raw $PMC_PROTO $MSG_STOP 4 0 'b"web\0"'
	[ "${lines[-2]}" = "EXIT 0" ]
	[ "$(app_statuses web)" = "stopped stopped" ]
}

@test "a client that connects and says nothing does not block others" {
	start_web
	python3 - > silent.out 3>&- <<-'EOF' &
	import os, socket, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	print("connected", flush=True)
	time.sleep(30)
	EOF
	bg=$!
	wait_for 5 grep -q connected silent.out
	run -0 timeout 5 "$PMC" list
	[[ "$output" == *web* ]]
	still_fine
	kill "$bg"
	wait "$bg" || true
	bg=
}

@test "the socket is mode 0600 in a folder of mode 0700" {
	start_web
	[ -S "$PMC_HOME/pmc.sock" ]
	[ "$(stat -c %a "$PMC_HOME/pmc.sock")" = 600 ]
	[ "$(stat -c %a "$PMC_HOME")" = 700 ]
	[ "$(stat -c %u "$PMC_HOME")" = "$(id -u)" ]
}

# home_refused WHY: pmc ping, list and start, and pmcd, each refuse
# PMC_HOME with "PMC_HOME: WHY" (a glob pattern), and nothing runs there.
home_refused() {
	run -1 --separate-stderr "$PMC" ping
	echo "$stderr"
	[[ "$stderr" == "pmc: $PMC_HOME: "$1 ]]
	run -1 --separate-stderr "$PMC" list
	[[ "$stderr" == "pmc: $PMC_HOME: "$1 ]]
	write_spec app.yaml <<-EOF
	apps:
	  - name: w
	    command: ["sleep", "100"]
	EOF
	run -1 --separate-stderr "$PMC" start app.yaml 3>&-
	[[ "$stderr" == "pmc: $PMC_HOME: "$1 ]]
	# pmcd itself refuses it too, and does not run.
	run -1 --separate-stderr timeout 5 "$PMCD" -f 3>&-
	[[ "$stderr" == *"$PMC_HOME: "$1 ]]
	[ ! -e "$PMC_HOME/pmc.sock" ]
	[ ! -e "$PMC_HOME/pmcd.pid" ]
}

@test "pmc and pmcd refuse a group or world writable PMC_HOME" {
	for mode in 0770 0702 0777; do
		rm -rf "$PMC_HOME"
		mkdir -m "$mode" "$PMC_HOME"
		chmod "$mode" "$PMC_HOME"
		echo "mode $mode"
		home_refused '*writable*'
	done
}

@test "a client of another uid gets no answer (SO_PEERCRED)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as nobody"
	command -v setpriv >/dev/null || skip "needs setpriv"
	# A python3 that nobody may run (a pyenv shim under /root is not).
	py=
	for p in $(type -ap python3); do
		if setpriv --reuid nobody --regid nogroup --clear-groups \
		    "$p" -c '' 2>/dev/null; then
			py=$p
			break
		fi
	done
	[ -n "$py" ] || skip "no python3 that nobody can run"
	start_web
	as_nobody() {
		(cd "$PMC_HOME" && setpriv --reuid nobody \
		    --regid nogroup --clear-groups "$py" -) <<-'EOF'
		import os, socket, struct
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		try:
		    s.connect("pmc.sock")
		except PermissionError:
		    print("EACCES")
		    raise SystemExit(0)
		s.settimeout(5)
		try:
		    s.sendall(struct.pack("=IIII", int(os.environ["PMC_PROTO"]), 1, 0, 0))
		    data = b""
		    while True:
		        b = s.recv(4096)
		        if not b:
		            break
		        data += b
		    print("pong" if b"pong" in data else "EOF", len(data))
		except (BrokenPipeError, ConnectionResetError):
		    print("RESET")
		except socket.timeout:
		    print("TIMEOUT")
		EOF
	}
	# As set up by pmcd, nobody cannot even reach the socket.
	run -0 as_nobody
	[ "$output" = EACCES ]

	# Open the file system to everyone: only SO_PEERCRED is left.
	chmod 0711 "$PMC_HOME"
	chmod 0666 "$PMC_HOME/pmc.sock"
	# The same client as root gets its answer...
	run -0 raw $PMC_PROTO $MSG_PING 0 0
	[ "${lines[0]}" = "OUT pong" ]
	# ...and as nobody, a closed connection and not a byte.
	run -0 as_nobody
	echo "$output"
	[ "$output" = "EOF 0" ] || [ "$output" = RESET ]
	grep -q 'refused a client of uid 65534' "$PMC_HOME/pmcd.log"
	still_fine
}

@test "65 and more idle clients: the oldest idle ones make room, pmc still answers" {
	start_web
	python3 - > many.out 3>&- <<-'EOF' &
	import os, select, socket, time
	socks = []
	for i in range(70):
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	    s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	    socks.append(s)
	# Count the connections pmcd closes at once: the refused ones.
	closed = set()
	deadline = time.time() + 3
	while time.time() < deadline:
	    r, _, _ = select.select([s for s in socks if s not in closed],
	        [], [], 0.2)
	    for s in r:
	        try:
	            if not s.recv(1):
	                closed.add(s)
	        except ConnectionResetError:
	            closed.add(s)
	print("closed", len(closed), flush=True)
	time.sleep(30)
	EOF
	bg=$!
	wait_for 10 grep -q '^closed' many.out
	cat many.out
	kill -0 "$pmcd_pid"
	# 70 connected, 64 are kept: the 6 oldest idle ones closed.
	[ "$(cat many.out)" = "closed 6" ]
	grep -q 'too many clients; dropped the oldest' "$PMC_HOME/pmcd.log"
	# Full of stalled clients: a real one still gets its answer.
	run -0 timeout 5 "$PMC" ping
	[ "$output" = pong ]

	kill "$bg"
	wait "$bg" || true
	bg=
	wait_for 5 "$PMC" ping
	still_fine
}

# --- others' files, others' daemons, silent clients ------------------------

@test "pmc and pmcd refuse a PMC_HOME owned by another user" {
	need_nobody
	mkdir -m 0700 "$PMC_HOME"
	chown nobody:nogroup "$PMC_HOME"
	home_refused 'owned by uid 65534, not by us (uid 0)'
}

@test "pmc refuses a control socket owned by another user, or not a socket" {
	need_nobody
	start_web
	chown nobody "$PMC_HOME/pmc.sock"
	want="pmc: $PMC_HOME/pmc.sock: owned by uid 65534, not by us (uid 0)"
	run -1 --separate-stderr "$PMC" ping
	[ "$stderr" = "$want" ]
	# Not taken for a dead pmcd either: start starts no second one.
	run -1 --separate-stderr "$PMC" start app.yaml 3>&-
	[ "$stderr" = "$want" ]
	[ "$(cat "$PMC_HOME/pmcd.pid")" = "$pmcd_pid" ]
	chown root "$PMC_HOME/pmc.sock"
	still_fine

	run -0 "$PMC" kill
	wait_for 10 gone "$pmcd_pid"
	: > "$PMC_HOME/pmc.sock"
	run -1 --separate-stderr "$PMC" ping
	[ "$stderr" = "pmc: $PMC_HOME/pmc.sock: not a socket" ]
	run -1 --separate-stderr "$PMC" start app.yaml 3>&-
	[ "$stderr" = "pmc: $PMC_HOME/pmc.sock: not a socket" ]
	[ ! -e "$PMC_HOME/pmcd.pid" ]
}

@test "a pmcd of another user serves root and refuses a third uid (SO_PEERCRED)" {
	need_nobody
	nobody_python
	nobody_home
	# pmcd runs as nobody, in nobody's PMC_HOME, and detaches.
	run -0 as_nobody env PMC_HOME="$PMC_HOME" "$PMCD" 3>&-
	wait_for 5 test -S "$PMC_HOME/pmc.sock"
	pid=$(cat "$PMC_HOME/pmcd.pid")
	[ "$(stat -c %U "/proc/$pid")" = nobody ]
	run -0 as_nobody env PMC_HOME="$PMC_HOME" "$PMC" ping
	[ "$output" = pong ]
	# Open the file system to anyone: SO_PEERCRED alone decides.
	chmod 0711 "$PMC_HOME"
	chmod 0666 "$PMC_HOME/pmc.sock"
	ping_as() {
		setpriv --reuid "$1" --regid "$1" --clear-groups "$NOBODY_PY" - \
		    "$PMC_HOME/pmc.sock" <<-'EOF'
		import os, socket, struct, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.connect(sys.argv[1])
		s.settimeout(5)
		data = b""
		try:
		    s.sendall(struct.pack("=IIII", int(os.environ["PMC_PROTO"]), 1, 0, 0))
		    while True:
		        b = s.recv(4096)
		        if not b:
		            break
		        data += b
		except (BrokenPipeError, ConnectionResetError):
		    pass
		print("pong" if b"pong" in data else "refused %d" % len(data))
		EOF
	}
	# root (uid 0) is served by anyone's pmcd...
	run -0 ping_as 0
	[ "$output" = pong ]
	# ...uid 1 (daemon), neither root nor nobody, is not.
	run -0 ping_as 1
	[ "$output" = "refused 0" ]
	grep -q 'refused a client of uid 1$' "$PMC_HOME/pmcd.log"
	run -0 as_nobody env PMC_HOME="$PMC_HOME" "$PMC" ping
	[ "$output" = pong ]
}

@test "a client that says nothing is dropped after 10 s" {
	start_web
	python3 - > silent.out 3>&- <<-'EOF' &
	import os, socket, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	t = time.time()
	print("connected", flush=True)
	s.settimeout(20)
	try:
	    b = s.recv(1)
	    print("closed after %.1f s, %d bytes" % (time.time() - t, len(b)),
	        flush=True)
	except socket.timeout:
	    print("still open after 20 s", flush=True)
	EOF
	bg=$!
	wait_for 5 grep -q connected silent.out
	wait_for 25 grep -q -e closed -e still silent.out
	cat silent.out
	# Not before the 10 s (a timer may fire late on a busy machine, not
	# early); the client's own 20 s bound it from above.
	grep -Eq '^closed after (9\.[5-9]|1[0-9]\.[0-9]) s, 0 bytes$' silent.out
	wait "$bg"
	bg=
	still_fine
}

@test "a client that reads nothing of its reply is dropped after 10 s" {
	start_web
	# An app whose describe is some 300 kB: more than a socket holds.
	python3 - > big.yaml <<-'EOF'
	print("apps:\n  - name: big\n    command: [\"sleep\", \"1000\"]")
	print("    ready: delay:100ms\n    env:")
	for i in range(3):
	    print("      BIG%d: %s" % (i, "x" * 100000))
	EOF
	run -0 "$PMC" start big.yaml 3>&-
	run -0 "$PMC" describe big
	full=${#output}
	[ "$full" -gt 300000 ]
	python3 - > stalled.out 3>&- <<-'EOF' &
	import os, select, socket, struct, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["PMC_HOME"] + "/pmc.sock")
	s.sendall(struct.pack("=IIII", int(os.environ["PMC_PROTO"]), 4, 4, 0) + b"big\0")
	t = time.time()
	print("asked", flush=True)
	# Read nothing until pmcd hangs up (20 s at most).
	p = select.poll()
	p.register(s, select.POLLRDHUP)
	p.poll(20000)
	print("hung up after %.1f s" % (time.time() - t), flush=True)
	got, end = 0, "EOF"
	s.settimeout(5)
	try:
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        got += len(b)
	except ConnectionResetError:
	    end = "RESET"
	except socket.timeout:
	    end = "TIMEOUT"
	print("read", got, end, flush=True)
	EOF
	bg=$!
	wait_for 5 grep -q asked stalled.out
	# Meanwhile pmcd serves others.
	still_fine
	wait_for 25 grep -q '^read' stalled.out
	cat stalled.out
	wait "$bg"
	bg=
	read -r _ got end < <(grep '^read' stalled.out)
	# Hung up on, not before the 10 s; what the socket held, then the
	# end: not the whole reply.
	grep -Eq '^hung up after (9\.[5-9]|1[0-9]\.[0-9]) s$' stalled.out
	[ "$end" = EOF ] || [ "$end" = RESET ]
	[ "$got" -lt "$full" ]
	still_fine
}

#!/usr/bin/env bats
#
# The preload shim, libpmc-shim.so (intercept_bind): a server that binds
# its own port gets the listen socket it was handed instead, and every
# other bind, close and exec behaves as without the shim.
#
# A launcher stands in for pmcd: it binds and listens, then runs a command
# with LD_PRELOAD set and the sockets the systemd way (fds 3.., LISTEN_FDS,
# LISTEN_PID = the command's own pid); SHIM_TEST_INO lists their inodes
# so that shim-probe can tell whether the socket it bound is one of them.

load helper

bats_require_minimum_version 1.5.0

PROBE=$PMC_TESTBIN/shim-probe

# launcher [-n FILE] [-l other] [-P FILE] LISTEN... -- COMMAND...
#	-n: NOTIFY_SOCKET is an abstract datagram socket; what arrives on
#	    it is written to FILE, a line each, when COMMAND has exited.
#	-l other: LISTEN_PID is the launcher's pid, not COMMAND's.
#	-P: append COMMAND's pid to FILE.
# Exits with COMMAND's status; SIGTERM is passed on to COMMAND.
LAUNCHER='
import fcntl, os, signal, socket, sys

args, opts = sys.argv[1:], {}
while args[0] in ("-n", "-l", "-P", "-p"):
    opts[args[0]], args = args[1], args[2:]
cut = args.index("--")
addrs, argv = args[:cut], args[cut + 1:]

def listen_on(a):
    if a.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(a[5:])
    else:
        six = a.startswith("[")
        host, port = a[1:].rsplit("]:", 1) if six else a.rsplit(":", 1)
        s = socket.socket(socket.AF_INET6 if six else socket.AF_INET)
        if six:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    s.listen(128)
    return s

socks = [listen_on(a) for a in addrs]
env = dict(os.environ)
env.update(LISTEN_FDS=str(len(socks)), LISTEN_FDNAMES=":".join(["t"] * len(socks)),
    SHIM_TEST_INO=",".join(str(os.fstat(s.fileno()).st_ino) for s in socks))
if "-p" in opts:
    env["LD_PRELOAD"] = opts["-p"]
ns = None
if "-n" in opts:
    name = "pmc-test/%d/notify" % os.getpid()
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind("\0" + name)
    env["NOTIFY_SOCKET"] = "@" + name
pid = os.fork()
if pid == 0:
    high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100) for s in socks]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)
    os.closerange(3 + len(socks), 65536)
    env["LISTEN_PID"] = str(os.getppid() if opts.get("-l") else os.getpid())
    try:
        os.execvpe(argv[0], argv, env)
    finally:
        os._exit(127)
if "-P" in opts:
    with open(opts["-P"], "a") as f:
        f.write("%d\n" % pid)
signal.signal(signal.SIGTERM, lambda *a: os.kill(pid, signal.SIGTERM))
msgs = []
while True:
    if ns is None:
        _, st = os.waitpid(pid, 0)
        break
    ns.settimeout(0.05)
    try:
        msgs.append(ns.recv(4096))
    except socket.timeout:
        pass
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
if ns is not None:
    ns.setblocking(False)
    try:
        while True:
            msgs.append(ns.recv(4096))
    except BlockingIOError:
        pass
    with open(opts["-n"], "w") as f:
        f.write("".join(m.decode() + "\n" for m in msgs))
code = os.waitstatus_to_exitcode(st)
sys.exit(code if code >= 0 else 128 - code)
'

setup() {
	pmc_setup
	pids=$BATS_TEST_TMPDIR/pids
	out=$BATS_TEST_TMPDIR/out
	err=$BATS_TEST_TMPDIR/err
	: > "$pids"
}

# Stop what the test started, by pid: the launchers and their commands.
teardown() {
	local pid
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || continue
		wait_for 5 not_alive "$pid" || kill -KILL "$pid" 2>/dev/null
	done < "$pids"
	return 0
}

# launch LAUNCHER-ARGS...: the launcher in the background, preloading the
# shim; $lpid is its pid, $out and $err what it and its command print.
launch() {
	python3 -c "$LAUNCHER" -p "$SHIM" -P "$pids" "$@" >"$out" 2>"$err" 3>&- &
	lpid=$!
	echo "$lpid" >> "$pids"
}

# finish: wait until the launcher (and so its command) has exited; fails
# when the command failed.
finish() {
	wait "$lpid"
}

# answers CURL-ARGS...: true once the probe has answered a request.
answers() {
	[ "$(curl -sS --max-time 5 "$@" 2>/dev/null)" = shim-probe ]
}

# saw LINE: the probe printed exactly LINE; shows its output otherwise.
saw() {
	grep -qxF -- "$1" "$out" && return 0
	{ echo "expected \"$1\"; stdout:"; cat "$out"; echo "stderr:"
	    cat "$err"; } >&2
	return 1
}

# probe_serves LISTEN BIND URL [PROBE-OPTION...]: run shim-probe binding
# BIND, with LISTEN handed over, until it has answered on URL and exited.
probe_serves() {
	local listen=$1 bind=$2 url=$3
	shift 3
	launch "$listen" -- "$PROBE" "$@" "$bind"
	wait_for 10 answers "$url"
	finish
}

have_ipv6() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null
}

# A TCP port on ::1 that nothing listens on now.
free_port6() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])'
}

# lists PORT: http.server answers with a directory listing.
lists() {
	curl -sS --max-time 5 "http://127.0.0.1:$1/" 2>/dev/null |
	    grep -q 'Directory listing'
}

@test "a bind on the listen address gets the inherited socket" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/"
	saw "start fd3=closed listen_fds=unset"
	saw "bound 127.0.0.1:$port"
	saw "inherited yes"
	saw "accepting 1"
	saw "served"
}

@test "a wildcard bind on the port gets the socket, and getsockname tells its address" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "0.0.0.0:$port" "http://127.0.0.1:$port/"
	saw "bound 127.0.0.1:$port"
	saw "inherited yes"
}

@test "with two listen sockets, a bind gets the one of its address" {
	port=$(free_port)
	other=$(free_port)
	[ "$port" != "$other" ] || other=$(free_port)
	launch "127.0.0.1:$port" "127.0.0.1:$other" -- "$PROBE" \
	    "0.0.0.0:$other"
	wait_for 10 answers "http://127.0.0.1:$other/"
	finish
	saw "start fd3=closed listen_fds=unset"
	saw "bound 127.0.0.1:$other"
	saw "inherited yes"
}

@test "a bind to another port passes through" {
	port=$(free_port)
	other=$(free_port)
	[ "$port" != "$other" ] || other=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$other" \
	    "http://127.0.0.1:$other/"
	saw "bound 127.0.0.1:$other"
	saw "inherited no"
	saw "accepting 0"
}

@test "a bind to another address on the port passes through" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.2:$port" \
	    "http://127.0.0.2:$port/"
	saw "bound 127.0.0.2:$port"
	saw "inherited no"
}

@test "a UDP bind on the port passes through" {
	port=$(free_port)
	launch "127.0.0.1:$port" -- "$PROBE" -U "127.0.0.1:$port"
	finish
	saw "bound 127.0.0.1:$port"
	saw "inherited no"
}

@test "a bind on an IPv6 listen address gets the inherited socket" {
	have_ipv6 || skip "no IPv6"
	port=$(free_port6)
	probe_serves "[::1]:$port" "[::1]:$port" "http://[::1]:$port/"
	saw "bound [::1]:$port"
	saw "inherited yes"
}

@test "a dual-stack bind on [::] gets an IPv4 listen socket on its port" {
	have_ipv6 || skip "no IPv6"
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "[::]:$port" "http://127.0.0.1:$port/"
	saw "bound 127.0.0.1:$port"
	saw "inherited yes"
}

@test "an IPv6-only bind on [::] does not get an IPv4 listen socket" {
	have_ipv6 || skip "no IPv6"
	port=$(free_port)
	launch "127.0.0.1:$port" -- "$PROBE" -6 "[::]:$port"
	wait_for 10 answers -g "http://[::1]:$port/"
	finish
	saw "bound [::]:$port"
	saw "inherited no"
}

@test "a bind on the path of a unix listen socket gets it" {
	sock=$BATS_TEST_TMPDIR/s.sock
	launch "unix:$sock" -- "$PROBE" "unix:$sock"
	wait_for 10 answers --unix-socket "$sock" http://x/
	finish
	saw "bound unix:$sock"
	saw "inherited yes"
}

@test "a unix socket matches by its file; unlinking it first leaves it be" {
	launch "unix:$BATS_TEST_TMPDIR/s.sock" -- "$PROBE" -u "unix:s.sock"
	wait_for 10 answers --unix-socket "$BATS_TEST_TMPDIR/s.sock" http://x/
	finish
	saw "inherited yes"
	[ -S "$BATS_TEST_TMPDIR/s.sock" ]
}

@test "a server that closes every descriptor from 3 up still gets the socket" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -c
	saw "inherited yes"
}

@test "a server that calls closefrom(3) first still gets the socket" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -f
	saw "inherited yes"
}

@test "a server that calls close_range(3, ~0U) first still gets the socket" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -r
	saw "inherited yes"
}

@test "a server that dup2s over every high descriptor still gets the socket" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -d
	saw "inherited yes"
}

@test "the server's close-on-exec and nonblocking choices hold" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/"
	saw "cloexec 0"
	saw "nonblock 0"
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -e -n
	saw "inherited yes"
	saw "cloexec 1"
	saw "nonblock 1"
}

@test "shutdown of the inherited socket leaves it listening" {
	port=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -S
	saw "inherited yes"
	saw "after shutdown accepting 1"
	# Without the shim the same call does stop a socket listening.
	port=$(free_port)
	other=$(free_port)
	[ "$port" != "$other" ] || other=$(free_port)
	probe_serves "127.0.0.1:$port" "127.0.0.1:$other" \
	    "http://127.0.0.1:$other/" -S
	saw "inherited no"
	saw "after shutdown accepting 0"
}

@test "listen on the inherited socket sends PMC_LISTENING=1 to NOTIFY_SOCKET" {
	port=$(free_port)
	launch -n "$BATS_TEST_TMPDIR/notify" "127.0.0.1:$port" -- \
	    "$PROBE" "127.0.0.1:$port"
	wait_for 10 answers "http://127.0.0.1:$port/"
	finish
	saw "listening"
	[ "$(cat "$BATS_TEST_TMPDIR/notify")" = "PMC_LISTENING=1" ]
}

@test "listen on a socket of its own sends nothing" {
	port=$(free_port)
	other=$(free_port)
	[ "$port" != "$other" ] || other=$(free_port)
	launch -n "$BATS_TEST_TMPDIR/notify" "127.0.0.1:$port" -- \
	    "$PROBE" "127.0.0.1:$other"
	wait_for 10 answers "http://127.0.0.1:$other/"
	finish
	saw "listening"
	[ -f "$BATS_TEST_TMPDIR/notify" ]
	[ ! -s "$BATS_TEST_TMPDIR/notify" ]
}

@test "a program the server runs gets no LD_PRELOAD and no listen socket" {
	port=$(free_port)
	# shellcheck disable=SC2016 # for the child to expand
	cmd='echo "child preload=[$LD_PRELOAD] shim=[$PMC_SHIM_PID]"
for f in /proc/$$/fd/*; do [ "${f##*/}" -lt 100 ] || echo "child fd ${f##*/}"; done'
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -X "$cmd" -x "$cmd"
	saw "inherited yes"
	[ "$(grep -c '^child preload=\[\] shim=\[\]$' "$out")" -eq 2 ]
	run ! grep '^child fd' "$out"
}

@test "once bound, the shim's descriptors are close-on-exec" {
	port=$(free_port)
	# shellcheck disable=SC2016 # for the child to expand
	cmd='echo child ran
for f in /proc/$$/fd/*; do [ "${f##*/}" -lt 100 ] || echo "child fd ${f##*/}"; done'
	probe_serves "127.0.0.1:$port" "127.0.0.1:$port" \
	    "http://127.0.0.1:$port/" -E -x "$cmd"
	saw "child ran"
	run ! grep '^child fd' "$out"
}

@test "a command that execs the server (env, sh -c exec) passes the sockets on" {
	port=$(free_port)
	launch "127.0.0.1:$port" -- env "$PROBE" "127.0.0.1:$port"
	wait_for 10 answers "http://127.0.0.1:$port/"
	finish
	saw "inherited yes"
	port=$(free_port)
	# shellcheck disable=SC2016 # for sh to expand
	launch "127.0.0.1:$port" -- sh -c 'exec "$0" "$1"' "$PROBE" \
	    "127.0.0.1:$port"
	wait_for 10 answers "http://127.0.0.1:$port/"
	finish
	saw "start fd3=closed listen_fds=unset"
	saw "inherited yes"
}

@test "LISTEN_PID of another process: the shim leaves everything alone" {
	port=$(free_port)
	other=$(free_port)
	[ "$port" != "$other" ] || other=$(free_port)
	launch -l other "127.0.0.1:$port" -- "$PROBE" "127.0.0.1:$other"
	wait_for 10 answers "http://127.0.0.1:$other/"
	finish
	saw "start fd3=open listen_fds=1"
	saw "inherited no"
}

@test "python's http.server --bind :: serves on the inherited IPv4 socket" {
	have_ipv6 || skip "no IPv6"
	port=$(free_port)
	launch "127.0.0.1:$port" -- python3 -m http.server --bind :: "$port"
	wait_for 10 lists "$port"
	kill -TERM "$lpid"
	wait "$lpid" || true
}

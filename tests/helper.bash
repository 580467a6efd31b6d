# Shared by every suite: `load helper` at the top of a .bats file.
#
# Each test gets its own PMC_HOME under BATS_TEST_TMPDIR; teardown stops
# the pmcd of that home (and so its instances), by pid, never by name.

TESTS_DIR=$(cd "$BATS_TEST_DIRNAME" && pwd)
ROOT=$(cd "$TESTS_DIR/.." && pwd)
PMC_BIN=${PMC_BIN:-$ROOT/bin}
PMC_TESTBIN=${PMC_TESTBIN:-$ROOT/tests/bin}
PMC_LIB=${PMC_LIB:-$ROOT/lib}
SHIM=$PMC_LIB/libpmc-shim.so
PMC=$PMC_BIN/pmc
PMCD=$PMC_BIN/pmcd
DEMO=$PMC_TESTBIN/demo-httpd
# The control protocol's version, for tests that speak it themselves.
export PMC_PROTO=$(sed -n 's/^#define PMC_PROTO_VERSION[[:space:]]*//p' "$ROOT/config/protocol.h")

# Debian's python3 (tests/deps.sh installs it) before whichever python3
# comes first in PATH, for the helpers and the instances alike: they
# start one in every poll, and a version manager's shim (pyenv's is a
# bash script) takes ten times as long to start.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]
then
	if [ ! -e "$BATS_RUN_TMPDIR/python/python3" ]; then
		mkdir -p "$BATS_RUN_TMPDIR/python"
		ln -s /usr/bin/python3 "$BATS_RUN_TMPDIR/python/python3" 2>/dev/null
	fi
	PATH=$BATS_RUN_TMPDIR/python:$PATH
fi

setup() {
	pmc_setup
}

teardown() {
	pmc_teardown
}

pmc_setup() {
	export PMC_HOME="$BATS_TEST_TMPDIR/home"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# Stop what the test started: its client loop, then its pmcd (ask
# politely, then by signal, then SIGKILL).
pmc_teardown() {
	local pidfile="$PMC_HOME/pmcd.pid" pid
	stop_client_loop
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	# A pmcd that ran as PID 1 of a namespace wrote 1: never signal that.
	[ -n "$pid" ] && [ "$pid" -gt 1 ] 2>/dev/null || return 0
	timeout 10 "$PMC" kill >/dev/null 2>&1 3>&- || true
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait_for 10 not_alive "$pid" || kill -KILL "$pid" 2>/dev/null
	fi
	return 0
}

# A zombie counts as gone: whoever adopted it may take a while to reap it.
not_alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 0
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -z "$state" ] || [ "$state" = Z ]
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds
# or the deadline passes (then fail).
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	while ! "$@"; do
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http GET on 127.0.0.1:PORT[/PATH]; prints the body.
http_get() {
	curl -sS --max-time 5 "http://127.0.0.1:$1${2:-/}"
}

# Write a spec file: write_spec FILE <<EOF ... EOF
write_spec() {
	cat > "$1"
}

# demo_spec FILE NAME INSTANCES LISTEN [MORE-YAML-LINES]: a one-app spec
# of demo-httpd --notify (online as soon as it says READY=1, without
# ready: auto's 1 s fallback), or of $cmd (a YAML flow list) when set.
demo_spec() {
	local file=$1 name=$2 n=$3 listen=$4 line
	shift 4
	{
		printf 'apps:\n  - name: %s\n' "$name"
		printf '    command: %s\n' "${cmd:-[\"$DEMO\", \"--notify\"]}"
		printf '    instances: %s\n    listen: %s\n' "$n" "$listen"
		for line in "$@"; do
			printf '    %s\n' "$line"
		done
	} > "$file"
}

# start_web: app web, 2 demo-httpd instances on a free port ($port),
# started and online; $pmcd_pid and $web_pids as they are then.
start_web() {
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	run -0 "$PMC" start app.yaml 3>&-
	all_online web 2
	pmcd_pid=$(pmcd_pid)
	web_pids=$(app_pids web)
	[ "$(echo "$web_pids" | wc -w)" -eq 2 ]
}

# The pids of instances of app $1 in `pmc list --json`, sorted.
app_pids() {
	"$PMC" list --json | python3 -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin)
    if i["name"] == sys.argv[1] and i["pid"]))' "$1"
}

# slot_field APP SLOT KEY: one value of instance SLOT of APP in `pmc list
# --json`, or nothing.  During a replacement the old instance's (the new
# one that runs beside it comes after).
slot_field() {
	"$PMC" list --json | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    if i["name"] == sys.argv[1] and i["instance"] == int(sys.argv[2]):
        print(i[sys.argv[3]])
        break' "$1" "$2" "$3"
}

# slot_pid APP SLOT: the pid of one instance.
slot_pid() {
	slot_field "$1" "$2" pid
}

# pmcd_logged REGEX: a line of the detached pmcd's log matches.
pmcd_logged() {
	grep -q -- "$1" "$PMC_HOME/pmcd.log"
}

# needs_ebpf: skip unless this process may load eBPF (root, and a kernel
# that lets it: some containers filter bpf(2)), as pmcd's balancer does.
needs_ebpf() {
	[ "$(id -u)" -eq 0 ] || skip "eBPF needs root (CAP_BPF)"
	run "$PMC_TESTBIN/bpfcheck" turns 1 1 0
	[[ "$output" == *"engine ebpf"* ]] ||
	    skip "this kernel refuses eBPF here: $(echo "$output" | grep ^why)"
}

# restarts_at_least APP N: slot 0 of APP was restarted N times or more.
restarts_at_least() {
	[ "$(slot_field "$1" 0 restarts)" -ge "$2" ]
}

# Instance statuses of app $1, one word per instance in slot order.
app_statuses() {
	"$PMC" list --json | python3 -c '
import json, sys
l = sorted((i for i in json.load(sys.stdin) if i["name"] == sys.argv[1]),
    key=lambda i: i["instance"])
print(" ".join(i["status"] for i in l))' "$1"
}

# True when every instance of app $1 is online and there are $2 of them.
all_online() {
	local s
	s=$(app_statuses "$1") || return 1
	[ -n "$s" ] || return 1
	[ "$(echo "$s" | wc -w)" -eq "$2" ] || return 1
	[ -z "$(echo "$s" | tr ' ' '\n' | grep -v '^online$')" ]
}

# True when some instance of app $1 has status $2.
test_statuses_has() {
	app_statuses "$1" | tr ' ' '\n' | grep -qx "$2"
}

# True when some instance of app $1 is stopping.
test_has_stopping() {
	test_statuses_has "$1" stopping
}

# inst_log APP I [out|err]: the lines instance I of app APP wrote on its
# stdout (or stderr), from the app's one file per stream, with pmcd's
# timestamp and "[I] " tag taken off: so `inst_log sig 0 | grep -q
# '^got TERM$'` matches the line the instance printed, whole.  Fails when
# the file does not exist (yet).
inst_log() {
	local f="$PMC_HOME/logs/$1.${3:-out}.log"
	[ -f "$f" ] || return 1
	sed -n -E "s/^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z )?\[$2\] //p" "$f"
}

# inst_logged APP I PATTERN [out|err]: some line of instance I matches
# PATTERN (a grep regular expression); for wait_for.
inst_logged() {
	local lines
	lines=$(inst_log "$1" "$2" "${4:-out}") || return 1
	grep -q -- "$3" <<<"$lines"
}

# --- shared by several suites ----------------------------------------------

# none_shared "A..." "B...": no word of A is in B.
none_shared() {
	local p
	for p in $1; do
		case " $2 " in
		*" $p "*) echo "pid $p in both '$1' and '$2'"; return 1 ;;
		esac
	done
}

pmcd_pid() {
	cat "$PMC_HOME/pmcd.pid"
}

# pmc_start FILE...: `pmc start` under `run`, stderr in $stderr.  The
# pmcd it may start must not hold bats' fd 3.
pmc_start() {
	run --separate-stderr "$PMC" start "$@" 3>&-
}

# env_of PID NAME: a variable as the process was started with it.
env_of() {
	tr '\0' '\n' < "/proc/$1/environ" | sed -n "s/^$2=//p"
}

# gone PID: no such process, or nothing left of it but a zombie.
gone() {
	local st
	st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) ||
	    return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# all_gone PID...: every pid is gone; names the first that is not.
all_gone() {
	local p
	for p in "$@"; do
		gone "$p" || { echo "pid $p still runs" >&2; return 1; }
	done
}

# can_bind PORT: a new server could listen on 127.0.0.1:PORT.
can_bind() {
	python3 - "$1" <<-'EOF'
	import socket, sys
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", int(sys.argv[1])))
	s.listen(1)
	s.close()
	EOF
}

# child_pids APP N: the pids demo-httpd --spawn-child logged, slots 0..N-1.
child_pids() {
	local i
	for ((i = 0; i < $2; i++)); do
		wait_for 5 inst_logged "$1" "$i" '^child ' err || return 1
		inst_log "$1" "$i" err | sed -n 's/^child //p'
	done
}

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# client_loop PORT [PATH]: GET PATH (/pid) on 127.0.0.1:PORT again and
# again in the background until stop_client_loop; answers go to
# $loop/ok, errors to $loop/fail.  While $loop/hold exists it pauses
# between two requests and says so with $loop/held.  Its pid is
# $loop_pid; teardown stops it.
client_loop() {
	loop=$BATS_TEST_TMPDIR/loop
	mkdir -p "$loop"
	: > "$loop/ok"
	: > "$loop/fail"
	(
		while [ ! -e "$loop/stop" ]; do
			if [ -e "$loop/hold" ]; then
				touch "$loop/held"
				sleep 0.01	# a paused client, not a wait
				continue
			fi
			rm -f "$loop/held"
			if out=$(curl -sSf --max-time 10 \
			    "http://127.0.0.1:$1${2:-/pid}" 2>&1); then
				echo "$out" >> "$loop/ok"
			else
				echo "$out" >> "$loop/fail"
			fi
		done
	) 3>&- &
	loop_pid=$!
}

# hold_client_loop: the loop is paused between two requests (none in
# flight) until release_client_loop.
hold_client_loop() {
	touch "$loop/hold"
	wait_for 5 test -e "$loop/held"
}

release_client_loop() {
	rm "$loop/hold"
}

# stop_client_loop: the loop ends after the request in flight, if any.
stop_client_loop() {
	[ -n "${loop_pid:-}" ] || return 0
	touch "$loop/stop"
	wait_for 15 not_alive "$loop_pid" || kill "$loop_pid" 2>/dev/null
	loop_pid=
}

# served_more N: true once the client loop has N answers in all.
served_more() {
	[ "$(grep -c . "$loop/ok")" -ge "$1" ]
}

pmcd_children() {
	pgrep -P "$(cat "$PMC_HOME/pmcd.pid")" | wc -l
}

# same WHAT EXPECTED ACTUAL: fail, showing both, unless they are equal.
same() {
	[ "$2" = "$3" ] && return 0
	printf '%s: expected\n%s\n%s: got\n%s\n' "$1" "$2" "$1" "$3"
	return 1
}

# send_start FILE: send FILE to pmcd as a start request (no look-up
# answers), past the checks of pmc; prints pmcd's answers, exits with the status it sent.
send_start() {
	python3 - "$PMC_HOME/pmc.sock" "$(realpath "$1")" <<'EOF'
import os, socket, struct, sys
path = sys.argv[2]
spec = open(path).read()
payload = b"\0" + path.encode() + b"\0" + spec.encode() + b"\0" + b"\0"
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack("=IIII", int(os.environ["PMC_PROTO"]), 2, len(payload), 0) + payload)
buf = b""
def take(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("pmcd closed the connection")
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out
while True:
    version, kind, n, flags = struct.unpack("=IIII", take(16))
    text = take(n).rstrip(b"\0").decode()
    if kind == 103:
        sys.exit(int(text))
    print(text.rstrip("\n"))
EOF
}

#!/bin/sh
# valgrind.sh -- run pmcd under valgrind memcheck through a scenario: an
# app of several instances, a kill -9 storm, a reload, a scale, a few CLI
# verbs, garbage on the control socket, a stop, then SIGTERM.  Passes when
# valgrind reports no error and nothing definitely lost.
# Usage: tests/valgrind.sh   (after make; `make valgrind` does both)
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
PMC=$ROOT/bin/pmc
PMCD=$ROOT/bin/pmcd
DEMO=$ROOT/tests/bin/demo-httpd

command -v valgrind >/dev/null 2>&1 ||
    { echo "valgrind: not installed (make deps installs it)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmc-valgrind.XXXXXX") || exit 1
export PMC_HOME="$tmp/home"
export PMC_PROTO=$(sed -n 's/^#define PMC_PROTO_VERSION[[:space:]]*//p' "$ROOT/config/protocol.h")
vlog=$tmp/valgrind.log
pmcd_pid=

fail() {
	echo "valgrind: $*" >&2
	[ -f "$vlog" ] && tail -n 40 "$vlog" >&2
	[ -n "$pmcd_pid" ] && kill -KILL "$pmcd_pid" 2>/dev/null
	exit 1
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds or time is up.
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

pids() {
	"$PMC" list --json | python3 -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin) if i["pid"]))'
}

online() {
	"$PMC" list --json | python3 -c '
import json, sys
l = json.load(sys.stdin)
sys.exit(not (len(l) == int(sys.argv[1]) and
    all(i["status"] == "online" for i in l)))' "$1"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/app.yaml" <<EOF
apps:
  - name: web
    command: ["$DEMO", "--notify"]
    instances: 4
    listen: 127.0.0.1:$port
    backoff: {initial: 10ms, max: 100ms}
    kill_timeout: 2s
EOF

mkdir -m 0700 "$PMC_HOME"
# Children run natively after their exec: only pmcd is checked.
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --trace-children=yes --trace-children-skip="$DEMO" \
    --trace-children-skip-by-arg=--check-state \
    --track-fds=no --log-file="$vlog" \
    "$PMCD" -f > "$tmp/pmcd.out" 2>&1 &
pmcd_pid=$!
wait_for 60 "$PMC" ping || fail "pmcd did not answer under valgrind"

echo "valgrind: start (4 instances)"
"$PMC" start "$tmp/app.yaml" >/dev/null || fail "pmc start failed"
wait_for 60 online 4 || fail "web not online"

echo "valgrind: kill -9 storm (20 kills)"
i=0
while [ "$i" -lt 20 ]; do
	set -- $(pids)
	if [ $# -gt 0 ]; then
		shift $(( $(od -An -N2 -tu2 /dev/urandom) % $# ))
		kill -KILL "$1" 2>/dev/null
	fi
	sleep 0.2
	i=$((i + 1))
done
wait_for 60 online 4 || fail "web not back online after the storm"

echo "valgrind: reload, scale 6, scale 2"
"$PMC" reload web >/dev/null || fail "pmc reload failed"
"$PMC" scale web 6 >/dev/null || fail "pmc scale 6 failed"
wait_for 60 online 6 || fail "web not at 6"
"$PMC" scale web 2 >/dev/null || fail "pmc scale 2 failed"
wait_for 60 online 2 || fail "web not at 2"

echo "valgrind: list --json, describe, logs, flush, reopen-logs, ping"
"$PMC" list --json >/dev/null || fail "pmc list --json failed"
"$PMC" describe web >/dev/null || fail "pmc describe failed"
"$PMC" logs -n 5 web >/dev/null || fail "pmc logs failed"
"$PMC" flush web >/dev/null || fail "pmc flush failed"
"$PMC" reopen-logs >/dev/null || fail "pmc reopen-logs failed"
"$PMC" describe nosuch >/dev/null 2>&1

echo "valgrind: garbage on the control socket"
python3 - <<'EOF' || fail "garbage client failed"
import os, socket, struct
path = os.environ["PMC_HOME"] + "/pmc.sock"
def send(b):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(20)
    try:
        s.sendall(b)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()
send(os.urandom(256 << 10))
v = int(os.environ["PMC_PROTO"])
send(struct.pack("=IIII", v, 9999, 0, 0))		# unknown type
send(struct.pack("=IIII", v + 1, 1, 0, 0))		# wrong version
send(struct.pack("=IIII", v, 5, 3, 0) + b"web")		# no final NUL
send(struct.pack("=IIII", v, 5, 100, 0) + b"web")	# truncated
send(struct.pack("=IIII", v, 1, 0xffffffff, 0))		# over the bound
EOF
"$PMC" ping >/dev/null || fail "pmcd no longer answers"

echo "valgrind: pmc update (pmcd executes itself again, under valgrind)"
before=$(pids)
cp "$vlog" "$vlog.before-update"
"$PMC" update >/dev/null || fail "pmc update failed"
[ "$(pids)" = "$before" ] || fail "the instances changed across the update"
set -- $before
kill -KILL "$1"
wait_for 60 online 2 || fail "web not back online after a kill after the update"
"$PMC" list --json >/dev/null || fail "pmc list --json failed after the update"

echo "valgrind: stop, then SIGTERM"
"$PMC" stop web >/dev/null || fail "pmc stop failed"
kill -TERM "$pmcd_pid"
wait "$pmcd_pid"
rc=$?
pmcd_pid=

# Summed over pmcd and any child of it that ended before its exec.  The
# image before pmc update never exits (valgrind starts the log again at
# the exec): its errors are the reports it wrote.
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$vlog" |
    awk '{ n += $1 } END { print NR ? n : "x" }')
before=$(grep -Ec '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|Argument .* of function)' \
    "$vlog.before-update")
cat "$vlog.before-update" >> "$vlog"
[ "$errors" = x ] || errors=$((errors + before))
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$vlog" |
    tr -d , | awk '{ n += $1 } END { print n + 0 }')
if [ "$rc" -ne 0 ] || [ "${errors:-x}" != 0 ] || [ "${definite:-x}" != 0 ]; then
	cat "$vlog" >&2
	echo "valgrind: FAILED: pmcd exit status $rc, ${errors:-?} errors," \
	    "${definite:-?} bytes definitely lost (log: $vlog)" >&2
	exit 1
fi
grep -E 'in use at exit|ERROR SUMMARY' "$vlog" | sed 's/^==[0-9]*== /valgrind: /'
echo "valgrind: 0 errors, 0 definitely lost"
rm -rf "$tmp"

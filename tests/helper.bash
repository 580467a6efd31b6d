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

# Stop the test's pmcd: ask politely, then by signal, then SIGKILL.
pmc_teardown() {
	local pidfile="$PMC_HOME/pmcd.pid" pid
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

# The pids of instances of app $1 in `pmc list --json`, sorted.
app_pids() {
	"$PMC" list --json | python3 -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin)
    if i["name"] == sys.argv[1] and i["pid"]))' "$1"
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

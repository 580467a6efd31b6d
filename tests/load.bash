# load.bash -- a wrk load on a port for as long as an operation takes,
# and its verdict; `load load` in a suite that needs it (its teardown
# stops the load first).
#
# The load runs until the test has seen its operation finish, then
# finish_load stops it: never a fixed window that the operation could
# outlast on a slow or busy machine.  LOAD_BOUND (120 s) only bounds a
# test that hangs.

teardown() {
	stop_load
	pmc_teardown
}

# --- load (wrk) -----------------------------------------------------------

load_connected() {
	ss -Htn state established "( dport = :$1 )" | grep -q .
}

# start_load PORT: wrk on 127.0.0.1:PORT in the background, output in
# wrk.out, until finish_load (or LOAD_BOUND seconds); returns once its
# connections are up.
start_load() {
	command -v wrk >/dev/null 2>&1 ||
	    skip "wrk not installed (tests/deps.sh installs it)"
	wrk -t2 -c16 -d"${LOAD_BOUND:-120}"s --timeout 2s \
	    "http://127.0.0.1:$1/" > "$BATS_TEST_TMPDIR/wrk.out" 2>&1 3>&- &
	WRK_PID=$!
	wait_for 5 load_connected "$1"
}

# load_running: wrk still runs, so all that happened since start_load
# happened under load.
load_running() {
	kill -0 "$WRK_PID" 2>/dev/null ||
	    { echo "wrk ended before the operation did:"; cat "$BATS_TEST_TMPDIR/wrk.out"; return 1; }
}

stop_load() {
	[ -n "${WRK_PID:-}" ] || return 0
	kill "$WRK_PID" 2>/dev/null
	wait "$WRK_PID" 2>/dev/null
	WRK_PID=
	return 0
}

# finish_load: the operation is over: check that wrk still ran, stop it
# (SIGINT: it ends and reports), and set LOAD_REQUESTS, LOAD_CONNECT,
# LOAD_READ, LOAD_WRITE, LOAD_TIMEOUT, LOAD_NON2XX and LOAD_FAILED (their
# sum).  A line wrk leaves out counts 0.
finish_load() {
	local out="$BATS_TEST_TMPDIR/wrk.out" rc=0 errs
	load_running || { stop_load; return 1; }
	kill -INT "$WRK_PID"
	wait "$WRK_PID" || rc=$?
	WRK_PID=
	cat "$out"
	[ "$rc" -eq 0 ] || { echo "wrk exited with status $rc"; return 1; }
	LOAD_REQUESTS=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$out")
	errs=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out")
	read -r LOAD_CONNECT LOAD_READ LOAD_WRITE LOAD_TIMEOUT <<< "$errs"
	LOAD_CONNECT=${LOAD_CONNECT:-0} LOAD_READ=${LOAD_READ:-0}
	LOAD_WRITE=${LOAD_WRITE:-0} LOAD_TIMEOUT=${LOAD_TIMEOUT:-0}
	LOAD_NON2XX=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$out")
	LOAD_NON2XX=${LOAD_NON2XX:-0}
	LOAD_FAILED=$((LOAD_CONNECT + LOAD_READ + LOAD_WRITE + LOAD_TIMEOUT +
	    LOAD_NON2XX))
	[ "${LOAD_REQUESTS:-0}" -gt 0 ] ||
	    { echo "wrk completed no request"; return 1; }
}

# no_failed_requests: finish_load, and not one request failed.
no_failed_requests() {
	finish_load || return 1
	[ "$LOAD_FAILED" -eq 0 ] || {
		echo "$LOAD_FAILED of $LOAD_REQUESTS requests failed" \
		    "(connect $LOAD_CONNECT, read $LOAD_READ, write $LOAD_WRITE," \
		    "timeout $LOAD_TIMEOUT, non-2xx $LOAD_NON2XX)"
		return 1
	}
}

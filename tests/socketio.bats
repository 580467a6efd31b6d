#!/usr/bin/env bats
#
# A real Socket.IO app under pmc (issue 16): which balance modes keep a
# long-polling client on the instance that holds its session.
#
# Socket.IO keeps each session in the process that accepted its
# handshake.  Over long-polling every exchange is an HTTP request, and
# here every request is a new TCP connection (tests/fixtures/socketio/
# client.js says how), so the balancer picks an instance for each; one
# that lands on an instance that does not know the session is answered
# 400 {"code":1,"message":"Session ID unknown"} and the client fails.
#
# balance: shared -- one accept queue: requests go to whichever
#	instance accepts first, so clients fail.  The test asserts it:
#	it is what proves the client can see the failure at all.
# balance: sticky -- one client address, one instance: 200 clients,
#	from 49 source addresses (127.0.0.2 to 127.0.0.50), all finish
#	and are answered by more than one instance, each client by one.
#	When only 127.0.0.1 can be a source address here, all clients
#	come from it and one instance answers them all: the test says so
#	and asserts only that no client failed nor met two instances.
#
# socket.io and socket.io-client come from the npm registry, the exact
# versions of tests/fixtures/socketio/package-lock.json, installed by
# setup_file with `npm ci` into tests/.cache/socketio (git-ignored;
# SOCKETIO_CACHE to put it elsewhere) and reused while the lockfile is
# the same.  npm comes from Debian (tests/deps.sh npm) when missing.
# Without node, npm or the registry (60 s at most), the tests skip and
# say why.

load helper

bats_require_minimum_version 1.5.0

FIXTURE=$TESTS_DIR/fixtures/socketio
CACHE=${SOCKETIO_CACHE:-$TESTS_DIR/.cache/socketio}
INSTANCES=4
CLIENTS=200

# ensure_socketio: the pinned packages in $CACHE; else fails with the
# reason in $SIO_WHY.
ensure_socketio() {
	local out line rc
	if ! command -v node >/dev/null 2>&1; then
		SIO_WHY="node not installed (sh tests/deps.sh installs nodejs)"
		return 1
	fi
	if [ -f "$CACHE/node_modules/socket.io/package.json" ] &&
	    [ -f "$CACHE/node_modules/socket.io-client/package.json" ] &&
	    cmp -s "$FIXTURE/package-lock.json" "$CACHE/installed.json"; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || sh "$ROOT/tests/deps.sh" npm >&2
	if ! command -v npm >/dev/null 2>&1; then
		SIO_WHY="npm not installed (sh tests/deps.sh npm failed)"
		return 1
	fi
	mkdir -p "$CACHE" || { SIO_WHY="cannot create $CACHE"; return 1; }
	rm -f "$CACHE/installed.json"
	cp "$FIXTURE/package.json" "$FIXTURE/package-lock.json" "$CACHE/" ||
	    { SIO_WHY="cannot write $CACHE"; return 1; }
	# npm's own download cache goes in the folder too; no install
	# scripts (none of these packages has one).
	rc=0
	out=$(timeout 60 npm ci --prefix "$CACHE" \
	    --cache "$CACHE/.npm" --ignore-scripts --no-audit --no-fund \
	    --loglevel=error --fetch-retries=0 --fetch-timeout=15000 \
	    2>&1 </dev/null) || rc=$?
	if [ "$rc" -eq 124 ]; then
		SIO_WHY="socket.io not installable: npm ci took over 60 s"
		return 1
	elif [ "$rc" -ne 0 ]; then
		# The line that names the failure (the URL that failed, the
		# version not found), else the first error line.
		line=$(echo "$out" | grep -m1 -E \
		    'FetchError|request to|E404|ETARGET|EACCES|ENOSPC|EINTEGRITY') ||
		    line=$(echo "$out" | grep -m1 -i 'err')
		SIO_WHY="socket.io not installable: npm ci: $(echo "$line" |
		    sed 's/^npm [A-Za-z!]* *//' | cut -c1-120)"
		return 1
	fi
	cp "$FIXTURE/package-lock.json" "$CACHE/installed.json"
}

# can_source ADDRESS: a TCP socket can be bound to ADDRESS here.
can_source() {
	python3 -c 'import socket, sys; socket.socket().bind((sys.argv[1], 0))' \
	    "$1" 2>/dev/null
}

setup_file() {
	local t0 t1
	t0=$(now_ms)
	if ensure_socketio; then
		t1=$(now_ms)
		echo "# socket.io $(node -p 'require(process.argv[1]).version' \
		    "$CACHE/node_modules/socket.io/package.json") and" \
		    "socket.io-client $(node -p 'require(process.argv[1]).version' \
		    "$CACHE/node_modules/socket.io-client/package.json")" \
		    "in $CACHE ($((t1 - t0)) ms)" >&3
	else
		echo "# $SIO_WHY" >&3
		export SIO_WHY
	fi
	if can_source 127.0.0.2 && can_source 127.0.0.50; then
		export SOURCES=49
	else
		echo "# only 127.0.0.1 can be a source address here:" \
		    "every client comes from it" >&3
		export SOURCES=1
	fi
}

setup() {
	[ -z "${SIO_WHY:-}" ] || skip "$SIO_WHY"
	pmc_setup
}

# start_sio MODE: $INSTANCES instances of server.js on a free $port,
# balance MODE, all online.
start_sio() {
	port=$(free_port)
	cat > app.yaml <<-EOF
	apps:
	  - name: sio
	    command: ["node", "server.js"]
	    cwd: "$FIXTURE"
	    instances: $INSTANCES
	    listen: 127.0.0.1:$port
	    balance: $1
	    env: {NODE_PATH: "$CACHE/node_modules"}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ] || { echo "pmc start: $stderr"; return 1; }
	wait_for 10 all_online sio $INSTANCES
}

# count_of WORD: N of client.js's line "WORD N" in $out.
count_of() {
	echo "$out" | sed -n "s/^$1 \([0-9]*\)$/\1/p"
}

# sio_clients LABEL: $CLIENTS clients from $SOURCES addresses (client.js);
# its status in $status, the counts in $ok, $failed, $mixed, $requests,
# $connections, $answers (ping answers in all), $answered (instances
# that answered) and $first_error, a summary in the TAP output.
sio_clients() {
	local out line
	run timeout 90 env NODE_PATH="$CACHE/node_modules" \
	    node "$FIXTURE/client.js" "$port" $CLIENTS "$SOURCES" 60
	out=$output
	echo "$out"
	ok=$(count_of ok)
	failed=$(count_of failed)
	mixed=$(count_of mixed)
	requests=$(count_of requests)
	connections=$(count_of connections)
	first_error=$(echo "$out" | sed -n 's/^first error: //p')
	answered=$(echo "$out" | grep -c '^instance ' || true)
	answers=$(echo "$out" | sed -n 's/^instance [0-9]*: //p' |
	    awk '{ n += $1 } END { print n + 0 }')
	line=$(echo "$out" | sed -n 's/^instance \([0-9]*\): /\1=/p' |
	    tr '\n' ' ' | sed 's/ $//')
	echo "# $1: ok=$ok failed=$failed, instance=answers ${line:-none}," \
	    "mixed=$mixed, $requests requests on $connections connections" >&3
	[ -z "$first_error" ] || echo "#   first error: $first_error" >&3
	[ -n "$ok" ] && [ -n "$failed" ] && [ -n "$connections" ]
}

@test "balance: shared, 4 Socket.IO instances, 200 long-polling clients: sessions break (Session ID unknown)" {
	start_sio shared
	sio_clients "shared, $CLIENTS clients"
	# Every request was a connection of its own: the balancer chose
	# an instance for each.
	[ "$connections" -eq "$requests" ]
	[ "$status" -eq 1 ]
	[ "$failed" -gt 0 ]
	[[ "$first_error" == *"Session ID unknown"* ||
	    "$first_error" == *"HTTP 400"* ]]
	all_online sio $INSTANCES
}

@test "balance: sticky, 4 Socket.IO instances, 200 long-polling clients: all finish, each on one instance" {
	start_sio sticky
	sio_clients "sticky, $CLIENTS clients"
	[ "$connections" -eq "$requests" ]
	[ "$status" -eq 0 ]
	[ "$ok" -eq $CLIENTS ]
	[ "$failed" -eq 0 ]
	[ "$answers" -eq $((CLIENTS * 5)) ]
	# Every client met one instance only...
	[ "$mixed" -eq 0 ]
	# ... and the clients, from $SOURCES addresses, more than one.
	if [ "$SOURCES" -gt 1 ]; then
		[ "$answered" -ge 2 ]
	else
		[ "$answered" -eq 1 ]
	fi
	all_online sio $INSTANCES
}

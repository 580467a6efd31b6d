#!/bin/sh
# cluster.sh -- three "hosts", each a network namespace running its own
# pmcd with 2 instances of a server, behind HAProxy in a fourth
# namespace: pmc as one member of a load-balanced fleet, on one machine.
# Root only (ip netns).  Nothing is created outside the namespaces and
# DIR; every address is one the script gives inside them.
#
#   cluster.sh up DIR [COMMAND...]   make the hosts, start pmcd on each,
#                                    then HAProxy; wait until all are UP
#   cluster.sh down DIR              stop it all, remove the namespaces
#   cluster.sh pmc DIR HOST ARGS...  run pmc on host h1, h2 or h3
#   cluster.sh state DIR [HOST]      HAProxy's view: "h1 UP" a line
#   cluster.sh wait DIR HOST STATUS [SECONDS]
#                                    until HAProxy says so (15 s)
#   cluster.sh exec DIR ARGS...      run ARGS in the balancer's namespace
#                                    (its front end: 127.0.0.1:8000)
#
# COMMAND is the app's command (a server that takes its socket from
# LISTEN_FDS, fd 3); the default is server.py beside this script.  Each
# host's app sees HOST=hN in its environment.  The namespaces are named
# $PMCX-lb and $PMCX-h1..h3 (PMCX: pmcx); host N is 10.77.N.2, the
# balancer 10.77.N.1 facing it.  pmc and pmcd are found on PATH, or in
# PMC_BIN.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
P=${PMCX:-pmcx}
PMC=${PMC_BIN:+$PMC_BIN/}pmc
HOSTS="1 2 3"

ns() {
	_n=$1
	shift
	ip netns exec "$P-$_n" "$@"
}

# pmc on host N: its own PMC_HOME, the health listener on its address.
on_host() {
	n=$1
	shift
	ip netns exec "$P-h$n" env PMC_HOME="$DIR/h$n/home" \
	    PMCD_METRICS="10.77.$n.2:9465" "$PMC" "$@"
}

# "h1 UP", one line a server, from HAProxy's stats socket.
state() {
	python3 - "$DIR/haproxy.sock" "${1:-}" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(5)
	s.connect(sys.argv[1])
	s.sendall(b"show stat\n")
	out = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    out += b
	head = None
	for line in out.decode().splitlines():
	    if line.startswith("# "):
	        head = line[2:].split(",")
	        continue
	    f = dict(zip(head or [], line.split(",")))
	    if f.get("pxname") == "hosts" and f.get("svname", "").startswith("h"):
	        if not sys.argv[2] or f["svname"] == sys.argv[2]:
	            print(f["svname"], f["status"].split(" ")[0])
	PY
}

# wait_state HOST STATUS SECONDS
wait_state() {
	i=$(($3 * 10))
	while [ "$(state "$1")" != "$1 $2" ]; do
		i=$((i - 1))
		[ "$i" -gt 0 ] || { echo "cluster: $1 not $2 after $3 s" >&2; return 1; }
		sleep 0.1
	done
}

up() {
	mkdir -p "$DIR"
	ip netns add "$P-lb"
	ns lb ip link set lo up
	for n in $HOSTS; do
		ip netns add "$P-h$n"
		ns "h$n" ip link set lo up
		ip link add "h$n" netns "$P-lb" type veth peer name eth0 \
		    netns "$P-h$n"
		ns lb ip addr add "10.77.$n.1/24" dev "h$n"
		ns lb ip link set "h$n" up
		ns "h$n" ip addr add "10.77.$n.2/24" dev eth0
		ns "h$n" ip link set eth0 up
		mkdir -p "$DIR/h$n"
		{
			echo "apps:"
			echo "  - name: web"
			printf '    command: ['
			sep=
			for w in "$@"; do
				printf '%s"%s"' "$sep" "$w"
				sep=", "
			done
			echo "]"
			echo "    instances: 2"
			echo "    listen: 10.77.$n.2:8080"
			echo "    env: {HOST: h$n, VERSION: \"1\"}"
		} > "$DIR/h$n/app.yaml"
		on_host "$n" start "$DIR/h$n/app.yaml" >/dev/null
	done
	cat > "$DIR/haproxy.cfg" <<-CFG
	global
	    maxconn 4096
	    stats socket $DIR/haproxy.sock mode 600 level admin
	defaults
	    mode http
	    timeout connect 2s
	    timeout client 30s
	    timeout server 30s
	    # One request per connection to the hosts: a drained host then
	    # sees no connection once HAProxy marks it down, and none of an
	    # old instance's idle connections is reused.
	    option http-server-close
	    retries 3
	    option redispatch
	frontend web
	    bind 127.0.0.1:8000
	    default_backend hosts
	backend hosts
	    balance roundrobin
	    option httpchk GET /health/web
	    http-check expect status 200
	    default-server inter 300ms fall 2 rise 2
	    server h1 10.77.1.2:8080 check port 9465
	    server h2 10.77.2.2:8080 check port 9465
	    server h3 10.77.3.2:8080 check port 9465
	CFG
	ns lb haproxy -D -p "$DIR/haproxy.pid" -f "$DIR/haproxy.cfg"
	for n in $HOSTS; do
		wait_state "h$n" UP 15
	done
}

down() {
	for n in $HOSTS; do
		[ -d "$DIR/h$n/home" ] && on_host "$n" kill >/dev/null 2>&1 || true
	done
	if [ -f "$DIR/haproxy.pid" ]; then
		kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
		rm -f "$DIR/haproxy.pid"
	fi
	for n in $HOSTS; do
		ip netns del "$P-h$n" 2>/dev/null || true
	done
	ip netns del "$P-lb" 2>/dev/null || true
}

[ $# -ge 2 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2; }
verb=$1
DIR=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2
case $verb in
up)	[ $# -gt 0 ] || set -- python3 "$here/server.py"
	up "$@" ;;
down)	down ;;
pmc)	n=${1#h}
	shift
	on_host "$n" "$@" ;;
state)	state "${1:-}" ;;
wait)	wait_state "$1" "$2" "${3:-15}" ;;
exec)	ns lb "$@" ;;
*)	echo "cluster.sh: unknown verb $verb" >&2
	exit 2 ;;
esac

#!/usr/bin/env bats
#
# How the two balance modes spread connections over the instances of an
# app, measured: 4 instances of demo-httpd, 1000 requests one after the
# other and 1000 from 8 threads at once, a new connection each; the
# distribution per instance shows in the TAP output.
#
# balance: shared -- one listening socket that pmcd holds and every
#	instance inherits: one accept queue.  A connection waits in it
#	until some instance accepts it, so an instance that is slow or
#	restarting never holds connections back: whichever is idle takes
#	the next one.  Spread is not even: the instances that sleep in
#	epoll_wait are woken last-in first-out, so under light load the
#	instance that just finished (the busiest) tends to get the next
#	connection too; under heavy load all are busy and it evens out.
#	(demo-httpd waits in poll(), which wakes every instance: the
#	first to accept wins.)
#	Good for servers of uneven speed and for long requests.
# balance: reuseport -- one SO_REUSEPORT socket per instance slot, all
#	bound to the address; the kernel hashes each connection's 4-tuple
#	to one of them: an even spread however busy the instances are,
#	and no thundering herd.  But each slot has its own queue: a slow
#	or stuck instance's connections wait for it, never taken by the
#	others, and the connections queued on a slot whose socket is
#	closed (scaled down) are reset unless net.ipv4.tcp_migrate_req=1.
#	pmcd keeps a slot's socket while the slot restarts, so restarts
#	do not reset connections.  Good for many short requests of even
#	cost.

load helper

bats_require_minimum_version 1.5.0

INSTANCES=4
REQUESTS=1000

# The client: REQUESTS GETs on 127.0.0.1:PORT from THREADS threads, a new
# connection each, 5 s at most each.  Prints one line per instance that
# answered, "instance I: N", then "failed: N", then the first error seen.
CLIENT='
import collections, re, socket, sys, threading

port, total, threads = (int(a) for a in sys.argv[1:4])
counts = collections.Counter()
failed = []
lock = threading.Lock()

def get():
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    m = re.search(rb"hello from pid \d+ instance (\d+)", data)
    if m is None:
        raise ValueError("unexpected answer %r" % data[:200])
    return int(m.group(1))

def run(n):
    for _ in range(n):
        try:
            i = get()
            with lock:
                counts[i] += 1
        except Exception as e:
            with lock:
                failed.append(repr(e))

per = [total // threads + (k < total % threads) for k in range(threads)]
ts = [threading.Thread(target=run, args=(n,)) for n in per]
for t in ts:
    t.start()
for t in ts:
    t.join()
for i in sorted(counts):
    print("instance %d: %d" % (i, counts[i]))
print("failed: %d" % len(failed))
if failed:
    print("first error: %s" % failed[0])
'

# start_demo MODE: $INSTANCES demo-httpd on a free $port, balance MODE.
start_demo() {
	port=$(free_port)
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    instances: $INSTANCES
	    listen: 127.0.0.1:$port
	    balance: $1
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ] || { echo "pmc start: $stderr"; return 1; }
	wait_for 10 all_online web $INSTANCES
}

# measure LABEL THREADS: run the client, show the distribution in the TAP
# output and set $total (requests answered), $answered (instances that
# answered at least once), $smallest (the least an instance got, 0 for
# one that got none) and $failed.
measure() {
	local out line
	out=$(timeout 60 python3 -c "$CLIENT" "$port" $REQUESTS "$2")
	echo "$out"
	line=$(echo "$out" | sed -n 's/^instance \([0-9]*\): /\1=/p' |
	    tr '\n' ' ' | sed 's/ $//')
	echo "# $1: instance=answers ${line:-none}," \
	    "failed=$(echo "$out" | sed -n 's/^failed: //p')" >&3
	answered=$(echo "$out" | grep -c '^instance')
	smallest=$(echo "$out" | sed -n 's/^instance [0-9]*: //p' | sort -n |
	    head -n 1)
	[ "$answered" -eq $INSTANCES ] || smallest=0
	total=$(echo "$out" | sed -n 's/^instance [0-9]*: //p' |
	    awk '{ n += $1 } END { print n + 0 }')
	failed=$(echo "$out" | sed -n 's/^failed: //p')
	[ -n "$failed" ]
}

@test "balance: shared, 1000 requests one at a time: all answered, by 2 instances or more" {
	start_demo shared
	measure "shared, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -ge 2 ]
	all_online web $INSTANCES
}

@test "balance: shared, 1000 requests from 8 threads: all answered, by 2 instances or more" {
	start_demo shared
	measure "shared, 8 clients" 8
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -ge 2 ]
	all_online web $INSTANCES
}

@test "balance: reuseport, 1000 requests one at a time: all answered, every instance got a share" {
	start_demo reuseport
	measure "reuseport, 1 client" 1
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -eq $INSTANCES ]
	[ "$smallest" -gt 0 ]
	all_online web $INSTANCES
}

@test "balance: reuseport, 1000 requests from 8 threads: all answered, every instance got a share" {
	start_demo reuseport
	measure "reuseport, 8 clients" 8
	[ "$failed" -eq 0 ] && [ "$total" -eq $REQUESTS ]
	[ "$answered" -eq $INSTANCES ]
	[ "$smallest" -gt 0 ]
	all_online web $INSTANCES
}

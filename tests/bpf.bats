#!/usr/bin/env bats
#
# supervisor/bpf.c on its own, through tests/bin/bpfcheck: SO_REUSEPORT
# listeners on one loopback port, the balancer pmcd attaches to them, and
# where each connection lands.  eBPF needs root (CAP_BPF); classic BPF
# needs nothing.

load helper

bats_require_minimum_version 1.5.0

CHECK="$PMC_TESTBIN/bpfcheck"

# count SLOT: the connections slot I got, from $output.
count() {
	echo "$output" | sed -n "s/^slot $1: //p"
}

@test "eBPF turns: 4 slots, 1000 connections, exactly 250 each" {
	needs_ebpf
	run -0 "$CHECK" turns 4 1000 0 1 2 3
	echo "$output"
	[[ "$output" == *"engine ebpf"* ]]
	for s in 0 1 2 3; do
		[ "$(count $s)" -eq 250 ]
	done
	[ "$(echo "$output" | sed -n 's/^lost //p')" -eq 0 ]
	# Its counter saw each connection (pmc drain --wait reads it).
	[ "$(echo "$output" | sed -n 's/^counted //p')" -eq 1000 ]
}

@test "eBPF turns over IPv6: the same exact turns on ::1" {
	needs_ebpf
	run -0 "$CHECK" -6 turns 4 400 0 1 2 3
	echo "$output"
	for s in 0 1 2 3; do
		[ "$(count $s)" -eq 100 ]
	done
}

@test "eBPF turns by weight: the schedule 0 0 1 gives 2:1 exactly, and a slot left out gets none" {
	needs_ebpf
	run -0 "$CHECK" turns 3 999 0 0 1
	echo "$output"
	[ "$(count 0)" -eq 666 ]
	[ "$(count 1)" -eq 333 ]
	[ "$(count 2)" -eq 0 ]
}

@test "classic BPF turns: every slot gets a share, none is lost" {
	run -0 "$CHECK" -c turns 4 1000 0 1 2 3
	echo "$output"
	[[ "$output" == *"engine classic"* ]]
	total=0
	for s in 0 1 2 3; do
		# Random, even on average: 250 expected, a bound it cannot miss.
		[ "$(count $s)" -ge 150 ]
		total=$((total + $(count $s)))
	done
	[ "$total" -eq 1000 ]
}

@test "classic BPF turns leave out a slot that is not in them" {
	run -0 "$CHECK" -c turns 3 300 0 2
	echo "$output"
	[ "$(count 1)" -eq 0 ]
	[ "$(( $(count 0) + $(count 2) ))" -eq 300 ]
}

# sticky_ok: from $output, every address landed on one slot only, the one
# bal_bucket and the bucket table say; prints how many slots were used.
sticky_ok() {
	echo "$output" | awk '
	    /^127\.0\.0\.[0-9]+:/ { a = $1; sub(/:$/, "", a); got[a] = $0;
		n = split($0, w, " "); if (n != 2) { print "many " a; bad++ }
		slot[a] = w[2] }
	    /^expected / { a = $2; sub(/:$/, "", a);
		if (slot[a] != $3) { print "wrong " a; bad++ }; used[$3] = 1 }
	    END { for (s in used) u++; print "used " u; exit bad > 0 }'
}

@test "eBPF sticky: 49 client addresses x 20 connections, each always on the slot its bucket names" {
	needs_ebpf
	run -0 "$CHECK" sticky 4 20
	[[ "$output" == *"engine ebpf"* ]]
	# Sticky counts its connections too: 49 addresses x 20.
	[ "$(echo "$output" | sed -n 's/^counted //p')" -eq 980 ]
	run -0 sticky_ok
	echo "$output"
	[[ "$output" == "used 4" ]]
}

@test "classic BPF sticky: the same hash, the same slots as eBPF" {
	run -0 "$CHECK" -c sticky 4 5
	[[ "$output" == *"engine classic"* ]]
	classic=$output
	run -0 sticky_ok
	[[ "$output" == "used 4" ]]
	[ "$(id -u)" -eq 0 ] || return 0
	run -0 "$CHECK" sticky 4 5
	[[ "$output" == *"engine ebpf"* ]] || return 0
	[ "$(echo "$output" | grep -v -e '^engine' -e '^counted')" = \
	    "$(echo "$classic" | grep -v -e '^engine' -e '^why')" ]
}

@test "closing a socket with connections queued: eBPF moves them all to the others; classic BPF, the weakened set-up, resets them" {
	needs_ebpf
	# The weakened set-up first: without a migrating program the kernel
	# resets what waits on a closed listener, unless the namespace-wide
	# net.ipv4.tcp_migrate_req is 1 (pmcd never sets it).
	[ "$(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null || echo 0)" = 0 ] ||
	    skip "net.ipv4.tcp_migrate_req is 1 here: nothing would be reset"
	run -0 "$CHECK" -c migrate 4 20
	echo "$output"
	[[ "$output" == *"moved 0 reset 20"* ]]
	run -0 "$CHECK" migrate 4 20
	echo "$output"
	[[ "$output" == *"engine ebpf"* ]]
	[[ "$output" == *"moved 20 reset 0"* ]]
}

@test "eBPF refused without CAP_BPF: classic BPF is attached and the reason names the capability" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop the capabilities"
	command -v setpriv >/dev/null || skip "setpriv not installed"
	run -0 setpriv --bounding-set=-all --inh-caps=-all "$CHECK" turns 2 100 0 1
	echo "$output"
	[[ "$output" == *"engine classic"* ]]
	[[ "$output" == *"why eBPF: Operation not permitted (needs CAP_BPF or CAP_SYS_ADMIN)"* ]]
	[ "$(( $(count 0) + $(count 1) ))" -eq 100 ]
}

@test "eBPF refusal: new connections refused at once, the queued ones kept, and moved when a socket closes" {
	needs_ebpf
	run -0 "$CHECK" refuse 4 40
	echo "$output"
	[[ "$output" == *"refused 40 kept 40 reset 0"* ]]
}

@test "classic BPF cannot refuse a connection, and says so" {
	run -1 "$CHECK" -c refuse 4 40
	[[ "$output" == *"bal_refuse: classic BPF cannot refuse a connection"* ]]
}

#!/usr/bin/env bats
#
# metrics-http.bats -- pmcd --metrics at the edges of HTTP: clients that
# connect and stall, requests cut short by a half-close, bytes that do not
# belong in a request head, and answers that must arrive whole although
# the client sent more than pmcd read.  Raw sockets through
# tests/httpraw.py, all on 127.0.0.1.

bats_require_minimum_version 1.5.0
load helper

# start_metrics [INSTANCES]: pmcd serving metrics on $port, with one app
# of INSTANCES (1) sleeping instances.
start_metrics() {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sleep", "600"]
	    instances: ${1:-1}
	EOF
	PMCD_METRICS=127.0.0.1:$port pmc_start app.yaml
	[ "$status" -eq 0 ]
}

# raw [OPTION...] < FILE: the file's bytes to the metrics port, as
# httpraw.py does; $status_line, $nbytes and $seconds from its three lines
# of output.  Not in a pipeline, where they would be lost.
raw() {
	run --separate-stderr python3 "$TESTS_DIR/httpraw.py" "$port" "$@"
	status_line=${lines[0]:-}
	nbytes=${lines[1]:-0}
	seconds=${lines[2]:-99}
}

# faster SECONDS: what raw measured took less.
faster() {
	python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= float(sys.argv[2]))' \
	    "$seconds" "$1"
}

stalled_ready() {
	[ -s "$BATS_TEST_TMPDIR/stalled" ]
}

@test "clients that connect and stall mid-request cannot lock a scraper out" {
	start_metrics
	# 40 clients, more than the 16 places, each stalled in its request
	# line; they stay connected (as far as they know) for 8 seconds.
	python3 - "$port" "$BATS_TEST_TMPDIR/stalled" 3>&- <<-'EOF' &
	import socket, sys, time
	s = []
	for _ in range(40):
	    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	    c.sendall(b"GET /metr")
	    s.append(c)
	open(sys.argv[2], "w").write("%d\n" % len(s))
	time.sleep(8)
	EOF
	holder=$!
	wait_for 10 stalled_ready
	# At once, not once the stalled ones time out.
	run -0 curl -sS -m 3 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$port/metrics"
	[ "$output" = 200 ]
	run -0 curl -sS -m 3 "http://127.0.0.1:$port/metrics"
	[[ "$output" == *'pmc_instance_up{app="web",instance="0"} 1'* ]]
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
}

@test "a client that has not sent its request head within a second is closed" {
	start_metrics
	printf 'GET /metr' > req
	raw --timeout 10 < req
	# Closed (not left open for the client's 10 s), with no answer, and
	# not before the second (a timer may fire late, never early).
	[ "$status" -eq 0 ]
	same "answer" "(nothing)" "$status_line"
	! faster 0.9
	# A scraper that sends its request at once is answered.
	printf 'GET /metrics HTTP/1.0\r\n\r\n' > req
	raw < req
	same "answer" "HTTP/1.0 200 OK" "$status_line"
}

@test "a request ended by closing the sending side is answered, a cut one 400" {
	start_metrics
	printf 'GET /metrics HTTP/1.0\r\n' > req
	raw --shut --timeout 3 < req
	[ "$status" -eq 0 ]
	same "whole line" "HTTP/1.0 200 OK" "$status_line"
	printf 'HEAD /metrics HTTP/1.1\n' > req
	raw --shut --timeout 3 < req
	same "HEAD, LF only" "HTTP/1.0 200 OK" "$status_line"
	printf 'GET /metrics HTTP/1.0' > req
	raw --shut --timeout 3 < req
	same "no end of line" "HTTP/1.0 400 Bad Request" "$status_line"
	printf 'GET /metr' > req
	raw --shut --timeout 3 < req
	same "cut line" "HTTP/1.0 400 Bad Request" "$status_line"
	# Nothing at all: closed without a word, at once.
	printf '' > req
	raw --shut --timeout 3 < req
	[ "$status" -eq 0 ]
	same "nothing" "(nothing)" "$status_line"
	faster 0.9
}

# A NUL hides the end of the head from a string search: without a 400 at
# once, the client would wait for the head timeout and get nothing.
@test "a NUL byte in a request is answered 400 at once" {
	start_metrics
	printf 'GET /metrics\0 HTTP/1.0\r\n\r\n' > req
	raw --timeout 4 < req
	[ "$status" -eq 0 ]
	same "answer" "HTTP/1.0 400 Bad Request" "$status_line"
	printf 'GET /metrics HTTP/1.0\r\nX-A: \0\r\n\r\n' > req
	raw --timeout 4 < req
	same "in a header" "HTTP/1.0 400 Bad Request" "$status_line"
	# A NUL after the head is no part of it.
	{ printf 'GET /metrics HTTP/1.0\r\n\r\n'; head -c 100 /dev/zero; } > req
	raw --timeout 4 < req
	same "after the head" "HTTP/1.0 200 OK" "$status_line"
}

@test "an answer arrives whole when the client sent more than pmcd read" {
	# An answer of some 10 KiB, read slowly through a small buffer.
	start_metrics 30
	run -0 curl -sS -m 5 -D headers -o body "http://127.0.0.1:$port/metrics"
	whole=$(( $(wc -c < headers) + $(wc -c < body) ))
	[ "$whole" -gt 8000 ]
	# A body after the head (pmcd reads only the head), then the client
	# waits before it reads: no reset may cut the answer.
	{ printf 'GET /metrics HTTP/1.0\r\nContent-Length: 100000\r\n\r\n'
	  head -c 100000 /dev/zero; } > req
	raw --rcvbuf 1 --wait 0.5 < req
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	same "answer" "HTTP/1.0 200 OK" "$status_line"
	# The same figures, give or take a digit of cpu time or uptime.
	[ "$nbytes" -ge $((whole - 100)) ]
	# A head too large: its 431 too, after 100 KB it was not read.
	{ printf 'GET /metrics HTTP/1.0\r\nX-Big: '
	  head -c 100000 /dev/zero | tr '\0' x; printf '\r\n\r\n'; } > req
	raw --rcvbuf 1 --wait 0.5 < req
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	same "answer" "HTTP/1.0 431 Request Header Fields Too Large" \
	    "$status_line"
	# And pmcd still serves.
	run -0 curl -sS -m 3 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$port/metrics"
	[ "$output" = 200 ]
}

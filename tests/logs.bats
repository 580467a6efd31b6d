#!/usr/bin/env bats
#
# Logs: pmcd writes each app's stdout and stderr to <logdir>/<app>.out.log
# and .err.log, one whole line per write, "[<instance>] " first (after a
# timestamp), rotated at logs.max_size; pmc logs reads them back and
# follows them; pmc flush empties them; pmc reopen-logs and SIGUSR1 reopen
# them; logs.to sends the lines to pmcd's stdout.

bats_require_minimum_version 1.5.0
load helper

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# app_spec COMMAND [INSTANCES [LOGS]]: app.yaml with app t; COMMAND is one
# sh -c script; LOGS the flow mapping of logs (e.g. "max_size: 1K").
app_spec() {
	local logs=
	[ -z "${3:-}" ] || logs="    logs: {$3}"
	cat > app.yaml <<-EOF
	apps:
	  - name: t
	    command: ["sh", "-c", "$1"]
	    instances: ${2:-1}
	$logs
	EOF
}

# writer_spec [LOGS [PAD [BURST]]]: the writer prints BURST (1) lines
# "line N" (with PAD after it) each time a file "go" appears in the test
# directory, N counting from 1.
writer_spec() {
	cat > writer.sh <<-'EOF'
	i=0
	while :; do
		if [ -e "$GO/go" ]; then
			rm -f "$GO/go"
			b=0
			while [ "$b" -lt "$BURST" ]; do
				i=$((i + 1))
				echo "line $i$PAD"
				b=$((b + 1))
			done
		fi
		sleep 0.02
	done
	EOF
	cat > app.yaml <<-EOF
	apps:
	  - name: t
	    command: ["sh", "$BATS_TEST_TMPDIR/writer.sh"]
	    env: {GO: "$BATS_TEST_TMPDIR", PAD: "${2:-}", BURST: "${3:-1}"}
	    logs: {${1:-}}
	EOF
}

# Have the writer print one more line and wait until it is gone.
go() {
	touch go
	wait_for 5 test ! -e go
}

OUT="$BATS_TEST_TMPDIR/home/logs/t.out.log"
ERR="$BATS_TEST_TMPDIR/home/logs/t.err.log"

file_has() {
	[ -f "$1" ] && grep -Eq -- "$2" "$1"
}

# --- the files ----------------------------------------------------------------

@test "each instance's lines go to app.out.log, tagged and timestamped" {
	app_spec 'echo hello from $PMC_INSTANCE; exec sleep 600' 2
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[1\] hello from 1$'
	wait_for 5 file_has "$OUT" '\[0\] hello from 0$'
	[ "$(wc -l < "$OUT")" -eq 2 ]
	grep -Eqx "$TS \[0\] hello from 0" "$OUT"
	grep -Eqx "$TS \[1\] hello from 1" "$OUT"
}

@test "timestamps: false leaves the timestamp out" {
	app_spec 'echo hello from $PMC_INSTANCE; exec sleep 600' 2 \
	    'timestamps: false'
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[1\] hello from 1$'
	wait_for 5 file_has "$OUT" '\[0\] hello from 0$'
	grep -qx '\[0\] hello from 0' "$OUT"
	grep -qx '\[1\] hello from 1' "$OUT"
}

@test "stderr goes to app.err.log" {
	app_spec 'echo to out; echo to err >&2; exec sleep 600'
	"$PMC" start app.yaml
	wait_for 5 file_has "$ERR" '\[0\] to err$'
	wait_for 5 file_has "$OUT" '\[0\] to out$'
	! grep -q 'to err' "$OUT"
	! grep -q 'to out' "$ERR"
}

# Flood: 2 instances write numbered lines as fast as they can, in blocks
# of whole lines no bigger than PIPE_BUF (so a kill never cuts one).
@test "a flood rotates at max_size, keeps whole ordered lines, bounded memory" {
	cat > flood.py <<-'EOF'
	import os
	i = os.environ["PMC_INSTANCE"]
	pad = "x" * 60
	n = 0
	while True:
	    b = "".join("%s %d %s\n" % (i, k, pad) for k in range(n, n + 50))
	    n += 50
	    os.write(1, b.encode())
	EOF
	cat > app.yaml <<-EOF
	apps:
	  - name: t
	    command: ["python3", "$BATS_TEST_TMPDIR/flood.py"]
	    instances: 2
	    logs: {max_size: 1M, keep: 3}
	EOF
	"$PMC" start app.yaml
	pid=$(pmcd_pid)
	wait_for 10 test -e "$OUT.3"
	max=0
	end=$(( $(date +%s) + 3 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		[ "$rss" -le "$max" ] || max=$rss
		sleep 0.1
	done
	"$PMC" stop t
	echo "pmcd VmRSS peak: $max kB"
	[ "$max" -lt 16384 ]
	[ ! -e "$OUT.4" ]
	python3 - "$OUT" <<-'EOF'
	import os, re, sys
	path = sys.argv[1]
	line = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
	    r"\[([01])\] \1 (\d+) x{60}\n$")
	last = {}
	seen = {"0": 0, "1": 0}
	for name in (path + ".3", path + ".2", path + ".1", path):
	    size = os.path.getsize(name)
	    assert size <= 1024 * 1024, (name, size)
	    for l in open(name):
	        m = line.match(l)
	        assert m, (name, l)
	        i, n = m.group(1), int(m.group(2))
	        assert i not in last or n == last[i] + 1, (name, i, last[i], n)
	        last[i] = n
	        seen[i] += 1
	assert seen["0"] > 1000 and seen["1"] > 1000, seen
	print(seen, last)
	EOF
}

@test "a long line is cut into marked pieces that hold every byte" {
	cat > long.py <<-'EOF'
	import sys
	sys.stdout.write("".join("%07d," % k for k in range(12500)) + "\n")
	EOF
	app_spec "python3 $BATS_TEST_TMPDIR/long.py; echo after; exec sleep 600"
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[0\] after$'
	python3 - "$OUT" <<-'EOF'
	import re, sys
	mark = " [pmc: line continues]"
	want = "".join("%07d," % k for k in range(12500))
	lines = open(sys.argv[1]).read().split("\n")
	body = [re.sub(r"^\S+ \[0\] ", "", l) for l in lines[:-2]]
	assert lines[-2].endswith("[0] after") and lines[-1] == "", lines[-2:]
	assert len(body) == 7, len(body)
	assert all(b.endswith(mark) for b in body[:-1])
	assert not body[-1].endswith(mark)
	got = "".join(b[:-len(mark)] for b in body[:-1]) + body[-1]
	assert got == want, (len(got), len(want))
	EOF
}

@test "a last line without a newline is written when the app exits" {
	cat > app.yaml <<-EOF
	apps:
	  - name: t
	    command: ["sh", "-c", "echo first; printf 'no newline'"]
	    restart: never
	EOF
	# It may be gone before start reports, which start calls a failure.
	"$PMC" start app.yaml || true
	wait_for 5 file_has "$OUT" '\[0\] no newline$'
	grep -Eqx "$TS \[0\] first" "$OUT"
	grep -Eqx "$TS \[0\] no newline" "$OUT"
}

# --- pmc logs -----------------------------------------------------------------

@test "pmc logs NAME -n 5 prints the last 5 lines" {
	app_spec 'for i in $(seq 1 20); do echo line $i; done; exec sleep 600'
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[0\] line 20$'
	run -0 "$PMC" logs t -n 5 --out
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[0]}" =~ ^$TS\ \[0\]\ line\ 16$ ]]
	[[ "${lines[4]}" =~ ^$TS\ \[0\]\ line\ 20$ ]]
	# Both files: each line says which one.
	run -0 "$PMC" logs t -n 5
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[4]}" =~ ^t\ out\ \|\ $TS\ \[0\]\ line\ 20$ ]]
	# The default is 15.
	run -0 "$PMC" logs t --out
	[ "${#lines[@]}" -eq 15 ]
	[[ "${lines[0]}" == *"[0] line 6" ]]
}

@test "pmc logs -n reads back into the rotated files" {
	app_spec 'for i in $(seq 1 100); do echo line $i; done; exec sleep 600' \
	    1 'max_size: 1K, keep: 5'
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[0\] line 100$'
	[ -e "$OUT.1" ]
	[ "$(wc -l < "$OUT")" -lt 40 ]
	run -0 "$PMC" logs t -n 40 --out
	[ "${#lines[@]}" -eq 40 ]
	for k in $(seq 0 39); do
		[[ "${lines[$k]}" == *"[0] line $((61 + k))" ]]
	done
}

@test "pmc logs --instance and --err pick the lines" {
	app_spec 'echo out $PMC_INSTANCE; echo err $PMC_INSTANCE >&2; exec sleep 600' 2
	"$PMC" start app.yaml
	wait_for 5 file_has "$ERR" '\[1\] err 1$'
	wait_for 5 file_has "$ERR" '\[0\] err 0$'
	run -0 "$PMC" logs t --err --instance 1
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" =~ ^$TS\ \[1\]\ err\ 1$ ]]
	run -0 "$PMC" logs t --instance 0
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^t\ out\ \|\ $TS\ \[0\]\ out\ 0$ ]]
	[[ "${lines[1]}" =~ ^t\ err\ \|\ $TS\ \[0\]\ err\ 0$ ]]
}

@test "pmc logs: a bad -n is a usage error, an unknown app pmcd's error" {
	app_spec 'exec sleep 600'
	"$PMC" start app.yaml
	run -2 "$PMC" logs t -n many
	[[ "$output" == *"usage: pmc logs"* ]]
	run -2 "$PMC" logs t --out --err
	run -1 "$PMC" logs nosuch
	[[ "$output" == *"nosuch"* ]]
}

@test "pmc logs -f follows new lines, across rotations, until SIGTERM" {
	writer_spec 'max_size: 1K, keep: 3' \
	    "$(head -c 300 /dev/zero | tr '\0' p)"
	"$PMC" start app.yaml
	go
	wait_for 5 file_has "$OUT" '\[0\] line 1p'
	"$PMC" logs t --out -f > follow.out 2> follow.err 3>&- &
	fpid=$!
	wait_for 5 grep -q 'line 1p' follow.out
	for k in $(seq 2 16); do
		go
		sleep 0.1
	done
	wait_for 5 grep -q 'line 16p' follow.out
	[ -e "$OUT.3" ]
	kill -TERM "$fpid"
	wait "$fpid"		# exits 0
	# Every line once, in order.
	got=$(sed -E 's/.*\] line ([0-9]+)p+$/\1/' follow.out | tr '\n' ' ')
	[ "$got" = "$(seq 1 16 | tr '\n' ' ')" ]
	[ ! -s follow.err ]
}

@test "pmc logs -f shows the files rotated through between two polls" {
	writer_spec 'max_size: 1K, keep: 5' \
	    "$(head -c 300 /dev/zero | tr '\0' p)" 12
	"$PMC" start app.yaml
	go
	wait_for 5 file_has "$OUT" '\[0\] line 12p'
	"$PMC" logs t --out -n 1 -f > follow.out 3>&- &
	fpid=$!
	wait_for 5 grep -q 'line 12p' follow.out
	go			# about 4 rotations at once
	wait_for 5 grep -q 'line 24p' follow.out
	[ -e "$OUT.3" ]
	kill -TERM "$fpid"
	wait "$fpid"
	got=$(sed -E 's/.*\] line ([0-9]+)p+$/\1/' follow.out | tr '\n' ' ')
	[ "$got" = "$(seq 12 24 | tr '\n' ' ')" ]
}

@test "pmc logs -f starts again after pmc flush" {
	writer_spec
	"$PMC" start app.yaml
	go
	wait_for 5 file_has "$OUT" '\[0\] line 1$'
	"$PMC" logs t --out -f > follow.out 3>&- &
	fpid=$!
	wait_for 5 grep -q 'line 1$' follow.out
	"$PMC" flush t
	go
	wait_for 5 grep -q 'line 2$' follow.out
	kill -INT "$fpid"
	wait "$fpid"
	[ "$(wc -l < follow.out)" -eq 2 ]
}

# --- flush, reopen ------------------------------------------------------------

@test "pmc flush NAME empties the files and removes the rotated ones" {
	app_spec 'for i in $(seq 1 100); do echo line $i; done; exec sleep 600' \
	    1 'max_size: 1K, keep: 3'
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[0\] line 100$'
	[ -e "$OUT.1" ]
	run -0 "$PMC" flush t
	[[ "$output" == *"t: logs flushed"* ]]
	[ -e "$OUT" ] && [ ! -s "$OUT" ]
	[ ! -e "$OUT.1" ] && [ ! -e "$OUT.2" ] && [ ! -e "$OUT.3" ]
	run -1 "$PMC" flush nosuch
	run -0 "$PMC" flush
	run -0 "$PMC" flush all
}

@test "pmc reopen-logs: after a move, new lines go to a new file" {
	writer_spec
	"$PMC" start app.yaml
	go
	wait_for 5 file_has "$OUT" '\[0\] line 1$'
	mv "$OUT" "$OUT.moved"
	run -0 "$PMC" reopen-logs
	go
	wait_for 5 file_has "$OUT" '\[0\] line 2$'
	! grep -q 'line 2' "$OUT.moved"
	! grep -q 'line 1' "$OUT"
}

@test "SIGUSR1 to pmcd reopens the log files" {
	writer_spec
	"$PMC" start app.yaml
	go
	wait_for 5 file_has "$OUT" '\[0\] line 1$'
	mv "$OUT" "$OUT.moved"
	kill -USR1 "$(pmcd_pid)"
	wait_for 5 test -e "$OUT"
	go
	wait_for 5 file_has "$OUT" '\[0\] line 2$'
	! grep -q 'line 2' "$OUT.moved"
}

# --- logs.to ------------------------------------------------------------------

# start_fg: pmcd -f in the background, its stdout to pmcd.out.
start_fg() {
	env -u JOURNAL_STREAM "$@" "$PMCD" -f > pmcd.out 2> pmcd.err 3>&- &
	mkdir -p "$PMC_HOME"
	wait_for 5 "$PMC" ping
}

@test "logs.to stdout: lines go to pmcd's stdout only" {
	mkdir -p "$PMC_HOME"
	start_fg
	app_spec 'echo hello from $PMC_INSTANCE; exec sleep 600' 2 'to: stdout'
	"$PMC" start app.yaml
	wait_for 5 grep -qx 't\[0\]: hello from 0' pmcd.out
	wait_for 5 grep -qx 't\[1\]: hello from 1' pmcd.out
	[ ! -e "$OUT" ]
}

@test "logs.to both: lines go to the file and pmcd's stdout" {
	mkdir -p "$PMC_HOME"
	start_fg
	app_spec 'echo hello from $PMC_INSTANCE; exec sleep 600' 1 'to: both'
	"$PMC" start app.yaml
	wait_for 5 grep -qx 't\[0\]: hello from 0' pmcd.out
	wait_for 5 file_has "$OUT" '\[0\] hello from 0$'
}

@test "logs.to auto: both under journald, the file alone otherwise" {
	mkdir -p "$PMC_HOME"
	start_fg JOURNAL_STREAM=8:12345
	app_spec 'echo hello; exec sleep 600'
	"$PMC" start app.yaml
	wait_for 5 grep -qx 't\[0\]: hello' pmcd.out
	wait_for 5 file_has "$OUT" '\[0\] hello$'
	"$PMC" kill
	wait_for 5 not_alive "$(pmcd_pid)"
	rm -f pmcd.out "$OUT"
	start_fg
	"$PMC" start app.yaml
	wait_for 5 file_has "$OUT" '\[0\] hello$'
	! grep -q hello pmcd.out
}

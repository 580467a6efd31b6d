#!/usr/bin/env bats
#
# pmc monit: the live screen, run in a detached tmux of a fixed size on a
# server of our own (its socket in the test's folder), read back with
# capture-pane.  monit runs under a small shell script, as from a user's
# shell: the script records the terminal settings before and after, and
# monit's exit status, then stays, so that the screen it leaves can be
# checked.

bats_require_minimum_version 1.5.0
load helper

setup() {
	pmc_setup
	command -v tmux > /dev/null || skip "tmux is not installed"
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
	printf '%s\n' 'set -g status off' 'set -g remain-on-exit on' \
	    > "$BATS_TEST_TMPDIR/tmux.conf"
	write_spec web.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sleep", "600"]
	    instances: 2
	EOF
}

teardown() {
	# A test that stopped its pmcd lets it go on, so that it can stop.
	[ -z "${stopped:-}" ] || kill -CONT "$stopped" 2>/dev/null || true
	[ -z "${holder:-}" ] || kill "$holder" 2>/dev/null || true
	tmux_ kill-server 2>/dev/null || true
	pmc_teardown
}

tmux_() {
	tmux -u -S "$TMUX_SOCK" "$@"
}

# start_monit [ENV=VALUE...]: pmc monit in a 100x30 window, with the
# test's PMC_HOME, a UTF-8 locale unless ENV says otherwise.
start_monit() {
	cat > "$BATS_TEST_TMPDIR/monit.sh" <<-'EOF'
	trap 'echo "shell: got INT"' INT
	stty -g > stty.before
	"$PMC" monit
	echo $? > status
	stty -g > stty.after
	echo "monit exited"
	exec sleep 600
	EOF
	tmux_ -f "$BATS_TEST_TMPDIR/tmux.conf" new-session -d -s monit \
	    -x 100 -y 30 -c "$BATS_TEST_TMPDIR" \
	    "env PMC='$PMC' PMC_HOME='$PMC_HOME' LC_ALL=C.UTF-8 $* \
	    sh '$BATS_TEST_TMPDIR/monit.sh'" 3>&-
}

screen() {
	tmux_ capture-pane -p -t monit
}

# screen_has ERE: some line of the screen matches.
screen_has() {
	screen | grep -qE -- "$1"
}

screen_lacks() {
	! screen | grep -qE -- "$1"
}

# The row of instance $2 of app $1.
screen_row() {
	screen | grep -E "^$1 +$2 "
}

# rows_online APP N: the screen shows instances 0..N-1 of APP online with
# the pids that pmc list --json gives.
rows_online() {
	local pids i p
	read -ra pids <<< "$(app_pids "$1")"
	[ "${#pids[@]}" -eq "$2" ] || return 1
	for ((i = 0; i < $2; i++)); do
		p=$(slot_pid "$1" "$i")
		screen_row "$1" "$i" | grep -qE "^$1 +$i +$p +online " ||
		    return 1
	done
}

# The CPU HISTORY of instance 0 of app $1 (its samples: no blank in them).
cpu_history() {
	screen_row "$1" 0 | awk '{print $9}'
}

pane() {
	tmux_ display-message -p -t monit "$1"
}

monit_exited() {
	[ -s "$BATS_TEST_TMPDIR/status" ] && screen_has '^monit exited$'
}

monit_pid() {
	pgrep -P "$(pane '#{pane_pid}')" -x pmc
}

# monit left the terminal as it found it: its normal screen, the cursor
# shown, auto-wrap on, the same termios settings; and exited 0.
terminal_restored() {
	same "exit status" 0 "$(cat "$BATS_TEST_TMPDIR/status")"
	same "alternate screen" 0 "$(pane '#{alternate_on}')"
	same "cursor shown" 1 "$(pane '#{cursor_flag}')"
	same "auto-wrap" 1 "$(pane '#{wrap_flag}')"
	same "stty -g" "$(cat "$BATS_TEST_TMPDIR/stty.before")" \
	    "$(cat "$BATS_TEST_TMPDIR/stty.after")"
	# What monit drew is gone with its screen.
	screen_lacks '^pmc monit|^NAME +INST'
}

@test "monit refuses to run when standard output is not a terminal" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	run --separate-stderr "$PMC" monit
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == "pmc: monit: needs a terminal"*"use pmc list"* ]]
}

@test "monit refuses a terminal whose TERM is dumb" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit TERM=dumb
	wait_for 10 monit_exited
	same "exit status" 2 "$(cat "$BATS_TEST_TMPDIR/status")"
	screen_has '^pmc: monit: TERM is dumb: needs a terminal that takes ANSI escapes'
}

@test "monit -h shows its usage; an argument is bad usage" {
	run -0 "$PMC" monit -h
	[ "${lines[0]}" = "usage: pmc monit" ]
	run -2 "$PMC" monit web
	[[ "$output" == "usage: pmc monit"* ]]
}

@test "monit with no pmcd says so and exits 1, the terminal untouched" {
	start_monit
	wait_for 10 monit_exited
	same "exit status" 1 "$(cat "$BATS_TEST_TMPDIR/status")"
	screen_has '^pmc: pmcd is not running'
	same "stty -g" "$(cat "$BATS_TEST_TMPDIR/stty.before")" \
	    "$(cat "$BATS_TEST_TMPDIR/stty.after")"
}

@test "monit shows each instance online with its pid; q quits and restores the terminal" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	same "alternate screen" 1 "$(pane '#{alternate_on}')"
	same "cursor shown" 0 "$(pane '#{cursor_flag}')"
	screen_has "^pmc monit .* pmcd $(pmcd_pid) +apps 1 +instances 2 \\(2 online\\)"
	screen_has '^NAME +INST +PID +STATUS +CPU +MEM +UPTIME +RESTARTS +CPU HISTORY +MEM HISTORY'
	# Two refreshes later the uptime has moved on.
	up=$(screen_row web 0 | awk '{print $7}')
	wait_for 5 eval '[ "$(screen_row web 0 | awk "{print \$7}")" != "$up" ]'
	tmux_ send-keys -t monit q
	wait_for 5 monit_exited
	terminal_restored
}

@test "Ctrl-C quits monit and restores the terminal" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	tmux_ send-keys -t monit C-c
	wait_for 5 monit_exited
	terminal_restored
}

@test "SIGTERM quits monit and restores the terminal" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	kill -TERM "$(monit_pid)"
	wait_for 5 monit_exited
	terminal_restored
}

@test "a busy instance's cpu history rises; an idle one stays at the floor" {
	write_spec busy.yaml <<-EOF
	apps:
	  - name: busy
	    command: ["sh", "-c", "while :; do :; done"]
	  - name: idle
	    command: ["sleep", "600"]
	EOF
	pmc_start busy.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online busy 1
	# Anything above 12.5% of a CPU is more than the lowest block.
	wait_for 10 eval 'cpu_history busy | grep -qF -e ▂ -e ▃ -e ▄ -e ▅ -e ▆ -e ▇ -e █'
	# Three samples at least, the newest at the right.
	wait_for 10 eval '[ "$(cpu_history idle | grep -o ▁ | wc -l)" -ge 3 ]'
	! cpu_history idle | grep -qF -e ▂ -e ▃ -e ▄ -e ▅ -e ▆ -e ▇ -e █
	# Memory is drawn against the largest figure on the screen.
	[ -n "$(screen_row idle 0 | awk '{print $10}')" ]
}

@test "the history is drawn in ASCII when the locale is not UTF-8" {
	write_spec busy.yaml <<-EOF
	apps:
	  - name: busy
	    command: ["sh", "-c", "while :; do :; done"]
	EOF
	pmc_start busy.yaml
	[ "$status" -eq 0 ]
	start_monit LC_ALL=C
	wait_for 10 rows_online busy 1
	wait_for 10 eval 'cpu_history busy | grep -qE "[.:=+*#-]{2}"'
	! screen | LC_ALL=C grep -q '[^ -~]'
}

@test "an instance killed is shown again with its new pid" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	old=$(screen_row web 1 | awk '{print $3}')
	kill -KILL "$old"
	wait_for 10 eval '[ "$(app_pids web | wc -w)" -eq 2 ] &&
	    ! app_pids web | grep -qw "$old"'
	wait_for 10 rows_online web 2
	! screen | grep -qw "$old"
	same "restarts" 1 "$(screen_row web 1 | awk '{print $8}')"
}

@test "monit follows the window size: narrower, wider, shorter" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	tmux_ resize-window -t monit -x 60 -y 30
	wait_for 5 screen_lacks 'CPU HISTORY'
	screen_has '^NAME +INST +PID +STATUS +CPU +MEM +UPTIME'
	# Cut at the edge, never wrapped onto the next line.
	[ "$(screen | awk 'length > 60' | wc -l)" -eq 0 ]
	[ "$(screen | grep -c '^web ')" -eq 2 ]
	same "lines" 5 "$(screen | grep -c .)"
	tmux_ resize-window -t monit -x 160 -y 30
	wait_for 5 screen_has 'RESTARTS +CPU HISTORY +MEM HISTORY'
	rows_online web 2
	tmux_ resize-window -t monit -x 100 -y 4
	wait_for 5 screen_has '^\.\.\. 2 more'
	screen_lacks '^web '
	tmux_ resize-window -t monit -x 100 -y 5
	wait_for 5 screen_lacks 'more'
	[ "$(screen | grep -c '^web ')" -eq 2 ]
}

@test "pmcd going away is shown in the header; monit tries again and shows it back" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	run -0 "$PMC" kill 3>&-
	wait_for 5 screen_has '^pmc monit .* pmcd not answering since [0-9:]+: connect: .*; retrying'
	screen_lacks '^web '
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	wait_for 10 rows_online web 2
	screen_lacks 'not answering'
	tmux_ send-keys -t monit q
	wait_for 5 monit_exited
	terminal_restored
}

# fill_queue: connect to pmc.sock until its queue is full (a connect would
# wait), and hold the connections in the background ($holder) for at most
# 60 seconds; "full" in the test's folder once so.
fill_queue() {
	python3 - "$PMC_HOME/pmc.sock" "$BATS_TEST_TMPDIR/full" 3>&- <<-'EOF' &
	import resource, socket, sys, time
	_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
	held = []
	try:
	    while True:
	        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	        s.setblocking(False)
	        s.connect(sys.argv[1])
	        held.append(s)
	except BlockingIOError:
	    open(sys.argv[2], "w").write("%d\n" % len(held))
	except OSError as e:
	    open(sys.argv[2], "w").write("error %s after %d\n" % (e, len(held)))
	time.sleep(60)
	EOF
	holder=$!
	wait_for 20 test -s "$BATS_TEST_TMPDIR/full"
	grep -qv error "$BATS_TEST_TMPDIR/full" ||
	    skip "cannot fill the queue: $(cat "$BATS_TEST_TMPDIR/full")"
}

pmc_answers() {
	"$PMC" list > /dev/null 2>&1
}

@test "a stopped pmcd is shown as not answering; q still quits and restores the terminal" {
	pmc_start web.yaml
	[ "$status" -eq 0 ]
	start_monit
	wait_for 10 rows_online web 2
	stopped=$(pmcd_pid)
	kill -STOP "$stopped"
	# Nothing accepts on pmc.sock, and a connect finds its queue full.
	fill_queue
	wait_for 10 screen_has '^pmc monit .* pmcd not answering since [0-9:]+: '
	screen_lacks '^web '
	# Its connect gives up, as one that waited for ever would not.
	wait_for 10 screen_has 'not answering since [0-9:]+: connect: not accepted within 2 s'
	tmux_ send-keys -t monit q
	wait_for 5 monit_exited
	terminal_restored
	# The other verbs say so too, in bounded time.
	run -1 --separate-stderr timeout 20 "$PMC" list
	[[ "$stderr" == "pmc: pmcd is not answering (no connection accepted on $PMC_HOME/pmc.sock within 5 seconds)" ]]
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	holder=
	kill -CONT "$stopped"
	stopped=
	# Once the queue is worked through, pmcd answers again.
	wait_for 20 pmc_answers
}

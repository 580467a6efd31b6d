#!/usr/bin/env bats
# The instance state machine as pmcd -v tells it, and the priority of
# pmcd's own lines when its stderr is the journal's stream.

bats_require_minimum_version 1.5.0
load helper

# pmcd -f in the background, stderr to pmcd.err; extra words: options.
start_fg() {
	mkdir -p "$PMC_HOME"
	env -u JOURNAL_STREAM "$PMCD" -f "$@" > pmcd.out 2> pmcd.err 3>&- &
	wait_for 5 "$PMC" ping
}

spec() {
	cat > app.yaml <<-EOT
	apps:
	  - name: web
	    command: ["sleep", "600"]
	    instances: $1
	    ready: delay:50ms
	    backoff: {initial: 50ms}
	EOT
}

@test "pmcd -v logs each transition of a crash and its restart, with the pid" {
	start_fg -v
	# Without -v no transition is logged.
	spec 1
	run -0 "$PMC" start app.yaml
	pid=$(app_pids web)
	kill -KILL "$pid"
	wait_for 10 grep -q "web\[0\]: starting -> online (pid [1-9]" pmcd.err
	wait_for 10 grep -qF "web[0]: online -> backoff (pid $pid)" pmcd.err
	wait_for 10 grep -q "web\[0\]: backoff -> starting (pid [1-9]" pmcd.err
	grep -qF "web[0]: exit in online" pmcd.err
}

@test "without -v, pmcd logs no transition" {
	start_fg
	spec 1
	run -0 "$PMC" start app.yaml
	wait_for 10 all_online web 1
	run -0 "$PMC" stop web
	! grep -q -- '->' pmcd.err
	! grep -q 'start in stopped' pmcd.err
}

@test "a scale down drops the last slots: dropping, then dropped and gone; pmc list never shows an internal state" {
	start_fg -v
	spec 3
	run -0 "$PMC" start app.yaml
	wait_for 10 all_online web 3
	run -0 "$PMC" scale web 1
	wait_for 10 grep -qF "web[2]: online -> dropping" pmcd.err
	wait_for 10 grep -q "web\[2\]: dropping -> dropped" pmcd.err
	wait_for 10 all_online web 1
	run -0 "$PMC" list --json
	[[ "$output" != *dropp* ]]
	[[ "$output" != *restarting* ]]
	# Back up: new slots start afresh.
	run -0 "$PMC" scale web 3
	wait_for 10 all_online web 3
}

@test "pmc restart of an online instance: restarting, then starting again" {
	start_fg -v
	spec 1
	run -0 "$PMC" start app.yaml
	old=$(app_pids web)
	run -0 "$PMC" restart web
	grep -qF "web[0]: online -> restarting (pid $old)" pmcd.err
	grep -q "web\[0\]: restarting -> stopped" pmcd.err
	new=$(app_pids web)
	[ "$new" != "$old" ]
}

@test "under journald (JOURNAL_STREAM names stderr) each line starts with its priority" {
	mkdir -p "$PMC_HOME"
	: > pmcd.err
	js=$(stat -c '%d:%i' pmcd.err)
	"$PMCD" -f >> pmcd.out 2>> pmcd.err 3>&- &
	wait_for 5 "$PMC" ping
	"$PMC" kill
	wait_for 5 grep -q 'every app stopped' pmcd.err
	# Not the journal: no prefix.
	grep -q '^pmcd: pmcd [0-9]* ready' pmcd.err
	! grep -q '^<' pmcd.err
	: > pmcd.err
	JOURNAL_STREAM=$js "$PMCD" -f >> pmcd.out 2>> pmcd.err 3>&- &
	wait_for 5 "$PMC" ping
	cat > app.yaml <<-EOT
	apps:
	  - name: web
	    command: ["false"]
	    backoff: {initial: 50ms}
	    max_restarts: 1
	EOT
	"$PMC" start app.yaml || true
	wait_for 10 grep -q '^<4>pmcd: web\[0\]: exited with status 1' pmcd.err
	grep -q '^<6>pmcd: pmcd [0-9]* ready' pmcd.err
	# A JOURNAL_STREAM that names another file changes nothing.
	"$PMC" kill
	wait_for 5 grep -q 'every app stopped' pmcd.err
	: > pmcd.err
	JOURNAL_STREAM=1:1 "$PMCD" -f >> pmcd.out 2>> pmcd.err 3>&- &
	wait_for 5 "$PMC" ping
	"$PMC" kill
	wait_for 5 grep -q 'every app stopped' pmcd.err
	! grep -q '^<' pmcd.err
}

#!/usr/bin/env bats
#
# pmc start FILE on running apps, and SIGHUP to pmcd: new apps start,
# changed ones go through a rolling reload, unchanged ones are left
# alone, removed ones too unless --prune; a spec with an error applies
# nothing.

bats_require_minimum_version 1.5.0
load helper

teardown() {
	[ -z "${START_PID:-}" ] || kill "$START_PID" 2>/dev/null
	pmc_teardown
}

# app_yaml NAME PORT [FOO [EXTRA LINES]]: one app of a spec, a demo-httpd
# that tells READY=1, with env FOO (default "one").
app_yaml() {
	cat <<-EOF
	  - name: $1
	    command: ["$DEMO", "--notify"]
	    listen: 127.0.0.1:$2
	    ready: notify
	    env: {FOO: ${3:-one}}
	EOF
	[ -z "${4:-}" ] || printf '%s\n' "$4"
}

# spec FILE APP-YAML...: write FILE with these apps.
spec() {
	local f=$1
	shift
	{ echo "apps:"; printf '%s\n' "$@"; } > "$f"
}

# env_is PORT VALUE: the instance on PORT has FOO=VALUE.
env_is() {
	[ "$(http_get "$1" /env/FOO)" = "$2" ]
}

refused() {
	run curl -sS --max-time 2 "http://127.0.0.1:$1/"
	[ "$status" -eq 7 ] || { echo "port $1: curl status $status: $output"; return 1; }
}

# logged TEXT: pmcd's log holds TEXT.
logged() {
	grep -qF "$1" "$PMC_HOME/pmcd.log"
}

# ---------------------------------------------------------------------------

@test "pmc start with a changed env reloads only that app" {
	pa=$(free_port)
	pb=$(free_port)
	spec app.yaml "$(app_yaml a "$pa" one "    instances: 2")" "$(app_yaml b "$pb")"
	run -0 "$PMC" start app.yaml
	a=$(app_pids a)
	b=$(app_pids b)

	spec app.yaml "$(app_yaml a "$pa" two "    instances: 2")" "$(app_yaml b "$pb")"
	run -0 "$PMC" start app.yaml
	[[ "$output" == *"a: spec changed, reloading"* ]]
	[[ "$output" == *"b: unchanged"* ]]
	[[ "$output" == *"a: 2/2 online"* ]]
	all_online a 2
	none_shared "$a" "$(app_pids a)"
	[ "$(app_pids b)" = "$b" ]
	env_is "$pa" two
	env_is "$pb" one
}

@test "pmc start with the same file changes nothing" {
	pa=$(free_port)
	spec app.yaml "$(app_yaml a "$pa")"
	run -0 "$PMC" start app.yaml
	a=$(app_pids a)
	run -0 "$PMC" start app.yaml
	[[ "$output" == *"a: unchanged"* ]]
	[ "$(app_pids a)" = "$a" ]
}

@test "pmc start with only instances changed scales, keeping the running ones" {
	pa=$(free_port)
	spec app.yaml "$(app_yaml a "$pa" one "    instances: 2")"
	run -0 "$PMC" start app.yaml
	a=$(app_pids a)
	spec app.yaml "$(app_yaml a "$pa" one "    instances: 3")"
	run -0 "$PMC" start app.yaml
	[[ "$output" == *"a: scaled to 3"* ]]
	all_online a 3
	[[ "$(app_pids a)" == "$a "* ]]
	spec app.yaml "$(app_yaml a "$pa" one "    instances: 1")"
	run -0 "$PMC" start app.yaml
	all_online a 1
	[ "$(app_pids a)" = "${a%% *}" ]
}

@test "a new app starts; a removed one is left alone, and --prune deletes it" {
	pa=$(free_port)
	pb=$(free_port)
	pc=$(free_port)
	po=$(free_port)
	spec app.yaml "$(app_yaml a "$pa")" "$(app_yaml b "$pb")"
	spec other.yaml "$(app_yaml other "$po")"
	run -0 "$PMC" start app.yaml other.yaml
	a=$(app_pids a)
	b=$(app_pids b)
	o=$(app_pids other)

	spec app.yaml "$(app_yaml a "$pa")" "$(app_yaml c "$pc")"
	run -0 "$PMC" start app.yaml
	[[ "$output" != *"deleted"* ]]
	all_online c 1
	http_get "$pc" /pid
	[ "$(app_pids a)" = "$a" ]
	[ "$(app_pids b)" = "$b" ]
	http_get "$pb" /pid

	# A file with an error prunes nothing either.
	spec app.yaml "$(app_yaml a "$pa")" "$(app_yaml c "$pc" one "    instances: lots")"
	run -1 "$PMC" start --prune app.yaml
	[ "$(app_pids b)" = "$b" ]

	spec app.yaml "$(app_yaml a "$pa")" "$(app_yaml c "$pc")"
	c=$(app_pids c)
	run -0 "$PMC" start --prune app.yaml
	[[ "$output" == *"b: deleted (no longer in $BATS_TEST_TMPDIR/app.yaml)"* ]]
	[ -z "$(app_pids b)" ]
	run -1 "$PMC" describe b
	not_alive "$b"
	refused "$pb"
	# Apps of this file stay; so do the apps of other files.
	[ "$(app_pids a)" = "$a" ]
	[ "$(app_pids c)" = "$c" ]
	[ "$(app_pids other)" = "$o" ]
	http_get "$po" /pid
}

@test "SIGHUP to pmcd re-reads every file and applies it the same way" {
	pa=$(free_port)
	pb=$(free_port)
	pc=$(free_port)
	po=$(free_port)
	spec app.yaml "$(app_yaml a "$pa")" "$(app_yaml b "$pb")"
	spec other.yaml "$(app_yaml other "$po")"
	run -0 "$PMC" start app.yaml other.yaml
	a=$(app_pids a)
	b=$(app_pids b)
	o=$(app_pids other)

	# a changes, b is removed, c is new; other changes in its own file.
	spec app.yaml "$(app_yaml a "$pa" edited)" "$(app_yaml c "$pc")"
	spec other.yaml "$(app_yaml other "$po" also-edited)"
	kill -HUP "$(pmcd_pid)"
	wait_for 10 env_is "$pa" edited
	wait_for 10 env_is "$po" also-edited
	wait_for 10 all_online c 1
	wait_for 10 all_online a 1
	none_shared "$a" "$(app_pids a)"
	none_shared "$o" "$(app_pids other)"
	# Not pruned: b still runs, untouched.
	[ "$(app_pids b)" = "$b" ]
	env_is "$pb" one
}

@test "a spec with an error applies nothing, from pmc start or SIGHUP" {
	pa=$(free_port)
	pb=$(free_port)
	spec app.yaml "$(app_yaml a "$pa")"
	run -0 "$PMC" start app.yaml
	a=$(app_pids a)

	# A good change to a, a new app b, and an error in b.
	spec app.yaml "$(app_yaml a "$pa" two)" "$(app_yaml b "$pb" one "    instances: lots")"
	run -1 --separate-stderr "$PMC" start app.yaml
	[[ "$stderr" == *"app.yaml:12:16: instances: expected"* ]]
	[ "$(app_pids a)" = "$a" ]
	[ -z "$(app_pids b)" ]
	env_is "$pa" one

	kill -HUP "$(pmcd_pid)"
	wait_for 10 logged "SIGHUP: nothing applied"
	[ "$(app_pids a)" = "$a" ]
	[ -z "$(app_pids b)" ]
	env_is "$pa" one
	run -0 "$PMC" ping
}

@test "an address taken by a running app is an error; nothing of the file applies" {
	pa=$(free_port)
	pb=$(free_port)
	spec app.yaml "$(app_yaml a "$pa")"
	run -0 "$PMC" start app.yaml
	a=$(app_pids a)

	spec other.yaml "$(app_yaml b "$pb")" "$(app_yaml c "$pa")"
	run -1 --separate-stderr "$PMC" start other.yaml
	[[ "$stderr" == *"c: listen 127.0.0.1:$pa is already used by app a"* ]]
	[ -z "$(app_pids b)" ]
	[ -z "$(app_pids c)" ]
	refused "$pb"
	[ "$(app_pids a)" = "$a" ]
}

@test "a changed listen opens the new socket before the reload and closes the old after" {
	p1=$(free_port)
	p2=$(free_port)
	extra="    instances: 2
    ready: delay:1s"
	spec app.yaml "$(app_yaml a "$p1" one "$extra" | grep -v 'ready: notify')"
	run -0 "$PMC" start app.yaml
	old=$(app_pids a)

	spec app.yaml "$(app_yaml a "$p2" one "$extra" | grep -v 'ready: notify')"
	"$PMC" start app.yaml > start.out 2>&1 3>&- &
	START_PID=$!
	# While the new instances start, the new port answers, and so does
	# the old one, from an old instance.
	wait_for 10 http_get "$p2" /pid
	pid=$(http_get "$p1" /pid)
	[[ " $old " == *" $pid "* ]]
	rc=0
	wait "$START_PID" || rc=$?
	START_PID=
	cat start.out
	[ "$rc" -eq 0 ]

	all_online a 2
	none_shared "$old" "$(app_pids a)"
	http_get "$p2" /pid
	refused "$p1"
	run -0 "$PMC" describe a
	[[ "$output" == *"listen: 127.0.0.1:$p2"* ]]
}

@test "a changed listen is rolled back with the reload: the new socket closes" {
	p1=$(free_port)
	p2=$(free_port)
	spec app.yaml "$(app_yaml a "$p1")"
	run -0 "$PMC" start app.yaml
	old=$(app_pids a)

	# New port, and a command that never tells READY=1.
	spec app.yaml "$(app_yaml a "$p2" one "    ready_timeout: 500ms" | sed 's/, "--notify"//')"
	run -1 --separate-stderr "$PMC" start app.yaml
	[[ "$stderr" == *"not ready within 500ms"* ]]
	[ "$(app_pids a)" = "$old" ]
	[ "$(http_get "$p1" /pid)" = "$old" ]
	refused "$p2"
	run -0 "$PMC" describe a
	[[ "$output" == *"listen: 127.0.0.1:$p1"* ]]
}

@test "a changed app is refused while its reload is under way" {
	pa=$(free_port)
	spec app.yaml "$(app_yaml a "$pa" one "    ready: delay:1s")"
	sed -i '/ready: notify/d' app.yaml
	run -0 "$PMC" start app.yaml
	run -0 "$PMC" reload --no-wait a
	spec app.yaml "$(app_yaml a "$pa" two "    ready: delay:1s")"
	sed -i '/ready: notify/d' app.yaml
	run -1 --separate-stderr "$PMC" start app.yaml
	[[ "$stderr" == *"a: a reload is under way; try again when it ends"* ]]
}

@test "an app renamed in its file takes its port over with --prune" {
	pa=$(free_port)
	spec app.yaml "$(app_yaml web "$pa")"
	run -0 "$PMC" start app.yaml
	old=$(app_pids web)

	spec app.yaml "$(app_yaml site "$pa")"
	run --separate-stderr "$PMC" start --prune app.yaml
	echo "$output" "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"web: deleted (no longer in $BATS_TEST_TMPDIR/app.yaml)"* ]]
	[ -z "$(app_pids web)" ]
	not_alive "$old"
	all_online site 1
	[ "$(http_get "$pa" /env/PMC_APP)" = site ]
}

@test "a changed balance on a kept address is refused, and nothing changes" {
	pa=$(free_port)
	spec app.yaml "$(app_yaml a "$pa" one "    instances: 2")"
	run -0 "$PMC" start app.yaml
	old=$(app_pids a)

	spec app.yaml "$(app_yaml a "$pa" one "    instances: 2
    balance: reuseport")"
	run --separate-stderr "$PMC" start app.yaml
	echo "$output" "$stderr"
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: a: balance cannot change from round-robin to reuseport on 127.0.0.1:$pa while the app runs; delete the app and start it again, or move it to another address" ]
	[ "$(app_pids a)" = "$old" ]
	http_get "$pa" /pid
	run -0 "$PMC" describe a
	[[ "$output" == *"balance: round-robin"* ]]

	# Deleting it first is the way, as the message says.
	run -0 "$PMC" delete a
	run -0 "$PMC" start app.yaml
	all_online a 2
	new=$(app_pids a)
	# One socket per slot now.
	[ "$(for pid in $new; do readlink "/proc/$pid/fd/3"; done | sort -u | wc -l)" -eq 2 ]
}

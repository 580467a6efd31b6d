#!/usr/bin/env bats
#
# cron_restart: a rolling reload at the times of a crontab(5) schedule.
# The schedule's arithmetic is checked on its own (tests/bin/cronnext,
# config/cron.c with a start time of our choosing, DST changes
# included); one test waits for a real every-minute schedule to fire.

load helper

bats_require_minimum_version 1.5.0

CRONNEXT=$PMC_TESTBIN/cronnext

# at ZONE DATE: the Unix time of DATE ("2026-03-07 12:00 UTC").
at() {
	date -d "$1" +%s
}

need_zone() {
	[ -f "/usr/share/zoneinfo/$1" ] || skip "no time zone $1 (tzdata)"
}

@test "cron: steps, ranges, lists, names and @shorthands fire when crontab(5) says" {
	local from
	from=$(at "2026-12-05 12:00 UTC")
	run -0 env TZ=UTC "$CRONNEXT" '*/15 9-17 * * mon-fri' "$from" 3
	same "weekdays 9 to 5, every 15 min" "2026-12-07T09:00 UTC
2026-12-07T09:15 UTC
2026-12-07T09:30 UTC" "$output"
	run -0 env TZ=UTC "$CRONNEXT" '0 3 1,15 jan,dec *' "$from" 3
	same "3 am on the 1st and 15th of Dec and Jan" "2026-12-15T03:00 UTC
2027-01-01T03:00 UTC
2027-01-15T03:00 UTC" "$output"
	# Both day fields given: either day fires (Sunday 7 is Sunday 0).
	run -0 env TZ=UTC "$CRONNEXT" '0 0 10 * 7' "$from" 3
	same "the 10th, or a Sunday" "2026-12-06T00:00 UTC
2026-12-10T00:00 UTC
2026-12-13T00:00 UTC" "$output"
	run -0 env TZ=UTC "$CRONNEXT" '@weekly' "$from" 1
	[ "$output" = "2026-12-06T00:00 UTC" ]
	run -0 env TZ=UTC "$CRONNEXT" '0 0 29 2 *' "$from" 1
	[ "$output" = "2028-02-29T00:00 UTC" ]
}

@test "cron: local time across DST: a time the change skips does not fire that day, one it repeats fires once" {
	need_zone America/New_York
	# 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:30 never comes.
	run -0 env TZ=America/New_York "$CRONNEXT" '30 2 * * *' \
	    "$(at '2026-03-07 12:00 UTC')" 2
	same "spring forward" "2026-03-09T02:30 EDT
2026-03-10T02:30 EDT" "$output"
	# 2026-11-01: 01:00-02:00 comes twice; 01:30 fires the first time.
	run -0 env TZ=America/New_York "$CRONNEXT" '30 1 * * *' \
	    "$(at '2026-10-31 12:00 UTC')" 2
	same "fall back" "2026-11-01T01:30 EDT
2026-11-02T01:30 EST" "$output"
	# Every hour through the repeated one: each wall-clock hour once.
	run -0 env TZ=America/New_York "$CRONNEXT" '0 * * * *' \
	    "$(at '2026-11-01 04:30 UTC')" 3
	same "hourly through fall back" "2026-11-01T01:00 EDT
2026-11-01T02:00 EST
2026-11-01T03:00 EST" "$output"
}

@test "cron_restart: a malformed schedule is a spec error naming line and column" {
	local f
	for f in '"5 4 * *"|4:27|a day of the week from 0 to 7 or sun to sat' \
	    '"61 * * * *"|4:20|a minute from 0 to 59' \
	    '"0 0 30 2 *"|4:20|a day that comes (this one never does)' \
	    '"*/0 * * * *"|4:22|a step from 1 up' \
	    '"@often"|4:20|@yearly, @monthly, @weekly, @daily or @hourly' \
	    '"0 9-5 * * *"|4:22|a range whose end is not before its start'; do
		IFS='|' read -r value where why <<< "$f"
		printf 'apps:\n  - name: web\n    command: x\n    cron_restart: %s\n' \
		    "$value" > app.yaml
		run -1 "$PMCD" -n app.yaml
		[[ "$output" == *"app.yaml:$where: cron_restart: expected $why, got "* ]] ||
		    { echo "$value: $output"; return 1; }
	done
}

@test "cron_restart: describe shows the schedule and its next reload, in local time" {
	port=$(free_port)
	demo_spec app.yaml web 1 "127.0.0.1:$port" 'cron_restart: "30 4 * * *"'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -0 "$PMC" describe web
	echo "$output" | grep -Eq '^cron_restart: 30 4 \* \* \*, next reload at [0-9]{4}-[0-9]{2}-[0-9]{2}T04:30:00[+-][0-9]{4}$'
}

# reloaded_once OLD: instance 0 has a new pid, and pmcd said why once.
reloaded_once() {
	[ "$(slot_pid web 0)" != "$1" ] && all_online web 2 &&
	    [ "$(grep -c 'cron_restart "\* \* \* \* \*": reloading' \
	    "$PMC_HOME/pmcd.log")" -eq 1 ]
}

@test "cron_restart every minute: at the next minute the app is reloaded, once, and serves throughout" {
	local old
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" 'cron_restart: "* * * * *"'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	old=$(slot_pid web 0)
	client_loop "$port"
	# The minute comes within 60 s; the reload takes a moment more.
	wait_for 70 reloaded_once "$old"
	stop_client_loop
	[ ! -s "$loop/fail" ] || { cat "$loop/fail"; return 1; }
	[ -s "$loop/ok" ]
	run -0 "$PMC" describe web
	[[ "$output" == *"next reload at"* ]]
}

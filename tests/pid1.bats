#!/usr/bin/env bats
#
# pmcd as the init of a container (PID 1 of its own PID namespace) reaps
# every orphan there, its instances' and those of processes entered from
# outside; SIGTERM stops every app and it exits 0.  Outside a namespace it
# is a child subreaper: what its instances leave behind comes back to it
# and is reaped too.
#
# The namespace is made with unshare(1), as root.  pmcd's pid file then
# says 1 (its pid in there), so these tests find pmcd through unshare's
# children and never give that file to pmc_teardown.

bats_require_minimum_version 1.5.0
load helper

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a PID namespace"
	command -v unshare >/dev/null 2>&1 || skip "unshare not installed"
	pmc_setup
	PORT=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sh", "-c", "(sleep 300 &); exec \"\$0\"", "$DEMO"]
	    listen: 127.0.0.1:$PORT
	    ready: delay:200ms
	EOF
}

teardown() {
	if [ -n "${US_PID:-}" ]; then
		ns_teardown
	else
		pmc_teardown
	fi
}

# Stop the namespace by its host pids; the pid file ("1") is not ours to
# read from here.
ns_teardown() {
	rm -f "$PMC_HOME/pmcd.pid"
	[ -z "${NS_PMCD:-}" ] || kill -TERM "$NS_PMCD" 2>/dev/null
	if ! wait_for 10 not_alive "$US_PID"; then
		[ -z "${NS_PMCD:-}" ] || kill -KILL "$NS_PMCD" 2>/dev/null
		kill -KILL "$US_PID" 2>/dev/null
	fi
	return 0
}

# children PID: the host pids of PID's children, one a line.
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .
}

comm() {
	cat "/proc/$1/comm" 2>/dev/null
}

# status_field PID FIELD: a field of /proc/PID/status (NSpid, PPid...).
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

# The pid of a host pid in the innermost namespace it lives in.
ns_pid() {
	status_field "$1" NSpid | awk '{ print $NF }'
}

# child_named PID COMM: the first child of PID named COMM.
child_named() {
	local c
	for c in $(children "$1"); do
		if [ "$(comm "$c")" = "$2" ]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# Gone from the process table: exited and reaped.  A zombie is not gone.
reaped() {
	[ ! -e "/proc/$1" ]
}

# unshare's child, once it is pmcd: NS_PMCD (its host pid).
ns_pmcd_up() {
	local p
	p=$(children "$US_PID" | head -n 1)
	[ -n "$p" ] && [ "$(comm "$p")" = pmcd ] || return 1
	NS_PMCD=$p
}

start_in_namespace() {
	unshare --pid --fork --mount-proc "$PMCD" -f app.yaml \
	    > pmcd.err 2>&1 3>&- &
	US_PID=$!
	wait_for 5 ns_pmcd_up
	wait_for 10 all_online web 1
}

# The instance's orphan: the `sleep 300` the instance left to pmcd.
orphan_of() {
	child_named "$1" sleep
}

@test "in a PID namespace pmcd is PID 1 and reaps the orphan an instance leaves" {
	start_in_namespace
	echo "pmcd: host pid $NS_PMCD, NSpid $(status_field "$NS_PMCD" NSpid)"
	[ "$(ns_pid "$NS_PMCD")" -eq 1 ]
	# pmc list shows the namespace's pids.
	inst=$(child_named "$NS_PMCD" demo-httpd)
	[ "$(app_pids web)" = "$(ns_pid "$inst")" ]
	[ "$(http_get "$PORT" /pid)" = "$(ns_pid "$inst")" ]

	orphan=$(orphan_of "$NS_PMCD")
	echo "orphan: host pid $orphan, NSpid $(status_field "$orphan" NSpid)"
	[ "$(status_field "$orphan" PPid)" = "$NS_PMCD" ]
	kill -KILL "$orphan"
	wait_for 5 reaped "$orphan"
	# The instance did not notice.
	[ "$(app_pids web)" = "$(ns_pid "$inst")" ]
	run app_statuses web
	[ "$output" = online ]
	run http_get "$PORT" /pid
	[ "$output" = "$(ns_pid "$inst")" ]
}

@test "as PID 1 pmcd reaps orphans of processes entered from outside" {
	command -v nsenter >/dev/null 2>&1 || skip "nsenter not installed"
	start_in_namespace
	# sh runs in the namespace and exits at once: its sleeps are orphans
	# whose parent chain leaves the namespace, so they go to its init.
	run nsenter -t "$NS_PMCD" -p -m -- sh -c \
	    'sleep 301 >/dev/null 2>&1 & echo $!; sleep 1 >/dev/null 2>&1 & echo $!' 3>&-
	[ "$status" -eq 0 ]
	long=${lines[0]} short=${lines[1]}
	echo "orphans in the namespace: $long $short"
	[ "$long" -gt 1 ]
	[ "$short" -gt 1 ]
	hlong='' hshort=''
	for c in $(children "$NS_PMCD"); do
		case $(ns_pid "$c") in
		"$long") hlong=$c ;;
		"$short") hshort=$c ;;
		esac
	done
	echo "host pids: $hlong $hshort"
	[ -n "$hlong" ]
	[ "$(status_field "$hlong" PPid)" = "$NS_PMCD" ]
	# The one that exits by itself is reaped (it may be gone already).
	[ -z "$hshort" ] || wait_for 5 reaped "$hshort"
	kill -KILL "$hlong"
	wait_for 5 reaped "$hlong"
	# No zombie left among pmcd's children.
	for c in $(children "$NS_PMCD"); do
		state=$(sed 's/.*) //' "/proc/$c/stat" 2>/dev/null | cut -c1)
		echo "child $c $(comm "$c") $state"
		[ "$state" != Z ]
	done
	run app_statuses web
	[ "$output" = online ]
}

@test "SIGTERM to PID 1 pmcd stops every app gracefully; unshare exits 0" {
	start_in_namespace
	inst=$(child_named "$NS_PMCD" demo-httpd)
	orphan=$(orphan_of "$NS_PMCD")
	kill -TERM "$NS_PMCD"
	wait_for 15 not_alive "$US_PID"
	rc=0
	wait "$US_PID" || rc=$?
	cat pmcd.err
	echo "unshare exited $rc"
	[ "$rc" -eq 0 ]
	grep -q 'SIGTERM: stopping every app' pmcd.err
	grep -q 'every app stopped, exiting' pmcd.err
	reaped "$inst"
	reaped "$orphan"
	[ ! -e "$PMC_HOME/pmc.sock" ]
	run curl -sS --max-time 2 "http://127.0.0.1:$PORT/"
	[ "$status" -ne 0 ]
}

@test "pmc kill from outside the namespace stops PID 1 pmcd; unshare exits 0" {
	start_in_namespace
	run timeout 20 "$PMC" kill
	echo "$output"
	[ "$status" -eq 0 ]
	wait_for 15 not_alive "$US_PID"
	rc=0
	wait "$US_PID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q 'every app stopped, exiting' pmcd.err
}

# --- no namespace: child subreaper ------------------------------------------

start_plain() {
	"$PMCD" -f app.yaml > pmcd.err 2>&1 3>&- &
	PMCD_PID=$!
	wait_for 10 all_online web 1
}

@test "without a namespace pmcd is a child subreaper: an instance's orphan comes back to it and is reaped" {
	start_plain
	[ "$(ns_pid "$PMCD_PID")" -ne 1 ]
	inst=$(app_pids web)
	[ "$(status_field "$inst" PPid)" = "$PMCD_PID" ]
	wait_for 5 orphan_of "$PMCD_PID"
	orphan=$(orphan_of "$PMCD_PID")
	echo "instance $inst, orphan $orphan"
	[ "$(status_field "$orphan" PPid)" = "$PMCD_PID" ]
	kill -KILL "$orphan"
	wait_for 5 reaped "$orphan"
	[ "$(app_pids web)" = "$inst" ]
	run app_statuses web
	[ "$output" = online ]
	run http_get "$PORT" /pid
	[ "$output" = "$inst" ]
}

@test "without a namespace: stopping an instance takes the orphans of its process group, reaped" {
	start_plain
	wait_for 5 orphan_of "$PMCD_PID"
	orphan=$(orphan_of "$PMCD_PID")
	inst=$(app_pids web)
	run timeout 20 "$PMC" stop web
	[ "$status" -eq 0 ]
	wait_for 5 reaped "$inst"
	wait_for 5 reaped "$orphan"
	run app_statuses web
	[ "$output" = stopped ]
}

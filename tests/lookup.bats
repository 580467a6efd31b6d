#!/usr/bin/env bats
# lookup.bats -- user, group and host names are looked up once, outside
# pmcd's loop: pmc (or the child pmcd forks for SIGHUP) asks the name
# service; pmcd answers pmc ping and restarts instances while a look-up
# hangs; an instance keeps the identity it was given when its user can
# no longer be looked up.

bats_require_minimum_version 1.5.0
load helper
load nobody

HANG=$PMC_TESTBIN/hang-nss.so

teardown() {
	pmc_teardown
	nobody_cleanup
}

# log_has TEXT: pmcd.log holds TEXT.
log_has() {
	grep -qF -- "$1" "$PMC_HOME/pmcd.log"
}

# A pmcd whose every name look-up hangs (hang-nss.so preloaded into it
# alone; pmc asks the real name service).  An ASan pmcd accepts a
# preload that does not come first.
start_hanging_pmcd() {
	env LD_PRELOAD="$HANG" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$PMCD" 3>&-
	wait_for 10 "$PMC" ping
}

@test "pmcd answers and restarts a killed instance while a name look-up hangs" {
	local port pids old new
	# The preload really hangs a look-up: a program that asks waits.
	run timeout 2 env LD_PRELOAD="$HANG" getent ahosts localhost
	[ "$status" -eq 124 ]
	port=$(free_port)
	start_hanging_pmcd
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    instances: 2
	    listen: localhost:$port
	EOF
	if [ "$(id -u)" -eq 0 ]; then
		echo '    user: nobody' >> app.yaml
	fi
	# pmc looked the names up and sent the answers: pmcd asked no one.
	pmc_start app.yaml
	echo "$stderr"
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 2
	# SIGHUP: the files are read again, and the names looked up, by a
	# child of pmcd, which hangs in its look-up.
	kill -HUP "$(pmcd_pid)"
	wait_for 5 log_has "SIGHUP: re-reading 1 spec file"
	run -0 timeout 5 "$PMC" ping
	pids=$(app_pids web)
	old=${pids%% *}
	kill -KILL "$old"
	wait_for 10 all_online web 2
	new=$(app_pids web)
	none_shared "$old" "$new"
	[ -n "$(http_get "$port" /pid)" ]
	run -0 timeout 5 "$PMC" list
	! log_has "nothing applied"
}

@test "as root, a numeric user: keeps its uid, gid and groups when the look-up later fails" {
	local pid new
	need_nobody
	command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	    skip "needs unshare and nsenter"
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    user: "65534"
	    cwd: /
	    listen: 127.0.0.1:$(free_port)
	EOF
	# pmcd in a mount namespace of its own, where passwd can vanish.
	unshare --mount --propagation private "$PMCD" 3>&-
	wait_for 10 "$PMC" ping
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 1
	pid=$(app_pids web)
	grep -Eq '^Uid:\s+65534\s' "/proc/$pid/status"
	grep -Eq '^Groups:\s+65534\s*$' "/proc/$pid/status"
	[ "$(env_of "$pid" HOME)" = "$(getent passwd 65534 | cut -d: -f6)" ]
	[ "$(env_of "$pid" USER)" = nobody ]
	[ "$(env_of "$pid" LOGNAME)" = nobody ]
	[ "$(env_of "$pid" SHELL)" = "$(getent passwd 65534 | cut -d: -f7)" ]
	# User and groups disappear for pmcd (LDAP down, user deleted): a
	# look-up at the next spawn would fail, as this one does.
	# (nss-systemd makes nobody up: files alone are asked.)
	: > empty
	printf 'passwd: files\ngroup: files\n' > nsswitch.conf
	nsenter --target "$(pmcd_pid)" --mount \
	    sh -c "mount --bind $PWD/empty /etc/passwd &&
		mount --bind $PWD/empty /etc/group &&
		mount --bind $PWD/nsswitch.conf /etc/nsswitch.conf"
	run nsenter --target "$(pmcd_pid)" --mount getent passwd 65534
	[ "$status" -ne 0 ]
	kill -KILL "$pid"
	wait_for 10 all_online web 1
	new=$(app_pids web)
	[ "$new" != "$pid" ]
	# Not root's group 0, nor pmcd's groups: the ids of the spec.
	grep -Eq '^Uid:\s+65534\s' "/proc/$new/status"
	grep -Eq '^Gid:\s+65534\s' "/proc/$new/status"
	grep -Eq '^Groups:\s+65534\s*$' "/proc/$new/status"
	[ "$(env_of "$new" USER)" = nobody ]
}

@test "user: nobody gets nobody's HOME, USER, LOGNAME and SHELL; env: may override them" {
	local pid
	need_nobody
	cat > app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    user: nobody
	    cwd: /
	    listen: 127.0.0.1:$(free_port)
	    env: {SHELL: /bin/sh}
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 1
	pid=$(app_pids web)
	[ "$(env_of "$pid" HOME)" = "$(getent passwd nobody | cut -d: -f6)" ]
	[ "$(env_of "$pid" USER)" = nobody ]
	[ "$(env_of "$pid" LOGNAME)" = nobody ]
	[ "$(env_of "$pid" SHELL)" = /bin/sh ]
}

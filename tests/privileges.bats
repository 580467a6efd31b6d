#!/usr/bin/env bats
# privileges.bats -- who an instance runs as and what it inherits: as
# root, user:/group: drop to that user with its groups before the exec;
# not as root, naming another user is a spec error; and an instance's
# environment holds pmcd's own, env:, and the documented variables only.

bats_require_minimum_version 1.5.0
load helper
load nobody

teardown() {
	nobody_cleanup
}

# status_line PID FIELD: a line of /proc/PID/status (Uid: real, effective,
# saved and fs uid; Groups: the supplementary groups), words one space
# apart.
status_line() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' ' |
	    sed 's/ $//'
}

# sorted_ids WORDS...: the numbers, sorted, one space apart.
sorted_ids() {
	echo $* | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//'
}

@test "as root, user: nobody and group: nogroup run the instance as nobody, with nobody's groups" {
	need_nobody
	nobody_tmp
	# A file only root may read, in a folder anyone may enter.
	echo "top secret" > "$NOBODY_TMP/secret"
	chmod 0600 "$NOBODY_TMP/secret"
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sh", "-c", "cat $NOBODY_TMP/secret; echo cat status \$?; exec $DEMO --notify"]
	    instances: 2
	    listen: 127.0.0.1:$port
	    ready: notify
	    user: nobody
	    group: nogroup
	EOF
	pmc_start app.yaml
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	all_online web 2
	groups=$(sorted_ids "$(id -G nobody)")
	for pid in $(app_pids web); do
		same "Uid of $pid" "65534 65534 65534 65534" "$(status_line "$pid" Uid)"
		same "Gid of $pid" "65534 65534 65534 65534" "$(status_line "$pid" Gid)"
		# initgroups: nobody's groups, none of root's.
		same "Groups of $pid" "$groups" \
		    "$(sorted_ids "$(status_line "$pid" Groups)")"
	done
	# The file stayed closed to it...
	wait_for 5 inst_logged web 0 '^cat status 1$'
	inst_logged web 0 "$NOBODY_TMP/secret: Permission denied" err
	! grep -rq "top secret" "$PMC_HOME/logs"
	# ...while its socket, notify socket and log pipes work as root's.
	run -0 http_get "$port" /
	[[ "$output" == "hello from pid "* ]]
	run -0 "$PMC" logs -n 10 web
	[[ "$output" == *"cat status 1"* ]]
}

@test "as root, user: runs the instance with that user's supplementary groups" {
	need_nobody
	# A user with a supplementary group, if this system has one.
	user=$(getent group | awk -F: '$4 != "" { split($4, u, ","); print u[1]; exit }')
	[ -n "$user" ] || skip "no user with a supplementary group here"
	write_spec app.yaml <<-EOF
	apps:
	  - name: grp
	    command: ["sleep", "1000"]
	    user: $user
	    ready: delay:100ms
	EOF
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	pid=$(app_pids grp)
	want=$(sorted_ids "$(id -G "$user")")
	[ "$(echo "$want" | wc -w)" -gt 1 ]
	same "Groups of $user" "$want" \
	    "$(sorted_ids "$(status_line "$pid" Groups)")"
	same "Uid of $user" "$(id -u "$user")" "$(status_line "$pid" Uid | cut -d' ' -f1)"
}

@test "not as root, user: or group: naming another is a spec error" {
	need_nobody
	nobody_home
	cd "$NOBODY_TMP"
	for key in "user: root" "group: root" "user: daemon" "user: 0"; do
		write_spec app.yaml <<-EOF
		apps:
		  - name: w
		    command: ["sleep", "1000"]
		    $key
		EOF
		what=${key%%:*}
		want="pmc: app.yaml:4:$(( ${#what} + 7 )): $what: only root can run apps as another $what"
		run -1 --separate-stderr as_nobody env PMC_HOME="$PMC_HOME" \
		    "$PMC" start app.yaml 3>&-
		echo "$key: $stderr"
		same "$key" "$want" "$stderr"
		# Nothing applied, not even a pmcd started for it.
		[ ! -e "$PMC_HOME/pmcd.pid" ]
		# pmcd's own check says the same.
		run -1 --separate-stderr as_nobody env PMC_HOME="$PMC_HOME" \
		    "$PMCD" -n app.yaml
		[[ "$stderr" == *"$what: only root can run apps as another $what"* ]]
	done
	# Naming oneself is fine.
	write_spec app.yaml <<-EOF
	apps:
	  - name: w
	    command: ["sleep", "1000"]
	    ready: delay:100ms
	    user: nobody
	    group: nogroup
	EOF
	run -0 as_nobody env PMC_HOME="$PMC_HOME" "$PMC" start app.yaml 3>&-
	pid=$(as_nobody env PMC_HOME="$PMC_HOME" "$PMC" list --json |
	    sed -n 's/.*"pid": \([1-9][0-9]*\),.*/\1/p')
	[ "$(status_line "$pid" Uid)" = "65534 65534 65534 65534" ]
	run -0 as_nobody env PMC_HOME="$PMC_HOME" "$PMC" kill
}

# env_is PID [NAME=VALUE...]: the environment PID was started with is
# exactly base.env (as `env -0` wrote it, less the variables pmcd keeps
# to itself) with these set; "_" aside.  Shows the differences when not.
env_is() {
	python3 - "$@" <<-'EOF'
	import re, sys
	def parse(b):
	    return dict(l.decode().split("=", 1) for l in b.split(b"\0") if l)
	got = parse(open("/proc/%s/environ" % sys.argv[1], "rb").read())
	got.pop("_", None)	# the shell's, as pmc start was run
	want = parse(open("base.env", "rb").read())
	for k in list(want):
	    if k == "_" or re.match(
	        r"LISTEN_|NOTIFY_SOCKET$|WATCHDOG_|PMC_SHIM_|LD_PRELOAD$", k):
	        del want[k]
	want.update(a.split("=", 1) for a in sys.argv[2:])
	bad = 0
	for k in sorted(set(got) | set(want)):
	    if got.get(k) != want.get(k):
	        print("%s: expected %r, got %r" % (k, want.get(k), got.get(k)))
	        bad = 1
	sys.exit(bad)
	EOF
}

@test "an instance's environment is pmcd's, env: and the documented variables, nothing else" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: plain
	    command: ["sleep", "1000"]
	    ready: delay:100ms
	  - name: web
	    command: ["$DEMO", "--notify"]
	    listen: 127.0.0.1:$port
	    ready: notify
	    env: {FOO: bar, HOME: /nowhere}
	EOF
	# What pmcd inherits from pmc start, with what pmcd keeps to itself:
	# a systemd's or a shim's variables meant for pmcd, not its children.
	internals="LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=x
	    NOTIFY_SOCKET=@pmc-test-nothing WATCHDOG_USEC=1000000
	    WATCHDOG_PID=1 PMC_SHIM_PID=1 PMC_SHIM_FDS=3"
	env -0 > base.env
	# shellcheck disable=SC2086
	run -0 --separate-stderr env $internals "$PMC" start app.yaml 3>&-
	all_online plain 1
	all_online web 1

	pid=$(app_pids plain)
	env_is "$pid" PMC_APP=plain PMC_INSTANCE=0 NODE_APP_INSTANCE=0 \
	    PMC_CHANNEL_FD=3 NODE_CHANNEL_FD=3 \
	    NODE_CHANNEL_SERIALIZATION_MODE=json

	pid=$(app_pids web)
	notify=$(env_of "$pid" NOTIFY_SOCKET)
	[[ "$notify" == @* ]]
	env_is "$pid" HOME=/nowhere FOO=bar PMC_APP=web PMC_INSTANCE=0 \
	    LISTEN_FDS=1 LISTEN_PID="$pid" LISTEN_FDNAMES=web \
	    NOTIFY_SOCKET="$notify" NODE_APP_INSTANCE=0 PMC_CHANNEL_FD=4 \
	    NODE_CHANNEL_FD=4 NODE_CHANNEL_SERIALIZATION_MODE=json
}

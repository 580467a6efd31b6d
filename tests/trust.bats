#!/usr/bin/env bats
# trust.bats -- which spec files pmc and pmcd read.  As root, only files
# that no one but root can change (the file and every folder above it,
# as sshd's StrictModes); never a FIFO (no open blocks); a symlinked spec
# means the same in pmc and pmcd.

bats_require_minimum_version 1.5.0
load helper
load nobody

teardown() {
	pmc_teardown
	nobody_cleanup
}

log_has() {
	grep -qF -- "$1" "$PMC_HOME/pmcd.log"
}

# web_spec FILE PORT [LINE...]: demo-httpd as nobody, one instance.
web_spec() {
	local file=$1 port=$2
	shift 2
	{
		printf 'apps:\n  - name: web\n    command: ["%s"]\n' "$DEMO"
		printf '    cwd: /\n    listen: 127.0.0.1:%s\n' "$port"
		printf '    %s\n' "$@"
	} > "$file"
}

uid_of() {
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}

@test "as root, a spec that another user can change is refused, by pmc and by pmcd" {
	local dir port real
	need_nobody
	nobody_tmp
	dir=$NOBODY_TMP/app
	mkdir -m 0755 "$dir"
	port=$(free_port)
	web_spec "$dir/pm.yaml" "$port" 'user: nobody'
	chown nobody "$dir/pm.yaml"
	real=$(realpath "$dir/pm.yaml")
	# The attack: nobody drops the user: line, so the app would run as
	# root.  Its owner may rewrite it.
	web_spec evil.yaml "$port"
	as_nobody tee "$dir/pm.yaml" < evil.yaml > /dev/null
	! grep -q user: "$dir/pm.yaml"
	pmc_start "$dir/pm.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: $real: owned by uid 65534 and writable by it; a root pmcd reads only root's files" ]
	[ ! -e "$PMC_HOME/pmc.sock" ]
	# The same file sent straight to a running pmcd, past pmc's checks.
	"$PMCD" 3>&-
	wait_for 10 "$PMC" ping
	run send_start "$real"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$real: owned by uid 65534 and writable by it"* ]]
	[ -z "$(app_pids web)" ]
	# A folder on the way that a group may write is as bad.
	chown root "$dir/pm.yaml"
	chgrp nogroup "$dir"
	chmod 0775 "$dir"
	pmc_start "$dir/pm.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: $dir: writable by group $(getent group nogroup | cut -d: -f3) (mode 0775); a root pmcd reads only files that no one else can change" ]
	# Root's own file in root's folder: started.
	chmod 0755 "$dir"
	pmc_start "$dir/pm.yaml"
	[ "$status" -eq 0 ]
}

@test "as root, SIGHUP does not apply a spec whose folder another user took over" {
	local dir port pid
	need_nobody
	nobody_tmp
	dir=$NOBODY_TMP/app
	mkdir -m 0755 "$dir"
	port=$(free_port)
	web_spec "$dir/pm.yaml" "$port" 'user: nobody' 'env: {V: "1"}'
	pmc_start "$dir/pm.yaml"
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 1
	pid=$(app_pids web)
	[ "$(uid_of "$pid")" = 65534 ]
	# The folder becomes nobody's; nobody rewrites the spec without
	# user: and waits for the next reload.
	chown nobody "$dir"
	as_nobody sh -c "rm -f $dir/pm.yaml && printf 'apps:\n  - name: web\n    command: [\"$DEMO\"]\n    cwd: /\n    listen: 127.0.0.1:$port\n    env: {V: \"2\"}\n' > $dir/pm.yaml"
	! grep -q user: "$dir/pm.yaml"
	kill -HUP "$(pmcd_pid)"
	wait_for 10 log_has "SIGHUP: nothing applied"
	cat "$PMC_HOME/pmcd.log"
	log_has "$dir/pm.yaml: owned by uid 65534 and writable by it"
	[ "$(app_pids web)" = "$pid" ]
	[ "$(uid_of "$pid")" = 65534 ]
	[ "$(http_get "$port" /env/V)" = 1 ]
}

@test "a FIFO in place of a spec is refused at once, by pmc and by SIGHUP" {
	local port pid
	mkfifo fifo.yaml
	run --separate-stderr timeout 10 "$PMC" start fifo.yaml 3>&-
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: fifo.yaml: not a regular file" ]
	port=$(free_port)
	web_spec app.yaml "$port"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 1
	pid=$(app_pids web)
	rm app.yaml
	mkfifo app.yaml
	kill -HUP "$(pmcd_pid)"
	wait_for 10 log_has "SIGHUP: nothing applied"
	log_has "app.yaml: not a regular file"
	run -0 timeout 5 "$PMC" ping
	[ "$(app_pids web)" = "$pid" ]
}

@test "a symlinked spec resolves its relative paths against its target, in pmc and pmcd alike" {
	local pid
	mkdir a b
	printf 'apps:\n  - name: web\n    command: ["%s"]\n    listen: unix:web.sock\n' \
	    "$DEMO" > b/pm.yaml
	ln -s ../b/pm.yaml a/link.yaml
	run -0 "$PMCD" -n -v a/link.yaml
	[[ "$output" == *"web.cwd=$PWD/b"* ]]
	pmc_start a/link.yaml
	[ "$status" -eq 0 ]
	wait_for 10 all_online web 1
	pid=$(app_pids web)
	[ -S b/web.sock ]
	[ ! -e a/web.sock ]
	[ "$(readlink "/proc/$pid/cwd")" = "$PWD/b" ]
	# An error names the file as it was given.
	printf 'apps:\n  - name: web\n    command: x\n    instances: lots\n' > b/pm.yaml
	pmc_start a/link.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == "pmc: a/link.yaml:4:16: instances:"* ]]
}

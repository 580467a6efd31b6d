#!/usr/bin/env bats
#
# Real servers, from Debian's packages and unmodified, run N-up on one
# port: python3 -m http.server, node, nginx (all three bind the port
# themselves: intercept_bind) and gunicorn (takes LISTEN_FDS natively).
# For each: every instance comes online and stays so with no restart,
# requests are answered by more than one instance, and an instance killed
# with SIGKILL (its whole process group goes with it) comes back with a
# new pid while the port keeps answering, not one request failing.
#
# A server that is not installed is skipped, saying so; tests/deps.sh
# installs them all.

load helper

bats_require_minimum_version 1.5.0

# Debian's own python3, not whichever python3 comes first in PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# How many instances each server runs.
N=3

# healthy APP N: APP has N instances, all online, none ever restarted.
healthy() {
	"$PMC" list --json | "$PY" -c '
import json, sys
l = [i for i in json.load(sys.stdin) if i["name"] == sys.argv[1]]
sys.exit(not (len(l) == int(sys.argv[2]) and
    all(i["status"] == "online" and i["restarts"] == 0 for i in l)))' \
	    "$1" "$2"
}

# stays_healthy APP N SECONDS: healthy, checked every 100 ms for SECONDS;
# fails at the first check that does not hold.
stays_healthy() {
	local end=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		healthy "$1" "$2" || { "$PMC" list; return 1; }
		sleep 0.1	# the period of the check, not a wait
	done
}

# listeners PORT: how many sockets listen on 127.0.0.1:PORT and [::]:PORT.
# One, pmcd's, when the servers share it; a server that bound a socket
# of its own would add one.
# listeners PORT: the listening sockets on PORT.  pmcd's only: one per
# instance (balance: round-robin, the default); a server that bound its
# own would add one.
listeners() {
	ss -Hltn "sport = :$1" | grep -c .
}

# served_slots APP: how many instances of APP have logged a request
# (the app's lines, on stdout or stderr, each tagged "[<instance>] ").
served_slots() {
	cat "$PMC_HOME/logs/$1".{out,err}.log 2>/dev/null |
	    sed -n -E 's/^([0-9T:.Z-]+ )?\[([0-9]+)\] .*GET \/.*/\2/p' |
	    sort -u | grep -c .
}

# request_round PORT PATH: 8 GETs at once, answers appended to $answers.
request_round() {
	local jobs='' _
	for _ in 1 2 3 4 5 6 7 8; do
		http_get "$1" "$2" >> "$answers" 2>&1 3>&- &
		jobs="$jobs $!"
	done
	# shellcheck disable=SC2086
	wait $jobs
}

# two_served APP PORT PATH: one round of requests, then true once two
# instances or more of APP have answered.
two_served() {
	request_round "$2" "$3"
	[ "$(served_slots "$1")" -ge 2 ]
}

# answered_by_many APP PORT PATH WANT: rounds of requests until two
# instances of APP or more answered (10 s at most), every answer WANT.
answered_by_many() {
	answers=$BATS_TEST_TMPDIR/answers
	: > "$answers"
	wait_for 10 two_served "$1" "$2" "$3" || return 1
	echo "$(served_slots "$1") instances answered"
	if grep -v -- "$4" "$answers"; then
		echo "answers above are not \"$4\""
		return 1
	fi
}

# survives_kill APP N PORT PATH: under a client loop, kill -9 the
# instance in slot 1; what is left of its process group is killed, the
# slot comes back with a new pid and one restart, and not one request
# fails.  Killed between two requests of the loop: one in the middle of
# an answer would be lost whatever pmcd does.
survives_kill() {
	local app=$1 n=$2 port=$3 path=$4 victim group p new count
	victim=$(slot_field "$app" 1 pid)
	[ -n "$victim" ] && [ "$victim" -gt 0 ]
	client_loop "$port" "$path"
	wait_for 10 served_more 5
	hold_client_loop
	group=$(pgrep -g "$victim" | tr '\n' ' ')
	echo "slot 1: pid $victim, process group: $group"
	kill -KILL "$victim"
	for p in $group; do
		wait_for 5 not_alive "$p"
	done
	release_client_loop
	wait_for 15 all_online "$app" "$n"
	new=$(slot_field "$app" 1 pid)
	echo "slot 1: new pid $new"
	[ "$new" != "$victim" ]
	[ "$(slot_field "$app" 1 restarts)" -eq 1 ]
	count=$(grep -c . "$loop/ok")
	wait_for 10 served_more $((count + 10))
	stop_client_loop
	echo "$(grep -c . "$loop/ok") answered; failures: $(cat "$loop/fail")"
	[ ! -s "$loop/fail" ]
}

@test "python3 -m http.server, N-up with intercept_bind: online, serving, survives kill -9" {
	port=$(free_port)
	mkdir www
	echo "hello from a file" > www/hello.txt
	cat > app.yaml <<-EOF
	apps:
	  - name: py
	    command: ["$PY", "-m", "http.server", "$port", "--bind", "127.0.0.1",
	        "--directory", "$BATS_TEST_TMPDIR/www"]
	    instances: $N
	    listen: 127.0.0.1:$port
	    intercept_bind: true
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	stays_healthy py $N 2
	[ "$(listeners "$port")" -eq $N ]
	[ "$(http_get "$port" /hello.txt)" = "hello from a file" ]
	answered_by_many py "$port" /hello.txt "hello from a file"
	survives_kill py $N "$port" /hello.txt
	run -1 grep -vx "hello from a file" "$loop/ok"
}

@test "node with a plain server.listen(port), N-up with intercept_bind: online, serving, survives kill -9" {
	command -v node >/dev/null 2>&1 ||
	    skip "node not installed: sh tests/deps.sh installs nodejs"
	port=$(free_port)
	cat > app.yaml <<-EOF
	apps:
	  - name: node
	    command: ["node", "$TESTS_DIR/fixtures/node-httpd.js", "$port"]
	    instances: $N
	    listen: 127.0.0.1:$port
	    intercept_bind: true
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	stays_healthy node $N 2
	# node bound [::]:port itself; the shim gave it pmcd's socket.
	[ "$(listeners "$port")" -eq $N ]
	answered_by_many node "$port" / "^node pid [0-9]* instance [0-9]$"
	pids=" $(app_pids node) "
	while read -r _ _ pid _ slot; do
		[[ "$pids" == *" $pid "* ]]
		[ "$(slot_field node "$slot" pid)" = "$pid" ]
	done < "$answers"
	survives_kill node $N "$port" /
}

@test "nginx with its own workers, N-up with intercept_bind: online, serving, survives kill -9" {
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] ||
	    skip "nginx not installed: sh tests/deps.sh installs it"
	port=$(free_port)
	dir=$BATS_TEST_TMPDIR/nginx
	mkdir "$dir"
	sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" \
	    "$TESTS_DIR/fixtures/nginx.conf.in" > "$dir/nginx.conf"
	run -0 "$nginx" -t -q -e stderr -p "$dir/" -c "$dir/nginx.conf"
	cat > app.yaml <<-EOF
	apps:
	  - name: nginx
	    command: ["$nginx", "-e", "stderr", "-p", "$dir/", "-c", "$dir/nginx.conf"]
	    instances: $N
	    listen: 127.0.0.1:$port
	    intercept_bind: true
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	stays_healthy nginx $N 2
	[ "$(listeners "$port")" -eq $N ]
	answered_by_many nginx "$port" / "^nginx worker [0-9]*$"
	# Each answer comes from a worker of one of the instances.
	masters=" $(app_pids nginx) "
	while read -r _ _ worker; do
		[[ "$masters" == *" $(ps -o ppid= -p "$worker" | tr -d ' ') "* ]]
	done < "$answers"
	survives_kill nginx $N "$port" /
}

@test "gunicorn takes LISTEN_FDS natively, N-up with ready: notify: online, serving, survives kill -9" {
	command -v gunicorn >/dev/null 2>&1 ||
	    skip "gunicorn not installed: sh tests/deps.sh installs it"
	port=$(free_port)
	# No --bind: gunicorn takes fd 3 because LISTEN_PID is its pid, and
	# tells READY=1 on NOTIFY_SOCKET once it listens.
	cat > app.yaml <<-EOF
	apps:
	  - name: gun
	    command: ["gunicorn", "--workers", "2", "--access-logfile", "-",
	        "--chdir", "$TESTS_DIR/fixtures", "wsgi_app:app"]
	    instances: $N
	    listen: 127.0.0.1:$port
	    ready: notify
	    ready_timeout: 20s
	EOF
	pmc_start app.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	stays_healthy gun $N 2
	[ "$(listeners "$port")" -eq $N ]
	# Not gunicorn's default address: it took the socket it was handed.
	run -0 grep -h 'Listening at' "$PMC_HOME"/logs/gun.err.log
	[ "$(echo "$output" | grep -c "http://127.0.0.1:$port ")" -eq $N ]
	answered_by_many gun "$port" / \
	    "^gunicorn instance [0-9] arbiter [0-9]* worker [0-9]*$"
	while read -r _ _ slot _ arbiter _ _; do
		[ "$(slot_field gun "$slot" pid)" = "$arbiter" ]
	done < "$answers"
	survives_kill gun $N "$port" /
}

@test "a statically linked server with intercept_bind is refused, with the LISTEN_FDS hint" {
	printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' \
	    > static.c
	cc -static -o static-server static.c 2> cc.err ||
	    skip "cannot link statically (libc.a missing: apt-get install libc6-dev): $(head -n 1 cc.err)"
	port=$(free_port)
	cat > app.yaml <<-EOF
	apps:
	  - name: static
	    command: ["$BATS_TEST_TMPDIR/static-server"]
	    listen: 127.0.0.1:$port
	    intercept_bind: true
	EOF
	pmc_start app.yaml
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "pmc: "*"static-server is statically linked"* ]]
	[[ "$stderr" == *"LISTEN_FDS"* ]]
	[ "$(app_statuses static)" = errored ]
	# The same program without intercept_bind runs: only the shim is out.
	sed -i 's/intercept_bind: true/intercept_bind: false/' app.yaml
	run -0 "$PMC" delete static
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	wait_for 5 all_online static 1
}

@test "pm.yaml.example, on another port, serves its folder with instances: max" {
	port=$(free_port)
	mkdir -p example/tests/fixtures/www
	sed "s/8080/$port/g" "$ROOT/pm.yaml.example" > example/pm.yaml
	grep -q "127.0.0.1:$port" example/pm.yaml
	# It serves tests/fixtures/www below the spec's folder.
	echo "served by pmc" > example/tests/fixtures/www/hello.txt
	pmc_start example/pm.yaml
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	n=$(app_statuses web | wc -w)
	# max: the CPUs it may run on (nproc), fewer under a cgroup quota.
	[ "$n" -ge 1 ] && [ "$n" -le "$(nproc)" ]
	stays_healthy web "$n" 1
	[ "$(http_get "$port" /hello.txt)" = "served by pmc" ]
	[ "$(listeners "$port")" -eq "$n" ]
}

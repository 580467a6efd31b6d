#!/usr/bin/env bats
# save.bats -- `pmc save` writes the running apps to $PMC_HOME/dump.yaml
# (whole or not at all, the previous one kept as dump.yaml.bak, never an
# empty dump over apps without --force); `pmc resurrect` and
# `pmcd -f --resurrect` start them again, every field and every byte of
# their arguments and environment as they were.

bats_require_minimum_version 1.5.0
load helper

setup() {
	pmc_setup
	DUMP=$PMC_HOME/dump.yaml
}

# pmc_run ARGS...: pmc under `run`, stderr apart; a pmcd it starts must
# not hold bats' fd 3.
pmc_run() {
	run --separate-stderr "$PMC" "$@" 3>&-
}

pinged() {
	"$PMC" ping > /dev/null 2>&1
}

# kill_pmcd: `pmc kill`, then make sure that pmcd is gone.
kill_pmcd() {
	local pid
	pid=$(cat "$PMC_HOME/pmcd.pid")
	"$PMC" kill > /dev/null 3>&-
	wait_for 10 not_alive "$pid"
}

# names: the apps pmcd runs, sorted, one line.
names() {
	"$PMC" list --json | python3 -c '
import json, sys
print(" ".join(sorted({i["name"] for i in json.load(sys.stdin)})))'
}

# no_app NAME: pmcd runs no app NAME; no_apps: none at all.
no_app() {
	! names | grep -qw "$1"
}

no_apps() {
	[ -z "$(names)" ]
}

# saves_at_least N: saves.out reports N saves or more.
saves_at_least() {
	[ "$(grep -c '^saved' saves.out)" -ge "$1" ]
}

# A demo-httpd app "web" (2 instances on $port, with env) and a plain
# process "worker".
write_apps() {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--notify"]
	    instances: 2
	    listen: 127.0.0.1:$port
	    env: {GREETING: "hello: world # not a comment"}
	  - name: worker
	    command: sh -c 'while :; do sleep 1; done'
	EOF
}

start_apps() {
	write_apps
	pmc_run start app.yaml
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	wait_for 10 all_online web 2
	wait_for 10 all_online worker 1
}

# dump_of FILE: `pmcd -n -v FILE`, every effective field, one a line.
dump_of() {
	"$PMCD" -n -v "$1"
}

@test "save writes every running app to dump.yaml and says how many" {
	start_apps
	pmc_run save
	same stderr "" "$stderr"
	same stdout "saved 2 apps to $DUMP" "$output"
	same status 0 "$status"
	same header "# written by pmcd; pmc resurrect reads it back" \
	    "$(head -n 1 "$DUMP")"
	# It holds environments: nobody else may read it.
	same mode 600 "$(stat -c %a "$DUMP")"
	[ ! -e "$DUMP.new" ]
	run -0 "$PMCD" -n "$DUMP"
	same check "configuration OK" "$output"
	run -0 dump_of "$DUMP"
	[[ "$output" == *"web.instances=2"* ]]
	[[ "$output" == *"worker.command=sh -c \"while :; do sleep 1; done\""* ]]
}

@test "save with one app says app, not apps" {
	write_apps
	sed -i '/name: worker/,$d' app.yaml
	pmc_run start app.yaml
	pmc_run save
	same stdout "saved 1 app to $DUMP" "$output"
	same status 0 "$status"
}

@test "save, kill, resurrect: the same apps, counts, env and port" {
	start_apps
	run -0 "$PMC" save
	kill_pmcd
	run ! http_get "$port" /pid
	[ ! -S "$PMC_HOME/pmc.sock" ] || ! pinged

	# From another folder: the apps keep the folder of their spec.
	mkdir elsewhere
	cd elsewhere
	pmc_run resurrect
	same stderr "" "$stderr"
	same status 0 "$status"
	wait_for 10 all_online web 2
	wait_for 10 all_online worker 1
	same names "web worker" "$(names)"
	same env "hello: world # not a comment" "$(http_get "$port" /env/GREETING)"
	for pid in $(app_pids web) $(app_pids worker); do
		same cwd "$BATS_TEST_TMPDIR" "$(readlink "/proc/$pid/cwd")"
	done
}

@test "resurrect leaves running apps alone and restarts the missing ones" {
	start_apps
	run -0 "$PMC" save
	before=$(app_pids web)
	run -0 "$PMC" delete worker
	wait_for 10 no_app worker

	pmc_run resurrect
	same status 0 "$status"
	wait_for 10 all_online worker 1
	same "web pids" "$before" "$(app_pids web)"
}

@test "a scaled app is saved with its count; instances: max stays max" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO"]
	    listen: 127.0.0.1:$port
	  - name: wide
	    command: ["sleep", "600"]
	    instances: max
	  - name: most
	    command: ["sleep", "600"]
	    instances: -1
	EOF
	pmc_run start app.yaml
	same status 0 "$status"
	run -0 "$PMC" scale web 3
	wait_for 10 all_online web 3
	run -0 "$PMC" save
	grep -qx '    instances: 3' "$DUMP"
	grep -qx '    instances: max' "$DUMP"
	grep -qx '    instances: -1' "$DUMP"
	kill_pmcd
	pmc_run resurrect
	same status 0 "$status"
	wait_for 10 all_online web 3
}

@test "save refuses an empty dump over apps without --force, keeps .bak" {
	start_apps
	run -0 "$PMC" save
	cp "$DUMP" saved.yaml
	run -0 "$PMC" delete all
	wait_for 10 no_apps

	pmc_run save
	same status 1 "$status"
	same stdout "" "$output"
	[[ "$stderr" == "pmc: "*"--force"* ]] || { echo "$stderr"; false; }
	cmp "$DUMP" saved.yaml

	pmc_run save --force
	same stderr "" "$stderr"
	same stdout "saved 0 apps to $DUMP" "$output"
	same status 0 "$status"
	run ! grep -q 'name:' "$DUMP"
	cmp "$DUMP.bak" saved.yaml

	# An empty dump resurrects nothing, and may itself be replaced.
	pmc_run resurrect
	same status 0 "$status"
	same names "" "$(names)"
	pmc_run save
	same status 0 "$status"
}

@test "save -f is --force; save with no apps and no dump needs no force" {
	"$PMCD" 3>&-
	pmc_run save
	same stdout "saved 0 apps to $DUMP" "$output"
	same status 0 "$status"
	start_apps
	run -0 "$PMC" save
	run -0 "$PMC" delete all
	wait_for 10 no_apps
	run -1 "$PMC" save
	pmc_run save -f
	same status 0 "$status"
	same stdout "saved 0 apps to $DUMP" "$output"
}

@test "each save keeps the previous dump as dump.yaml.bak" {
	start_apps
	run -0 "$PMC" save
	[ ! -e "$DUMP.bak" ]
	cp "$DUMP" first.yaml
	run -0 "$PMC" scale web 3
	run -0 "$PMC" save
	cmp "$DUMP.bak" first.yaml
	grep -qx '    instances: 3' "$DUMP"
	cp "$DUMP" second.yaml
	run -0 "$PMC" delete worker
	wait_for 10 no_app worker
	run -0 "$PMC" save
	cmp "$DUMP.bak" second.yaml
	run -0 dump_of "$DUMP"
	[[ "$output" != *worker* ]]
}

@test "a save that cannot write its temp file fails and keeps the dump" {
	start_apps
	run -0 "$PMC" save
	cp "$DUMP" saved.yaml
	run -0 "$PMC" delete worker
	wait_for 10 no_app worker
	mkdir "$DUMP.new"

	pmc_run save
	same status 1 "$status"
	same stdout "" "$output"
	[[ "$stderr" == "pmc: "*"$DUMP.new"* ]] || { echo "$stderr"; false; }
	cmp "$DUMP" saved.yaml

	rmdir "$DUMP.new"
	pmc_run save
	same status 0 "$status"
	run -0 dump_of "$DUMP"
	[[ "$output" != *worker* ]]
}

@test "pmcd killed -9 while saving leaves a whole dump" {
	{
		echo "apps:"
		for i in $(seq 1 20); do
			printf '  - name: a%d\n    command: ["sleep", "600"]\n' "$i"
			printf '    env: {PAD: "%s"}\n' "$(printf 'x%.0s' $(seq 1 400))"
		done
	} > app.yaml
	pmc_run start app.yaml
	same status 0 "$status"
	wait_for 10 all_online a20 1
	run -0 "$PMC" save
	pids=$("$PMC" list --json | python3 -c '
import json, sys
print(" ".join(str(i["pid"]) for i in json.load(sys.stdin) if i["pid"]))')
	pmcd=$(cat "$PMC_HOME/pmcd.pid")

	# Saves back to back, until pmcd dies under one of them.
	(while "$PMC" save; do :; done) > saves.out 2>&1 3>&- &
	loop=$!
	wait_for 10 saves_at_least 5
	kill -KILL "$pmcd"
	wait "$loop" || true
	wait_for 10 not_alive "$pmcd"
	# Its instances outlive it: stop them, by process group.
	for p in $pids; do
		kill -KILL -- "-$p" 2>/dev/null || true
	done

	run -0 "$PMCD" -n "$DUMP"
	same check "configuration OK" "$output"
	same apps 20 "$(dump_of "$DUMP" | grep -c '^a[0-9]*\.command=')"

	# And a new pmcd brings them back.
	pmc_run resurrect
	same status 0 "$status"
	wait_for 10 all_online a20 1
	same count 20 "$(names | wc -w)"
}

@test "pmcd -f --resurrect starts the saved apps in the foreground" {
	start_apps
	run -0 "$PMC" save
	kill_pmcd

	"$PMCD" -f --resurrect > pmcd.out 2>&1 3>&- &
	pmcd=$!
	wait_for 10 pinged
	same pid "$pmcd" "$(cat "$PMC_HOME/pmcd.pid")"
	wait_for 10 all_online web 2
	wait_for 10 all_online worker 1
	same env "hello: world # not a comment" "$(http_get "$port" /env/GREETING)"

	"$PMC" kill > /dev/null 3>&-
	wait_for 10 not_alive "$pmcd"
	st=0
	wait "$pmcd" || st=$?
	cat pmcd.out
	same "pmcd status" 0 "$st"
}

@test "pmcd -f --resurrect without a dump starts with no apps" {
	# What a boot with the systemd unit of `pmc startup` does before the
	# first `pmc save`: not a failure.
	"$PMCD" -f --resurrect > pmcd.out 2>&1 3>&- &
	pmcd=$!
	wait_for 10 pinged
	same names "" "$(names)"
	"$PMC" kill > /dev/null 3>&-
	wait_for 10 not_alive "$pmcd"
	st=0
	wait "$pmcd" || st=$?
	same "pmcd status" 0 "$st"
}

@test "resurrect with no dump exits 1 naming the path" {
	pmc_run resurrect
	same status 1 "$status"
	same stdout "" "$output"
	[[ "$stderr" == "pmc: no dump file at $DUMP"* ]] ||
	    { echo "$stderr"; false; }
}

@test "save needs pmcd and takes no arguments; resurrect takes none" {
	pmc_run save
	same status 1 "$status"
	[[ "$stderr" == "pmc: pmcd is not running"* ]]
	[ ! -e "$PMC_HOME" ]
	pmc_run save web
	same status 2 "$status"
	same usage "usage: pmc save [--force]" "$stderr"
	pmc_run resurrect web
	same status 2 "$status"
	same usage "usage: pmc resurrect" "$stderr"
	[ ! -e "$PMC_HOME" ]
}

# A spec with every field away from its default.
write_full() {
	p1=$(free_port)
	p2=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--notify"]
	    instances: -1
	    listen: ["127.0.0.1:$p1", "localhost:$p2"]
	    balance: reuseport
	    env: {GREETING: "hi there", EMPTY: ""}
	    user: $(id -un)
	    group: $(id -gn)
	    restart: on-failure
	    backoff: {initial: 200ms, max: 10s, reset_after: 1m}
	    max_restarts: 9
	    stop_signal: INT
	    kill_timeout: 3s
	    ready: notify
	    ready_timeout: 20s
	    max_memory: 512M
	    logs: {out: web.out, err: web.err, max_size: 1M, keep: 2,
	      timestamps: false}
	  - name: slow
	    command: sleep 600
	    cwd: sub
	    instances: 2
	    listen: unix:slow.sock
	    intercept_bind: true
	    ready: delay:300ms
	    stop_signal: 40
	    kill_timeout: 0
	EOF
	mkdir -p sub
}

@test "save writes every field: the dump loads into the same specs" {
	write_full
	pmc_run start app.yaml
	same stderr "" "$stderr"
	same status 0 "$status"
	n=$(dump_of app.yaml | sed -n 's/^web\.instances=//p')
	wait_for 10 all_online web "$n"
	wait_for 10 all_online slow 2
	run -0 "$PMC" save
	# The dump holds absolute paths: it reads the same from anywhere.
	same "pmcd -n -v" "$(dump_of app.yaml)" "$(cd / && dump_of "$DUMP")"
	grep -qx '    instances: -1' "$DUMP"
}

@test "pmcd -n -w writes a spec that reads back the same, and is stable" {
	write_full
	run -0 --separate-stderr "$PMCD" -n -w app.yaml
	printf '%s\n' "$output" > out.yaml
	same first "# written by pmcd; pmc resurrect reads it back" \
	    "$(head -n 1 out.yaml)"
	same "pmcd -n -v" "$(dump_of app.yaml)" "$(dump_of out.yaml)"
	grep -qx '    instances: -1' out.yaml
	grep -qx '    instances: 2' out.yaml
	run -0 --separate-stderr "$PMCD" -n -w out.yaml
	same "written twice" "$(cat out.yaml)" "$output"
}

# Strings that YAML quotes, escapes or reads as something else.
write_chars() {
	write_spec app.yaml <<-'EOF'
	apps:
	  - name: chars
	    command: ["sh", "-c", "while :; do sleep 1; done", "zero",
	      "a: b", "# no comment", "q\"uote", "it's", "new\nline",
	      "tab\there", "back\\slash", "✓ üñí 日本 😀", "", "null", "~",
	      "true", "-x", "- y", "[x, y]", "{k: v}", "*star", "&amp",
	      "!tag", "%pct", "@at", "`bt", "? q", "|", ">", "...", "---",
	      " lead", "trail ", "\x01\x7f\u0085\u2028\ufeff"]
	    env:
	      COLON: "a: b"
	      HASH: "x # y"
	      QUOTES: "say \"hi\" it's"
	      NEWLINE: "line1\nline2\n"
	      UNICODE: "✓ üñí 日本 😀"
	      EMPTY: ""
	      NULLWORD: "null"
	      SPACES: "  both  "
	      BACKSLASH: "C:\\dir\\"
	      CONTROL: "a\tb\rc\x1b[0m"
	      "NULL": "~"
	EOF
}

# argv_env PID: the arguments after sh -c SCRIPT and the variables
# write_chars sets, as JSON.
argv_env() {
	python3 - "$1" <<-'EOF'
	import json, sys
	pid = sys.argv[1]
	argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[3:-1]
	env = dict(v.split(b"=", 1) for v in
	    open(f"/proc/{pid}/environ", "rb").read().split(b"\0") if v)
	keys = ["COLON", "HASH", "QUOTES", "NEWLINE", "UNICODE", "EMPTY",
	    "NULLWORD", "SPACES", "BACKSLASH", "CONTROL", "NULL"]
	print(json.dumps({"argv": [a.decode() for a in argv],
	    "env": {k: env[k.encode()].decode() for k in keys
	        if k.encode() in env}}, sort_keys=True))
	EOF
}

@test "quotes, colons, #, newlines and unicode survive save and resurrect" {
	write_chars
	pmc_run start app.yaml
	same stderr "" "$stderr"
	wait_for 10 all_online chars 1
	before=$(argv_env "$(app_pids chars)")
	# The test means something: the loader kept them as written.
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["argv"][5] == "new\nline", d["argv"]
assert d["argv"][-1] == "\x01\x7f\u0085\u2028\ufeff", d["argv"]
assert len(d["argv"]) == 31, len(d["argv"])
assert d["env"]["NEWLINE"] == "line1\nline2\n", d["env"]
assert d["env"]["EMPTY"] == "" and d["env"]["NULL"] == "~", d["env"]
assert len(d["env"]) == 11, d["env"]' "$before"

	run -0 "$PMC" save
	kill_pmcd
	pmc_run resurrect
	same status 0 "$status"
	wait_for 10 all_online chars 1
	same "argv and env" "$before" "$(argv_env "$(app_pids chars)")"
}

@test "pmcd -n -w keeps every byte of arguments and values" {
	write_chars
	run -0 --separate-stderr "$PMCD" -n -w app.yaml
	printf '%s\n' "$output" > out.yaml
	same "pmcd -n -v" "$(dump_of app.yaml)" "$(dump_of out.yaml)"
}

#!/usr/bin/env bats
#
# Log files as root (issue 13): an app that runs as nobody, with its logs
# in a folder nobody owns, plants links and FIFOs there to make root's
# pmcd append to, create, truncate or read a file of root's, or to hang
# root's terminal.  pmcd acts on such files as the app's user, never
# follows a link there, refuses a folder that someone else can write,
# and pmc logs escapes what an app printed when it goes to a terminal.
#
# Each attack is first shown to work on a plain root open (root_follows,
# a blocking cat), then refused, with the victim unchanged.

bats_require_minimum_version 1.5.0
load helper
load nobody

setup() {
	pmc_setup
	need_nobody
	nobody_tmp
	D=$NOBODY_TMP/logs		# the app's folder: nobody's
	CTL=$NOBODY_TMP/ctl		# where the test tells the writer to write
	SAFE=$NOBODY_TMP/safe		# root's only
	mkdir -m 0755 "$D" "$CTL"
	chown nobody:nogroup "$D" "$CTL"
	mkdir -m 0700 "$SAFE"
	echo "root secret" > "$SAFE/victim"
	chmod 0600 "$SAFE/victim"
}

teardown() {
	nobody_cleanup
}

# plant LINK TARGET: nobody makes LINK a symbolic link to TARGET.
plant() {
	as_nobody ln -sfn "$2" "$1"
}

# The victim is as the test made it: root's, 0600, its one line.
victim_intact() {
	[ "$(cat "$SAFE/victim")" = "root secret" ] &&
	    [ "$(stat -c '%U %a %s' "$SAFE/victim")" = "root 600 12" ]
}

# root_follows LINK: the attack works on a plain root open: pointed for
# this at a root-only decoy, LINK takes a root append through to it.
root_follows() {
	local target
	target=$(readlink "$1") || return 1
	echo "root secret" > "$SAFE/decoy"
	chmod 0600 "$SAFE/decoy"
	plant "$1" "$SAFE/decoy"
	echo "app-chosen line" >> "$1"
	grep -q "app-chosen line" "$SAFE/decoy" || return 1
	plant "$1" "$target"
	rm -f "$SAFE/decoy"
}

# nobody_app NAME SCRIPT OUT ERR [LOGS]: one app of a spec, a sh script
# run as nobody, its logs at OUT and ERR (LOGS: more of the mapping).
nobody_app() {
	cat <<-EOF
	  - name: $1
	    command: ["sh", "-c", "$2"]
	    cwd: $NOBODY_TMP
	    user: nobody
	    group: nogroup
	    logs: {out: $3, err: $4${5:+, $5}}
	EOF
}

# web_spec SCRIPT [LOGS]: app web, as nobody, logs in $D.
web_spec() {
	{
		echo apps:
		nobody_app web "$1" "$D/out.log" "$D/err.log" "${2:-}"
	} > "$NOBODY_TMP/app.yaml"
}

# writer_spec [LOGS]: web prints 5 lines "line N" of 100 bytes each time
# a file "go" appears in $CTL.
writer_spec() {
	cat > "$NOBODY_TMP/writer.sh" <<-'EOF'
	i=0
	pad=$(printf '%0100d' 0)
	while :; do
		if [ -e "$CTL/go" ]; then
			rm -f "$CTL/go"
			for b in 1 2 3 4 5; do
				i=$((i + 1))
				echo "line $i $pad"
			done
		fi
		sleep 0.02
	done
	EOF
	web_spec "CTL=$CTL exec sh $NOBODY_TMP/writer.sh" "${1:-}"
}

# Have the writer print 5 more lines and wait until it took the order.
go() {
	touch "$CTL/go"
	wait_for 5 test ! -e "$CTL/go"
}

start_web() {
	pmc_start "$NOBODY_TMP/app.yaml"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
}

log_has() {
	grep -qF -- "$1" "$PMC_HOME/pmcd.log"
}

file_has() {
	[ -f "$1" ] && grep -q -- "$2" "$1"
}

owner() {
	stat -c %U:%G "$1"
}

# --- opening -------------------------------------------------------------------

@test "links planted at logs.out and logs.err are not followed: no root file written or created" {
	plant "$D/out.log" "$SAFE/victim"
	plant "$D/err.log" "$SAFE/created"
	root_follows "$D/out.log"
	web_spec 'echo to out; echo to err >&2; exec sleep 600'
	start_web
	wait_for 5 log_has "pmcd: web: logs.out: $D/out.log: a symbolic link, not followed"
	wait_for 5 log_has "pmcd: web: logs.err: $D/err.log: a symbolic link, not followed"
	wait_for 5 log_has "pmcd: $D/out.log: a line was dropped: the file is not open"
	victim_intact
	[ ! -e "$SAFE/created" ]
	# pmc logs, run by root, does not read through the link either.
	run -1 --separate-stderr "$PMC" logs web --out
	[ "$stderr" = "pmc: logs: $D/out.log: a symbolic link, not followed" ]
	[[ "$output" != *"root secret"* ]]
}

@test "pmcd makes an app's files as root in root's folder, as the app's user in the app's" {
	mkdir -m 0755 "$NOBODY_TMP/rootdir"
	mkdir -m 0775 "$NOBODY_TMP/groupdir"
	chgrp nogroup "$NOBODY_TMP/groupdir"
	{
		echo apps:
		nobody_app web 'echo to out; echo to err >&2; exec sleep 600' \
		    "$NOBODY_TMP/rootdir/out.log" "$D/err.log"
		nobody_app api 'echo to out; exec sleep 600' \
		    "$NOBODY_TMP/groupdir/out.log" "$NOBODY_TMP/groupdir/err.log"
	} > "$NOBODY_TMP/app.yaml"
	start_web
	wait_for 5 file_has "$NOBODY_TMP/rootdir/out.log" "to out"
	wait_for 5 file_has "$D/err.log" "to err"
	wait_for 5 file_has "$NOBODY_TMP/groupdir/out.log" "to out"
	[ "$(owner "$NOBODY_TMP/rootdir/out.log")" = root:root ]
	[ "$(owner "$D/err.log")" = nobody:nogroup ]
	[ "$(owner "$NOBODY_TMP/groupdir/out.log")" = nobody:nogroup ]
}

@test "a log folder reached through a link of the app's user is used as that user" {
	mkdir -m 0755 "$NOBODY_TMP/rootdir"
	plant "$D/sub" "$NOBODY_TMP/rootdir"
	# As root, a path through the link reaches root's folder.
	touch "$D/sub/probe"
	[ -e "$NOBODY_TMP/rootdir/probe" ]
	rm "$NOBODY_TMP/rootdir/probe"
	{
		echo apps:
		nobody_app web 'echo to out; exec sleep 600' "$D/sub/out.log" \
		    "$D/err.log"
	} > "$NOBODY_TMP/app.yaml"
	start_web
	wait_for 5 log_has "pmcd: web: logs.out: $D/sub/out.log: Permission denied (as uid 65534, web's user)"
	[ ! -e "$NOBODY_TMP/rootdir/out.log" ]
}

# --- folders refused -------------------------------------------------------------

@test "a log folder another user, group or everyone can write is refused at pmc start" {
	mkdir -m 0755 "$NOBODY_TMP/other"
	chown 4242 "$NOBODY_TMP/other"
	mkdir -m 0775 "$NOBODY_TMP/grp"
	chgrp 4243 "$NOBODY_TMP/grp"
	mkdir -m 1777 "$NOBODY_TMP/world"
	# Whoever can write there can plant a link for pmcd to follow.
	setpriv --reuid 4242 --regid 4242 --clear-groups \
	    ln -s "$SAFE/victim" "$NOBODY_TMP/other/planted"
	[ "$(cat "$NOBODY_TMP/other/planted")" = "root secret" ]
	write_spec "$NOBODY_TMP/app.yaml" <<-EOF
	apps:
	  - name: ok
	    command: ["sleep", "600"]
	  - name: web
	    command: ["sleep", "600"]
	    user: nobody
	    group: nogroup
	    logs: {out: $NOBODY_TMP/other/out.log, err: $NOBODY_TMP/grp/err.log}
	  - name: api
	    command: ["sleep", "600"]
	    logs: {out: $NOBODY_TMP/world/out.log, err: $D/err.log}
	EOF
	pmc_start "$NOBODY_TMP/app.yaml"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"pmc: web: logs.out: $NOBODY_TMP/other is writable by uid 4242, which is neither root nor web's user"* ]]
	[[ "$stderr" == *"pmc: web: logs.err: $NOBODY_TMP/grp is writable by gid 4243, which is neither root's group nor web's group"* ]]
	[[ "$stderr" == *"pmc: api: logs.out: $NOBODY_TMP/world is writable by everyone (mode 1777)"* ]]
	# api runs as root: nobody's folder is someone else's to it.
	[[ "$stderr" == *"pmc: api: logs.err: $D is writable by uid 65534, which is neither root nor api's user"* ]]
	# All or nothing: ok, whose folder is fine, did not start either.
	run -0 "$PMC" list --json
	[ "$output" = "[]" ]
	[ ! -e "$NOBODY_TMP/other/out.log" ]
}

# --- flush, rotation, reopen -------------------------------------------------------

@test "pmc flush empties through pmcd's descriptor, never through a planted link" {
	web_spec 'echo one; exec sleep 600' 'keep: 2'
	start_web
	wait_for 5 file_has "$D/out.log" one
	# The app moves its open file away and leaves links in its place.
	as_nobody mv "$D/out.log" "$D/moved.log"
	plant "$D/out.log" "$SAFE/victim"
	plant "$D/out.log.1" "$SAFE/victim"
	root_follows "$D/out.log"
	# truncate(path), as root, would empty what the link names.
	echo "root secret" > "$SAFE/decoy"
	plant "$D/decoy.log" "$SAFE/decoy"
	truncate -s 0 "$D/decoy.log"
	[ ! -s "$SAFE/decoy" ]
	run -0 "$PMC" flush web
	[ "$output" = "web: logs flushed" ]
	[ ! -s "$D/moved.log" ]		# pmcd's own file, by its descriptor
	[ ! -e "$D/out.log.1" ] && [ ! -L "$D/out.log.1" ]
	victim_intact
	# Once pmcd has no descriptor, flush opens the path: not a link.
	run -1 --separate-stderr "$PMC" reopen-logs
	[ "$stderr" = "pmc: web: logs.out: $D/out.log: a symbolic link, not followed" ]
	run -1 --separate-stderr "$PMC" flush web
	[ "$stderr" = "pmc: web: logs.out: $D/out.log: a symbolic link, not followed" ]
	victim_intact
}

@test "rotation moves planted links as the app's user, never follows them" {
	writer_spec 'max_size: 1K, keep: 2'
	start_web
	go
	wait_for 5 file_has "$D/out.log" 'line 5 '
	plant "$D/out.log.1" "$SAFE/victim"
	plant "$D/out.log.2" "$SAFE/victim"
	root_follows "$D/out.log.1"
	go				# past 1K: one rotation
	wait_for 5 file_has "$D/out.log" 'line 10 '
	victim_intact
	# out.log.1 went to out.log.2 (the link itself), out.log to .1.
	[ -L "$D/out.log.2" ]
	[ -f "$D/out.log.1" ] && [ ! -L "$D/out.log.1" ]
	[ "$(owner "$D/out.log.1")" = nobody:nogroup ]
	[ "$(owner "$D/out.log")" = nobody:nogroup ]
	grep -q 'line 1 ' "$D/out.log.1"
	# pmc logs reads back into .1 and refuses the link at .2.
	run -1 --separate-stderr "$PMC" logs web --out -n 100
	[ "$stderr" = "pmc: logs: $D/out.log.2: a symbolic link, not followed" ]
	[ "${#lines[@]}" -eq 10 ]
	[[ "$output" != *"root secret"* ]]
}

@test "pmc reopen-logs does not follow a link swapped in for the file" {
	writer_spec
	start_web
	go
	wait_for 5 file_has "$D/out.log" 'line 5 '
	as_nobody mv "$D/out.log" "$D/out.log.old"
	plant "$D/out.log" "$SAFE/victim"
	root_follows "$D/out.log"
	run -1 --separate-stderr "$PMC" reopen-logs
	[ "$stderr" = "pmc: web: logs.out: $D/out.log: a symbolic link, not followed" ]
	go
	wait_for 5 log_has "pmcd: $D/out.log: a line was dropped: the file is not open"
	victim_intact
	# The operator removes the link: the next reopen makes a new file.
	rm "$D/out.log"
	run -0 "$PMC" reopen-logs
	[ "$output" = "log files reopened" ]
	go
	wait_for 5 file_has "$D/out.log" 'line 15 '
	[ "$(owner "$D/out.log")" = nobody:nogroup ]
	victim_intact
}

# --- FIFOs ---------------------------------------------------------------------

@test "a FIFO planted at the log path hangs neither pmcd, pmc logs nor pmc flush" {
	as_nobody mkfifo "$D/out.log"
	# A plain open of it waits for a writer: it would hang.
	run timeout 1 cat "$D/out.log"
	[ "$status" -eq 124 ]
	web_spec 'echo to out; exec sleep 600'
	start_web
	wait_for 5 log_has "pmcd: web: logs.out: $D/out.log: not a regular file"
	run --separate-stderr timeout 5 "$PMC" logs web --out
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: logs: $D/out.log: not a regular file" ]
	run --separate-stderr timeout 5 "$PMC" flush web
	[ "$status" -eq 1 ]
	[ "$stderr" = "pmc: web: logs.out: $D/out.log: not a regular file" ]
	run -0 timeout 5 "$PMC" ping
}

# --- what an app says, on root's terminal ------------------------------------------

# on_tty COMMAND...: run COMMAND with stdout on a terminal (script(1)),
# its output without the terminal's carriage returns.
on_tty() {
	script -qec "$*" /dev/null < /dev/null | tr -d '\r'
}

@test "pmc logs and pmc describe escape an app's control characters on a terminal only" {
	cat > "$NOBODY_TMP/say.py" <<-'EOF'
	import os, socket, time
	os.write(1, b"esc \x1b[31mred\x1b[0m cr\rbell\x07 caf\xc3\xa9 \xc2\x9b c1 \xff\n")
	a = os.environ["NOTIFY_SOCKET"]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.sendto(b"READY=1\nSTATUS=\x1b]0;pwned\x07 title", "\0" + a[1:] if a[0] == "@" else a)
	time.sleep(600)
	EOF
	write_spec "$NOBODY_TMP/app.yaml" <<-EOF
	apps:
	  - name: web
	    command: ["python3", "$NOBODY_TMP/say.py"]
	    cwd: $NOBODY_TMP
	    ready: notify
	    logs: {out: $NOBODY_TMP/out.log, timestamps: false}
	EOF
	start_web
	wait_for 5 file_has "$NOBODY_TMP/out.log" 'c1'
	# In a pipe, the bytes as the app wrote them.
	run -0 "$PMC" logs web --out
	[[ "$output" == *$'\x1b[31mred'* ]]
	# On a terminal, escaped: no ESC, CR, BEL, C1 nor stray byte gets
	# through; UTF-8 text does.
	out=$(on_tty "$PMC" logs web --out)
	echo "$out"
	[ "$out" = '[0] esc \033[31mred\033[0m cr\rbell\a café \302\233 c1 \377' ]
	run -0 "$PMC" describe web
	[[ "$output" == *$'status: \x1b]0;pwned\x07 title'* ]]
	out=$(on_tty "$PMC" describe web)
	[[ "$out" == *'status: \033]0;pwned\a title'* ]]
	[[ "$out" != *$'\x1b'* ]]
}

#!/usr/bin/env bats
#
# install.bats -- `make install` and `make uninstall` (the exact file list
# and modes), the systemd units (`pmc startup` and the installed
# pmcd.service, checked with systemd-analyze verify), and the bash
# completion.

bats_require_minimum_version 1.5.0
load helper

# The build that is tested: bin/ for `make test`, build-asan/ for `make asan`
# (B, relative to the top folder as the Makefile names it).
BUILD=${PMC_BIN%/bin}
B=.
[ "$BUILD" = "$ROOT" ] || B=${BUILD#"$ROOT"/}

# make_root TARGET: make TARGET into $DEST with PREFIX=/usr.
make_root() {
	make -s -C "$ROOT" B="$B" DESTDIR="$DEST" PREFIX=/usr "$1"
}

# The files `make install` puts under DESTDIR with PREFIX=/usr, sorted.
expected_files() {
	{
		cat <<-EOF
		./usr/bin/pmc
		./usr/bin/pmcd
		./usr/lib/systemd/system/pmcd.service
		./usr/share/bash-completion/completions/pmc
		./usr/share/doc/pmc/examples/haproxy/cluster.sh
		./usr/share/doc/pmc/examples/haproxy/deploy.sh
		./usr/share/doc/pmc/examples/haproxy/server.py
		./usr/share/doc/pmc/examples/kubernetes/pmc.yaml
		./usr/share/doc/pmc/pmcd.socket
		./usr/share/man/man1/pmc.1
		./usr/share/man/man5/pm.yaml.5
		./usr/share/man/man8/pmcd.8
		EOF
		# The shim, once it is built.
		[ ! -f "$BUILD/lib/libpmc-shim.so" ] ||
		    echo ./usr/lib/pmc/libpmc-shim.so
	} | LC_ALL=C sort
}

installed_files() {
	(cd "$DEST" && find . -type f | LC_ALL=C sort)
}

need_analyze() {
	command -v systemd-analyze >/dev/null ||
	    skip "systemd-analyze is not installed"
}

# verify UNIT...: systemd-analyze verify accepts the units and says nothing.
verify() {
	run systemd-analyze verify --man=no "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# verify_user UNIT...: the same for a user unit.
verify_user() {
	mkdir -m 700 -p "$BATS_TEST_TMPDIR/xdg"
	XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg verify --user "$@"
}

# exec_start FILE: the ExecStart= value of a unit.
exec_start() {
	sed -n 's/^ExecStart=//p' "$1"
}

setup() {
	pmc_setup
	DEST=$BATS_TEST_TMPDIR/root
	UNITS=$BATS_TEST_TMPDIR/units
	mkdir -p "$UNITS"
	PMCD_REAL=$(realpath "$PMCD")
}

@test "make install puts exactly the programs, man pages, unit, socket example and completion" {
	run -0 make_root install
	diff <(expected_files) <(installed_files)
	[ "$(stat -c %a "$DEST/usr/bin/pmc")" = 755 ]
	[ "$(stat -c %a "$DEST/usr/bin/pmcd")" = 755 ]
	for f in usr/share/man/man1/pmc.1 usr/share/man/man8/pmcd.8 \
	    usr/lib/systemd/system/pmcd.service usr/share/doc/pmc/pmcd.socket \
	    usr/share/bash-completion/completions/pmc; do
		[ "$(stat -c %a "$DEST/$f")" = 644 ]
	done
	cmp "$DEST/usr/bin/pmcd" "$PMCD"
	run -0 "$DEST/usr/bin/pmc" help
	[[ "$output" == *"startup [--user|--system] [FILE...]"* ]]
	[ "$(exec_start "$DEST/usr/lib/systemd/system/pmcd.service")" = \
	    "/usr/bin/pmcd -f --resurrect" ]
}

@test "make install honours BINDIR, MANDIR, SYSTEMDUNITDIR and BASHCOMPDIR" {
	run -0 make -s -C "$ROOT" B="$B" DESTDIR="$DEST" PREFIX=/opt/pmc \
	    BINDIR=/opt/pmc/sbin MANDIR=/opt/man SYSTEMDUNITDIR=/etc/systemd/system \
	    BASHCOMPDIR=/etc/bash_completion.d install
	[ -x "$DEST/opt/pmc/sbin/pmcd" ]
	[ -f "$DEST/opt/man/man8/pmcd.8" ]
	[ -f "$DEST/etc/bash_completion.d/pmc" ]
	[ -f "$DEST/opt/pmc/share/doc/pmc/pmcd.socket" ]
	[ "$(exec_start "$DEST/etc/systemd/system/pmcd.service")" = \
	    "/opt/pmc/sbin/pmcd -f --resurrect" ]
}

@test "make uninstall removes every installed file" {
	run -0 make_root install
	[ -n "$(installed_files)" ]
	run -0 make_root uninstall
	[ -z "$(installed_files)" ]
	# pmc's own folders go too.
	[ ! -e "$DEST/usr/share/doc/pmc" ]
	[ ! -e "$DEST/usr/lib/pmc" ]
}

@test "the installed pmcd.service and the pmcd.socket example pass systemd-analyze verify" {
	need_analyze
	run -0 make_root install
	# verify checks that ExecStart exists: point it into DESTDIR.
	sed "s|^ExecStart=/usr/bin/pmcd |ExecStart=$DEST/usr/bin/pmcd |" \
	    "$DEST/usr/lib/systemd/system/pmcd.service" > "$UNITS/pmcd.service"
	grep -q "^ExecStart=$DEST/usr/bin/pmcd -f --resurrect\$" \
	    "$UNITS/pmcd.service"
	cp "$DEST/usr/share/doc/pmc/pmcd.socket" "$UNITS/"
	verify "$UNITS/pmcd.service" "$UNITS/pmcd.socket"
}

@test "the installed pmcd.service is the unit pmc startup --system prints" {
	run -0 make_root install
	run -0 --separate-stderr env -u PMC_HOME PMCD="$DEST/usr/bin/pmcd" \
	    "$PMC" startup --system
	diff <(echo "$output" | sed "s|^ExecStart=$DEST/usr/bin/pmcd |ExecStart=/usr/bin/pmcd |") \
	    "$DEST/usr/lib/systemd/system/pmcd.service"
}

@test "pmc startup FILE names the real paths of pmcd and of the files, quoted" {
	mkdir -p "specs/my apps"
	echo 'apps: []' > "specs/my apps/app.yaml"
	echo 'apps: []' > specs/other.yaml
	ln -s "specs/my apps/app.yaml" link.yaml
	run -0 --separate-stderr "$PMC" startup --system link.yaml ./specs/../specs/other.yaml
	echo "$output" > "$UNITS/pmcd.service"
	[ "$(exec_start "$UNITS/pmcd.service")" = \
	    "$PMCD_REAL -f \"$(realpath "specs/my apps/app.yaml")\" $(realpath specs/other.yaml)" ]
	[[ "$stderr" == *"/etc/systemd/system/pmcd.service"* ]]
	[[ "$stderr" == *"systemctl enable --now pmcd.service"* ]]
	need_analyze
	verify "$UNITS/pmcd.service"
}

@test "pmc startup --system: a notify unit with reload, mixed kill mode and limits, for multi-user.target" {
	run -0 --separate-stderr "$PMC" startup --system
	echo "$output" > "$UNITS/pmcd.service"
	u=$UNITS/pmcd.service
	[ "$(exec_start "$u")" = "$PMCD_REAL -f --resurrect" ]
	grep -qx 'Type=notify' "$u"
	grep -qx 'NotifyAccess=main' "$u"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$u"
	grep -qx 'KillMode=mixed' "$u"
	grep -q '^# mixed: SIGTERM goes to pmcd alone' "$u"
	grep -qx 'Restart=on-failure' "$u"
	grep -qx 'LimitNOFILE=65536' "$u"
	grep -qx 'WatchdogSec=30' "$u"
	grep -qx 'Documentation=man:pmcd(8) man:pmc(1)' "$u"
	grep -qx 'WantedBy=multi-user.target' "$u"
	# The test's PMC_HOME is carried, so that pmc finds this pmcd.
	grep -qx "Environment=PMC_HOME=$PMC_HOME" "$u"
	[[ "$stderr" == *'pmc save'* ]]
	need_analyze
	verify "$u"
}

@test "pmc startup --user: a unit for default.target, valid as a user unit" {
	run -0 --separate-stderr env -u PMC_HOME "$PMC" startup --user
	echo "$output" > "$UNITS/pmcd.service"
	[ "$(exec_start "$UNITS/pmcd.service")" = "$PMCD_REAL -f --resurrect" ]
	grep -qx 'WantedBy=default.target' "$UNITS/pmcd.service"
	! grep -q '^Environment=' "$UNITS/pmcd.service"
	[[ "$stderr" == *"~/.config/systemd/user/pmcd.service"* ]]
	[[ "$stderr" == *"systemctl --user enable --now pmcd.service"* ]]
	need_analyze
	verify_user "$UNITS/pmcd.service"
}

@test "pmc startup picks --system for root and --user for anyone else" {
	run -0 --separate-stderr "$PMC" startup
	if [ "$(id -u)" -eq 0 ]; then
		[[ "$output" == *"WantedBy=multi-user.target"* ]]
	else
		[[ "$output" == *"WantedBy=default.target"* ]]
	fi
}

@test "pmc startup escapes % and \$ and quotes spaces as systemd reads them" {
	mkdir -p 'a b'
	echo 'apps: []' > 'a b/100%$x.yaml'
	run -0 --separate-stderr "$PMC" startup --system 'a b/100%$x.yaml'
	echo "$output" > "$UNITS/pmcd.service"
	[ "$(exec_start "$UNITS/pmcd.service")" = \
	    "$PMCD_REAL -f \"$(realpath 'a b')/100%%\$\$x.yaml\"" ]
	need_analyze
	verify "$UNITS/pmcd.service"
}

@test "pmc startup with a missing FILE prints no unit and fails" {
	echo 'apps: []' > ok.yaml
	run -1 --separate-stderr "$PMC" startup ok.yaml missing.yaml
	[ -z "$output" ]
	[ "$stderr" = "pmc: missing.yaml: No such file or directory" ]
}

@test "pmc startup --user --system is bad usage" {
	run -2 --separate-stderr "$PMC" startup --user --system
	[ -z "$output" ]
	[[ "$stderr" == *"usage: pmc startup [--user|--system] [FILE...]"* ]]
}

# complete WORD...: run the completion of the command line WORD... (the
# last word is the one completed) in a fresh bash; one reply a line.
complete_line() {
	PATH=$PMC_BIN:$PATH bash -c '
		source "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_pmc
		printf "%s\n" "${COMPREPLY[@]}"' _ \
	    "$ROOT/supervisor/pmc.bash-completion" "$@"
}

@test "bash completion: verbs" {
	run -0 complete_line pmc st
	[ "$(echo "$output" | sort | xargs)" = "start startup stop" ]
	run -0 complete_line pmc help sc
	[ "$output" = scale ]
	run -0 complete_line pmc startup --
	[ "$(echo "$output" | sort | xargs)" = "--system --user" ]
}

@test "bash completion: app names and all, from the running pmcd" {
	port=$(free_port)
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["$DEMO", "--notify"]
	    instances: 2
	    listen: 127.0.0.1:$port
	  - name: worker
	    command: ["sleep", "600"]
	    ready: delay:100ms
	EOF
	run -0 "$PMC" start app.yaml 3>&-
	run -0 complete_line pmc stop ''
	[ "$(echo "$output" | sort | xargs)" = "all web worker" ]
	run -0 complete_line pmc restart w
	[ "$(echo "$output" | sort | xargs)" = "web worker" ]
	run -0 complete_line pmc scale we
	[ "$output" = web ]
	run -0 complete_line pmc signal USR1 ''
	[ "$(echo "$output" | sort | xargs)" = "all web worker" ]
}

@test "bash completion: signal names, and spec files for start" {
	run -0 complete_line pmc signal US
	[ "$(echo "$output" | sort | xargs)" = "USR1 USR2" ]
	mkdir -p specs/dir && cd specs
	touch one.yaml two.yml notes.txt
	run -0 complete_line pmc start ''
	echo "$output"
	[ "$(echo "$output" | sort | xargs)" = "dir one.yaml two.yml" ]
}

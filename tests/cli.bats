#!/usr/bin/env bats
#
# The pmc command line where no pmcd runs: help, usage, exit statuses,
# and spec errors caught before pmcd is contacted or started.

load helper

bats_require_minimum_version 1.5.0

VERBS="start list describe stop restart delete reload scale signal send events convert ping kill help"

# A pmcd stand-in that records being run, for tests that must not start one.
fake_pmcd() {
	export PMCD="$BATS_TEST_TMPDIR/fake-pmcd"
	cat > "$PMCD" <<-EOF
	#!/bin/sh
	touch "$BATS_TEST_TMPDIR/pmcd-was-run"
	exit ${1:-0}
	EOF
	chmod +x "$PMCD"
}

@test "pmc help lists every verb with its usage" {
	run -0 "$PMC" help
	[ "${lines[0]}" = "usage: pmc COMMAND [ARGS]" ]
	for verb in $VERBS; do
		echo "$output" | grep -Eq "^  $verb( |\$)" ||
		    { echo "help misses $verb"; return 1; }
	done
	echo "$output" | grep -Eq '^  list \[--json\] +[A-Z]'
	echo "$output" | grep -Eq '^  stop NAME\.\.\.\|all +[A-Z]'
}

@test "pmc VERB -h and pmc help VERB print the verb's usage and exit 0" {
	for verb in $VERBS; do
		run -0 --separate-stderr "$PMC" "$verb" -h
		[[ "${lines[0]}" == "usage: pmc $verb"* ]] ||
		    { echo "$verb -h: ${lines[0]}"; return 1; }
		[ -z "$stderr" ]
		h=$output
		run -0 "$PMC" help "$verb"
		[ "$output" = "$h" ]
		run -0 "$PMC" "$verb" --help
		[ "$output" = "$h" ]
	done
	run -0 "$PMC" list -h
	[ "${lines[0]}" = "usage: pmc list [--json]" ]
	run -0 "$PMC" start -h
	[ "${lines[0]}" = "usage: pmc start [--prune] [--env NAME] FILE... | [-i N|max] [--name NAME] [--listen ADDR] SCRIPT|-- COMMAND [ARG...]" ]
	run -0 "$PMC" reload -h
	[ "${lines[0]}" = "usage: pmc reload [--no-wait] NAME...|all" ]
}

@test "a wrong argument count exits 2 with the usage line on stderr" {
	while read -r verb args; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr "$PMC" $verb $args
		[ -z "$output" ] || { echo "$verb $args: stdout: $output"; return 1; }
		[[ "$stderr" == *"usage: pmc $verb"* ]] ||
		    { echo "$verb $args: $stderr"; return 1; }
	done <<-EOF
	start
	describe
	describe a b
	stop
	restart
	delete
	list x
	ping x
	kill x
	help a b
	EOF
}

@test "an unknown option exits 2 with the usage line" {
	run -2 "$PMC" list --bogus
	[[ "$output" == *"--bogus"* ]]
	[[ "$output" == *"usage: pmc list [--json]"* ]]
	run -2 "$PMC" ping -x
	[[ "$output" == *"usage: pmc ping"* ]]
}

@test "an unknown verb exits 2; verbs are never abbreviated" {
	run -2 --separate-stderr "$PMC" frobnicate
	[ -z "$output" ]
	[[ "$stderr" == *'pmc: unknown command "frobnicate"'* ]]
	[[ "$stderr" == *"pmc help"* ]]
	run -2 "$PMC" sta FILE
	[[ "$output" == *'unknown command "sta"'* ]]
	run -2 "$PMC" help sto
	[[ "$output" == *'unknown command "sto"'* ]]
}

@test "pmc without a verb exits 2 with the list of verbs" {
	run -2 --separate-stderr "$PMC"
	[ -z "$output" ]
	[[ "$stderr" == "usage: pmc COMMAND [ARGS]"* ]]
	[[ "$stderr" == *"  describe NAME"* ]]
}

@test "verbs that need pmcd exit 1 when it is not running" {
	for call in list "list --json" "describe web" "stop all" "restart web" \
	    "delete web" ping kill; do
		# shellcheck disable=SC2086
		run -1 --separate-stderr "$PMC" $call
		[ -z "$output" ] || { echo "$call: stdout: $output"; return 1; }
		[[ "$stderr" == "pmc: pmcd is not running ("*"$PMC_HOME/pmc.sock)" ]] ||
		    { echo "$call: $stderr"; return 1; }
	done
	[ ! -e "$PMC_HOME" ]
}

@test "a socket nobody answers on counts as pmcd not running" {
	mkdir -m 700 "$PMC_HOME"
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$PMC_HOME/pmc.sock"
	[ -S "$PMC_HOME/pmc.sock" ]
	run -1 "$PMC" ping
	[[ "$output" == "pmc: pmcd is not running"* ]]
}

@test "a PMC_HOME that others may write to is refused" {
	mkdir "$PMC_HOME"
	chmod 777 "$PMC_HOME"
	run -1 "$PMC" list
	[[ "$output" == "pmc: $PMC_HOME: group or world writable"* ]]
}

@test "start with spec errors exits 1 naming every error, and starts no pmcd" {
	fake_pmcd
	printf 'apps:\n  - name: web\n    command: ["true"]\n    instances: lots\n' \
	    > bad.yaml
	printf 'apps: [\n' > broken.yaml
	run -1 --separate-stderr "$PMC" start bad.yaml broken.yaml
	[ -z "$output" ]
	[[ "$stderr" == *"pmc: bad.yaml:"* ]]
	[[ "$stderr" == *"pmc: broken.yaml:"* ]]
	[ -z "$(echo "$stderr" | grep -v '^pmc: ')" ]
	[ ! -e "$BATS_TEST_TMPDIR/pmcd-was-run" ]
	[ ! -e "$PMC_HOME/pmc.sock" ]
}

@test "start with a good spec and a bad one changes nothing" {
	fake_pmcd
	printf 'apps:\n  - name: web\n    command: ["true"]\n' > good.yaml
	printf 'apps:\n  - name: web\n    command: ["true"]\n    bogus_key: 1\n' \
	    > bad.yaml
	run -1 "$PMC" start good.yaml bad.yaml
	[[ "$output" == *"pmc: bad.yaml:"* ]]
	[[ "$output" != *"good.yaml"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/pmcd-was-run" ]
	[ ! -e "$PMC_HOME/pmc.sock" ]
}

@test "start with a missing file, a folder or a NUL byte exits 1" {
	fake_pmcd
	mkdir folder
	printf 'apps:\0\n' > nul.yaml
	run -1 --separate-stderr "$PMC" start missing.yaml folder nul.yaml
	[[ "$stderr" == *"pmc: missing.yaml: No such file or directory"* ]]
	[[ "$stderr" == *"pmc: folder: Is a directory"* ]]
	[[ "$stderr" == *"pmc: nul.yaml: contains a NUL byte"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/pmcd-was-run" ]
}

@test "start reports a pmcd that fails to start" {
	fake_pmcd 1
	printf 'apps:\n  - name: web\n    command: ["true"]\n' > good.yaml
	run -1 "$PMC" start good.yaml
	[ -e "$BATS_TEST_TMPDIR/pmcd-was-run" ]
	[[ "$output" == *"pmc: could not start pmcd"* ]]
	# It made PMC_HOME, private.
	[ "$(stat -c %a "$PMC_HOME")" = 700 ]
}

@test "start reports a pmcd that cannot be run" {
	export PMCD="$BATS_TEST_TMPDIR/no-such-pmcd"
	printf 'apps:\n  - name: web\n    command: ["true"]\n' > good.yaml
	run -1 "$PMC" start good.yaml
	[[ "$output" == *"no-such-pmcd: No such file or directory"* ]]
	[[ "$output" == *"pmc: could not start pmcd"* ]]
}

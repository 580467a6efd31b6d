#!/usr/bin/env bats
#
# man.bats -- the man pages: they pass mandoc's lint, and they document
# what the programs say they have: every verb of `pmc help` and its
# options, every field that `pmcd -n -v` prints, every option of pmcd's
# usage, and every file pmcd and pmc leave in PMC_HOME.

bats_require_minimum_version 1.5.0
load helper

MAN=$ROOT/man

# One section of a man page, from its .Sh line to the next: section FILE NAME.
section() {
	awk -v name="$2" '
	    /^\.Sh / { on = ($0 == ".Sh " name) }
	    on' "$1"
}

# The verbs of `pmc help`, one a line.
verbs() {
	"$PMC" help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p'
}

# The long and short options in a usage text on stdin, one a line:
# "[--user|--system] [FILE...]" gives --user and --system.
options() {
	grep -oE '(^|[][ |])--?[a-z][a-z-]*' | sed 's/^[][ |]//'
}

# An option as mdoc writes it after Fl: --no-wait is \-no\-wait.
fl() {
	local o=${1#-}
	printf '%s\n' "Fl ${o//-/\\-}"
}

# Fail with a list when there is anything on stdin: missing WHAT < list.
none_missing() {
	local list
	list=$(cat)
	if [ -n "$list" ]; then
		printf '%s\n' "missing $1:" "$list" >&2
		return 1
	fi
}

# A spec that sets every field, so that `pmcd -n -v` prints them all.
write_full_spec() {
	mkdir -p logs
	write_spec full.yaml <<-EOF
	apps:
	  - name: web
	    command: ["./server", "--threads", "1"]
	    cwd: .
	    instances: 2
	    listen: 127.0.0.1:8080
	    balance: shared
	    intercept_bind: false
	    env: {GREETING: hello}
	    user: $(id -un)
	    group: $(id -gn)
	    restart: always
	    backoff: {initial: 100ms, max: 30s, min_uptime: 1s, reset_after: 30s}
	    max_restarts: 0
	    stop_signal: TERM
	    kill_timeout: 5s
	    ready: notify
	    ready_timeout: 30s
	    max_memory: 1G
	    logs:
	      out: logs/out.log
	      err: logs/err.log
	      max_size: 10M
	      keep: 5
	      timestamps: true
	      to: file
	EOF
}

# The fields of app web that `pmcd -n -v` prints, one a line, as
# "field" or "parent.field"; the keys under env are the user's variables,
# not fields.
spec_fields() {
	"$PMCD" -n -v full.yaml | sed -n 's/^web\.\([^=]*\)=.*/\1/p' |
	    sed 's/^env\..*/env/' | sort -u
}

# The fields pm.yaml(5) documents under APP FIELDS, as .It Ic entries of
# the list, "field", or of a list nested in a field's entry,
# "parent.field".
documented_fields() {
	section "$MAN/pm.yaml.5" "APP FIELDS" | awk '
	    /^\.Bl / { depth++; next }
	    /^\.El/ { depth--; next }
	    /^\.It Ic / {
		if (depth == 1) { parent = $3; print $3 }
		else if (depth == 2) print parent "." $3
	    }' | sort -u
}

@test "mandoc -Tlint -Wwarning finds nothing in the three pages" {
	command -v mandoc > /dev/null || skip "mandoc is not installed"
	run mandoc -Tlint -Wwarning "$MAN/pmc.1" "$MAN/pmcd.8" "$MAN/pm.yaml.5"
	printf '%s\n' "$output"
	[ -z "$output" ]
	[ "$status" -eq 0 ]
}

@test "every verb of pmc help has its .It Cm entry in pmc(1)" {
	run -0 verbs
	[ "${#lines[@]}" -ge 10 ]
	for v in "${lines[@]}"; do
		grep -qE "^\.It Cm $v( |\$)" "$MAN/pmc.1" || echo "$v"
	done | none_missing "verbs under COMMANDS"
}

@test "every verb of pmc help is in the SYNOPSIS of pmc(1)" {
	synopsis=$(section "$MAN/pmc.1" SYNOPSIS)
	for v in $(verbs); do
		grep -qx "\.Cm $v" <<< "$synopsis" || echo "$v"
	done | none_missing "verbs in SYNOPSIS"
}

@test "every option in the usage of each verb is in its entry and the SYNOPSIS of pmc(1)" {
	synopsis=$(section "$MAN/pmc.1" SYNOPSIS)
	for v in $(verbs); do
		entry=$(grep -E "^\.It Cm $v( |\$)" "$MAN/pmc.1")
		for o in $("$PMC" help "$v" | head -n 1 | options); do
			grep -qF -- "$(fl "$o")" <<< "$entry" ||
			    echo "$v $o (in .It Cm $v)"
			grep -qF -- "$(fl "$o")" <<< "$synopsis" ||
			    echo "$v $o (in SYNOPSIS)"
		done
	done | none_missing "verb options"
	# start --prune, list --json, reload --no-wait, save --force,
	# startup --user and --system at least.
	[ "$(for v in $(verbs); do "$PMC" help "$v" | head -n 1; done |
	    options | wc -l)" -ge 6 ]
}

@test "every field that pmcd -n -v prints is documented in pm.yaml(5)" {
	write_full_spec
	run -0 spec_fields
	[ "${#lines[@]}" -ge 20 ]
	documented=$(documented_fields)
	for f in "${lines[@]}"; do
		grep -qx -- "$f" <<< "$documented" || echo "$f"
		# A nested field's parent has an entry of its own.
		[[ $f != *.* ]] || grep -qx -- "${f%%.*}" <<< "$documented" ||
		    echo "${f%%.*}"
	done | sort -u | none_missing "fields in pm.yaml(5) APP FIELDS"
}

@test "every field pm.yaml(5) documents is one that pmcd knows" {
	write_full_spec
	fields=$(spec_fields)
	run -0 documented_fields
	[ "${#lines[@]}" -ge 20 ]
	for f in "${lines[@]}"; do
		[ "$f" = name ] && continue	# the prefix of every -v line
		grep -qE -- "^${f//./\\.}(\\.|\$)" <<< "$fields" || echo "$f"
	done | none_missing "in pmcd -n -v (documented but unknown)"
}

@test "every option of pmcd's usage is in the SYNOPSIS and an .It Fl entry of pmcd(8)" {
	run -2 "$PMCD" -h
	opts=$(printf '%s\n' "$output" | sed 's/^usage://' | options | sort -u)
	# -f, --resurrect, -n, -v, -w
	[ "$(wc -l <<< "$opts")" -ge 5 ]
	synopsis=$(section "$MAN/pmcd.8" SYNOPSIS)
	for o in $opts; do
		# ".It Fl \-metrics", or with its argument: "... Ar address".
		grep -qxF -- ".It $(fl "$o")" "$MAN/pmcd.8" ||
		    grep -qF -- ".It $(fl "$o") Ar " "$MAN/pmcd.8" ||
		    echo "$o (.It)"
		grep -qF -- "$(fl "$o")" <<< "$synopsis" || echo "$o (SYNOPSIS)"
	done | none_missing "pmcd options"
}

@test "FILES of pmc(1) names every file that pmc start and save leave in PMC_HOME" {
	write_spec app.yaml <<-EOF
	apps:
	  - name: web
	    command: ["sleep", "600"]
	EOF
	run -0 "$PMC" start app.yaml
	run -0 "$PMC" save
	run -0 "$PMC" save		# the second one keeps dump.yaml.bak
	[ -f "$PMC_HOME/dump.yaml.bak" ]
	[ -f "$PMC_HOME/pmcd.log" ]
	[ -f "$PMC_HOME/logs/web.out.log" ]
	files=$(section "$MAN/pmc.1" FILES)
	for f in "$PMC_HOME"/* "$PMC_HOME"/logs/*; do
		name=${f#"$PMC_HOME"/}
		case $name in
		logs)	line='.It Pa $PMC_HOME/logs/ Ns Ar app Ns .out.log' ;;
		logs/web.*)
			line=".It Pa \$PMC_HOME/logs/ Ns Ar app Ns .${name#logs/web.}" ;;
		*)	line=".It Pa \$PMC_HOME/$name" ;;
		esac
		grep -qxF -- "$line" <<< "$files" || echo "$name"
	done | none_missing "files in FILES of pmc(1)"
}

@test "pmcd(8) has the SYSTEMD and CONTAINERS sections, and each page FILES and EXIT STATUS" {
	for s in SYSTEMD CONTAINERS; do
		grep -qx "\.Sh $s" "$MAN/pmcd.8" || echo "pmcd.8 $s"
	done | none_missing "sections"
	for p in pmc.1 pmcd.8; do
		for s in FILES "EXIT STATUS"; do
			grep -qx "\.Sh $s" "$MAN/$p" || echo "$p $s"
		done
	done | none_missing "sections"
	# The unit shown in pmcd(8) is the one make install installs.
	unit=$(sed -e '/^#/d' -e 's|@BINDIR@|/usr/local/bin|' \
	    "$ROOT/supervisor/systemd/pmcd.service.in")
	shown=$(section "$MAN/pmcd.8" SYSTEMD |
	    sed -n '/^\[Unit\]$/,/^WantedBy=/p' | head -n "$(wc -l <<< "$unit")")
	[ "$shown" = "$unit" ] || {
		diff <(echo "$unit") <(echo "$shown") >&2
		return 1
	}
}

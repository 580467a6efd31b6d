# nobody.bash -- acting as another user (nobody:nogroup) in a test run as
# root; `load nobody` after `load helper`.

# as_nobody CMD...: run CMD as nobody:nogroup with no other group.
as_nobody() {
	setpriv --reuid nobody --regid nogroup --clear-groups "$@"
}

# need_nobody: skip unless root, setpriv and a pmc that nobody may run.
need_nobody() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as nobody"
	command -v setpriv >/dev/null || skip "needs setpriv"
	as_nobody "$PMC" help >/dev/null 2>&1 ||
	    skip "nobody cannot run $PMC (a folder on its path is 0700?)"
}

# nobody_python: a python3 that nobody may run (a pyenv shim under /root
# is not), in $NOBODY_PY; skips when there is none.
nobody_python() {
	local p
	NOBODY_PY=
	for p in $(type -ap python3) /usr/bin/python3; do
		if as_nobody "$p" -c '' 2>/dev/null; then
			NOBODY_PY=$p
			return 0
		fi
	done
	skip "no python3 that nobody can run"
}

# nobody_tmp: $NOBODY_TMP, a folder of root's, mode 0755, on a path that
# nobody can reach (BATS_TEST_TMPDIR may not be); nobody_cleanup removes
# it.
nobody_tmp() {
	NOBODY_TMP=$(mktemp -d /tmp/pmc-nobody.XXXXXX) || return 1
	chmod 0755 "$NOBODY_TMP"
}

# nobody_home: PMC_HOME=$NOBODY_TMP/home, owned by nobody, mode 0700.
nobody_home() {
	nobody_tmp || return 1
	export PMC_HOME=$NOBODY_TMP/home
	mkdir -m 0700 "$PMC_HOME"
	chown nobody:nogroup "$PMC_HOME"
}

# nobody_cleanup: stop the test's pmcd (by pid), remove $NOBODY_TMP.
nobody_cleanup() {
	pmc_teardown
	[ -z "${NOBODY_TMP:-}" ] || rm -rf "$NOBODY_TMP"
	NOBODY_TMP=
}

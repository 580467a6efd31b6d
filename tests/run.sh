#!/bin/sh
# Run every bats suite and end with one line: "N passed, N failed[, N skipped]".
# Usage: tests/run.sh [FILE.bats...]; TEST_JOBS=1 runs one suite at a time.
cd "$(dirname "$0")/.." || exit 1
[ $# -gt 0 ] || set -- tests/*.bats
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Two suites at a time (each one's tests in order): most of a test is
# waiting for a process, so two cores run two of them at once, and the
# suite fits in its 10 minutes.  Without GNU parallel, one at a time.
jobs=
if command -v parallel >/dev/null 2>&1 && [ "${TEST_JOBS:-2}" -gt 1 ]; then
	jobs="--jobs ${TEST_JOBS:-2} --no-parallelize-within-files"
fi
# shellcheck disable=SC2086
bats --tap --timing $jobs "$@" | tee "$out"
passed=$(grep -Ec '^ok [0-9]+ ' "$out" | tr -d ' ')
skipped=$(grep -Ec '^ok [0-9]+ .*# skip' "$out" | tr -d ' ')
failed=$(grep -Ec '^not ok [0-9]+ ' "$out" | tr -d ' ')
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n 1)
passed=$((passed - skipped))
# A suite that died before running all its tests counts the rest as failed.
missing=$(( ${planned:-0} - passed - skipped - failed ))
[ "$missing" -gt 0 ] && failed=$((failed + missing))
# Under `make asan`, pmcd's reports go to files (it runs detached): each
# report is a failure, shown here.
if [ -n "${PMC_SANITIZER_REPORTS:-}" ]; then
	for f in "$PMC_SANITIZER_REPORTS"/*; do
		[ -s "$f" ] || continue
		echo "# sanitizer report $f:"
		sed 's/^/#   /' "$f"
		failed=$((failed + 1))
	done
fi
# The slowest tests, for whoever keeps the suite under its 10 minutes.
echo "# slowest:"
sed -n 's/^ok [0-9]* \(.*\) in \([0-9]*\)ms$/\2 \1/p' "$out" | sort -rn |
    head -n 15 | awk '{ ms = $1; $1 = ""; printf "#  %6.1f s %s\n", ms / 1000, $0 }'
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

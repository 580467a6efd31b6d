#!/bin/sh
# Run the libFuzzer harnesses built in build-fuzz/ (make fuzz-build), or
# in $FUZZ_BUILD.  Usage: sh tests/fuzz/run.sh SECONDS|replay HARNESS...
#
# SECONDS: fuzz each harness that long from its corpus; what it finds
# goes to build-fuzz/corpus/HARNESS/ (tests/fuzz/corpus/ is only read)
# and a crash to build-fuzz/crashes/.  replay: run every committed input
# once.  Prints one line a harness and fails when any crashed.
cd "$(dirname "$0")/../.." || exit 1
b=${FUZZ_BUILD:-build-fuzz}
mode=$1
shift
mkdir -p "$b/logs" "$b/crashes"
failed=0
for h in "$@"; do
	bin=$b/fuzz-$h
	seeds=tests/fuzz/corpus/$h
	log=$b/logs/$h.log
	dict=
	[ -f "tests/fuzz/$h.dict" ] && dict=-dict=tests/fuzz/$h.dict
	if [ "$mode" = replay ]; then
		"$bin" -runs=0 -artifact_prefix="$b/crashes/$h-" \
		    "$seeds" >"$log" 2>&1
	else
		mkdir -p "$b/corpus/$h"
		# $dict is empty or one word.
		# shellcheck disable=SC2086
		"$bin" -max_total_time="$mode" -timeout=10 -print_final_stats=1 \
		    -artifact_prefix="$b/crashes/$h-" $dict \
		    "$b/corpus/$h" "$seeds" >"$log" 2>&1
	fi
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	inputs=$(find "$seeds" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		if [ "$mode" = replay ]; then
			echo "fuzz-$h: $inputs committed inputs replayed, 0 crashes"
		else
			echo "fuzz-$h: ${runs:-?} executions in ${mode}s," \
			    "0 crashes"
		fi
	else
		failed=$((failed + 1))
		echo "fuzz-$h: CRASHED (exit $rc); from $log:"
		grep -E 'ERROR|invariant broken|SUMMARY|Test unit written' \
		    "$log" | sed 's/^/    /'
	fi
done
[ "$failed" -eq 0 ]

#!/usr/bin/env bats
#
# fuzz.bats -- the libFuzzer harnesses of tests/fuzz/: they build, every
# committed input (seeds and the regressions of crashes once found)
# replays without a crash, and a short run of each finds none.  The long
# runs are `make fuzz FUZZ_SECONDS=N`.

bats_require_minimum_version 1.5.0
load helper

HARNESSES="spec protocol notify lines logs json cron"

setup_file() {
	# Installs clang and libFuzzer when missing; the tests skip when
	# that cannot be done.
	local log=$BATS_FILE_TMPDIR/deps.log
	if ! sh "$ROOT/tests/fuzz/deps.sh" > "$log" 2>&1; then
		sed 's/^/# /' "$log" >&3
		export FUZZ_SKIP=1
	fi
}

setup() {
	pmc_setup
	# The harnesses carry their own sanitizers and report on stderr, to
	# their logs: under make asan, the suite's options would send the
	# deliberate crash below to the folder of pmcd's reports.
	unset ASAN_OPTIONS UBSAN_OPTIONS
	[ -z "${FUZZ_SKIP:-}" ] ||
	    skip "clang cannot build libFuzzer harnesses here (tests/fuzz/deps.sh failed)"
}

@test "every committed input of every harness replays without a crash" {
	run make -C "$ROOT" --no-print-directory fuzz-replay
	echo "$output"
	[ "$status" -eq 0 ]
	for h in $HARNESSES; do
		n=$(find "$ROOT/tests/fuzz/corpus/$h" -type f | wc -l)
		[ "$n" -gt 0 ]
		grep -qx "fuzz-$h: $n committed inputs replayed, 0 crashes" \
		    <<<"$output"
	done
}

# The committed corpus: every file's name and checksum.
corpus_sums() {
	(cd "$ROOT/tests/fuzz/corpus" && find . -type f -exec md5sum {} + |
	    sort)
}

@test "make fuzz FUZZ_SECONDS=1 runs each harness hundreds of times or more, no crash" {
	local before
	before=$(corpus_sums)
	run make -C "$ROOT" --no-print-directory fuzz FUZZ_SECONDS=1
	echo "$output"
	[ "$status" -eq 0 ]
	for h in $HARNESSES; do
		line=$(grep "^fuzz-$h: " <<<"$output")
		[[ $line =~ ^fuzz-$h:\ ([0-9]+)\ executions\ in\ 1s,\ 0\ crashes$ ]]
		[ "${BASH_REMATCH[1]}" -ge 100 ]
	done
	# The committed corpus is only read; what the run found is kept apart.
	[ "$(corpus_sums)" = "$before" ]
	[ -n "$(ls "$ROOT/build-fuzz/corpus/spec")" ]
}

@test "a harness whose invariant breaks on a committed input fails the replay" {
	# notify_parse refuses a datagram with a NUL (a committed seed has
	# one): a harness built to expect the opposite must be caught.
	mkdir build
	sed 's/CHECK(rc == -1);/CHECK(rc == 0);/' \
	    "$ROOT/tests/fuzz/fuzz-notify.c" > broken.c
	clang -std=c11 -D_GNU_SOURCE -I"$ROOT/tests/fuzz" -I"$ROOT/supervisor" \
	    -fsanitize=fuzzer -o build/fuzz-notify broken.c \
	    "$ROOT/supervisor/frame.c"
	FUZZ_BUILD=$PWD/build run sh "$ROOT/tests/fuzz/run.sh" replay notify
	echo "$output"
	[ "$status" -ne 0 ]
	grep -q '^fuzz-notify: CRASHED' <<<"$output"
	grep -q 'invariant broken: rc == 0' <<<"$output"
	ls build/crashes/notify-crash-*
}

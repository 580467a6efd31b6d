#!/bin/sh
# Log throughput: one program writing SIZE MB of 100-byte lines to its
# stdout, through pmcd into its log file (timestamps on, default rotation)
# against the same program writing to a file itself (`sh -c 'prog > file'`).
# Median and min-max of REPS interleaved runs of each: two rows of
# run.sh's table, printed and appended to $ROWS when set.  QUICK=1: 5 MB,
# 1 run.
# Bounded: every wait has a deadline; the pmcd it starts is killed at exit.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PMC=${PMC_BIN:-$ROOT/bin}/pmc
if [ -n "${QUICK:-}" ]; then
	SIZE=${SIZE:-5}; REPS=${REPS:-1}
else
	SIZE=${SIZE:-50}; REPS=${REPS:-3}
fi
DEADLINE=120		# seconds, per run

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pmc-bench.XXXXXX") || exit 1
export PMC_HOME="$TMP/home"
cleanup() {
	if [ -f "$PMC_HOME/pmcd.pid" ]; then
		pid=$(cat "$PMC_HOME/pmcd.pid")
		timeout 10 "$PMC" kill >/dev/null 2>&1
		[ -n "$pid" ] && [ "$pid" -gt 1 ] && kill -0 "$pid" 2>/dev/null &&
		    kill -KILL "$pid" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The program: SIZE MB of 100-byte lines, then "END", in 4000-byte writes
# of one block built once, so that it writes as fast as the kernel takes.
cat > "$TMP/gen.py" <<'PY'
import os, sys
block = ("%010d " % 7 + "x" * 88 + "\n").encode() * 40
for _ in range(int(sys.argv[1]) * 1000000 // len(block)):
    os.write(1, block)
os.write(1, b"END\n")
PY

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# mbps MS: SIZE MB in MS milliseconds, as MB/s.
mbps() {
	awk -v s="$SIZE" -v ms="$1" 'BEGIN { printf "%.1f", s * 1000 / (ms > 0 ? ms : 1) }'
}

# stats V...: "median min max"
stats() {
	printf '%s\n' "$@" | grep . | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

direct() {
	t0=$(now_ms)
	timeout "$DEADLINE" sh -c "python3 '$TMP/gen.py' $SIZE > '$TMP/direct.out'" ||
	    { echo "bench: direct run failed" >&2; exit 1; }
	t1=$(now_ms)
	rm -f "$TMP/direct.out"
	mbps $((t1 - t0))
}

# The END line in app $1's file: the run is over.
ended() {
	tail -c 64 "$PMC_HOME/logs/$1.out.log" 2>/dev/null | grep -q '\] END$'
}

through_pmcd() {
	app=gen$1
	cat > "$TMP/$app.yaml" <<-YAML
	apps:
	  - name: $app
	    command: ["python3", "$TMP/gen.py", "$SIZE"]
	    restart: never
	YAML
	t0=$(now_ms)
	# A quick app may be gone before start reports: its status is moot.
	"$PMC" start "$TMP/$app.yaml" >/dev/null 2>&1
	while ! ended "$app"; do
		[ $(( $(now_ms) - t0 )) -lt $((DEADLINE * 1000)) ] ||
		    { echo "bench: pmcd run timed out" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(now_ms)
	"$PMC" delete "$app" >/dev/null
	rm -f "$PMC_HOME/logs/$app".*
	mbps $((t1 - t0))
}

# pmcd up first, with an idle app, so its start is not timed.
cat > "$TMP/idle.yaml" <<YAML
apps:
  - name: idle
    command: ["sleep", "3600"]
YAML
"$PMC" start "$TMP/idle.yaml" >/dev/null || exit 1

d='' p=''
r=1
while [ "$r" -le "$REPS" ]; do
	d="$d $(direct)" || exit 1
	p="$p $(through_pmcd "$r")" || exit 1
	r=$((r + 1))
done
# shellcheck disable=SC2046,SC2086
set -- $(stats $d) $(stats $p)
ratio=$(awk -v a="$4" -v b="$1" 'BEGIN { printf "%.2f", a / b }')
fig="log throughput, $SIZE MB of 100-byte lines"
rows=$(cat <<ROWS
| 7 | $fig | direct (sh -c 'prog > file') | $1 MB/s | $2–$3 | 1.00 | - |
| 7 | $fig | pmcd (app.out.log, timestamps) | $4 MB/s | $5–$6 | $ratio | - |
ROWS
)
echo "$rows"
[ -z "${ROWS:-}" ] || echo "$rows" >> "$ROWS"

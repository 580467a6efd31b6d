#!/bin/sh
# Install the Debian packages that building and testing pmc need, when any
# is missing; quiet and quick (no apt) when all are there.
# Usage: sh tests/deps.sh [EXTRA-PACKAGE...]

build="gcc make pkg-config libyaml-dev libbsd-dev linux-libc-dev"
# util-linux: setpriv, taskset; procps: ps
tests="bats curl python3 iproute2 procps util-linux mandoc wrk"
# systemd: systemd-socket-activate, systemd-analyze; libc6-dev: libc.a, for
# the static program that pmc refuses to intercept.
tests="$tests systemd libc6-dev"
# tzdata: the DST changes of tests/cron.bats.
tests="$tests tzdata"
# tmux: the terminal that tests/monit.bats runs pmc monit in.
tests="$tests tmux"
# parallel: bats --jobs, two suites at a time (tests/run.sh).
tests="$tests parallel"
# valgrind: make valgrind (tests/valgrind.sh).
tests="$tests valgrind"
# haproxy: the balancer of examples/haproxy (tests/haproxy.bats);
# python3-yaml: reading examples/kubernetes' manifest.
tests="$tests haproxy python3-yaml"
# The stock servers of tests/matrix.bats, run unmodified.
matrix="nginx nodejs gunicorn"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
	    grep -q 'install ok installed'
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; make sure these are installed:" \
	    "$build $tests $matrix $*" >&2
	exit 0
fi

missing=
for pkg in $build $tests $matrix "$@"; do
	installed "$pkg" || missing="$missing $pkg"
done
missing=${missing# }
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps: missing packages: $missing" \
	    "(run as root: apt-get install $missing)" >&2
	exit 1
fi

# Installing a server package starts its service (nginx on port 80):
# while we install, a policy-rc.d that says "101: action forbidden" stops
# invoke-rc.d and deb-systemd-invoke from starting anything.  One that is
# there already is left alone; ours is removed on exit.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	# $sudo is split into words on purpose.
	# shellcheck disable=SC2086
	if printf '#!/bin/sh\n# deps.sh (pmc): start no service\nexit 101\n' |
	    $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"; then
		# shellcheck disable=SC2086
		trap '$sudo rm -f "$policy"' EXIT
		trap 'exit 1' HUP INT TERM
	else
		# shellcheck disable=SC2086
		$sudo rm -f "$policy"
		echo "deps: cannot write $policy; services may start" >&2
	fi
fi

echo "deps: installing $missing" >&2
# $sudo and $missing are split into words on purpose.
# shellcheck disable=SC2086
if ! $sudo apt-get update ||
    ! $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing; then
	echo "deps: could not install: $missing" >&2
	exit 1
fi

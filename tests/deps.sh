#!/bin/sh
# Install the Debian packages that building and testing pmc need, when any
# is missing; quiet and quick (no apt) when all are there.
# Usage: sh tests/deps.sh [EXTRA-PACKAGE...]

build="gcc make pkg-config libyaml-dev libbsd-dev"
# util-linux: setpriv, taskset; procps: ps
tests="bats curl python3 iproute2 procps util-linux mandoc wrk"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
	    grep -q 'install ok installed'
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; make sure these are installed:" \
	    "$build $tests $*" >&2
	exit 0
fi

missing=
for pkg in $build $tests "$@"; do
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

echo "deps: installing $missing" >&2
# $sudo and $missing are split into words on purpose.
# shellcheck disable=SC2086
if ! $sudo apt-get update ||
    ! $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing; then
	echo "deps: could not install: $missing" >&2
	exit 1
fi

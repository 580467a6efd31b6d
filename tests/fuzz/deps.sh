#!/bin/sh
# Make sure clang can build pmc's libFuzzer harnesses; install what it
# lacks from Debian (clang, the libFuzzer and sanitizer runtimes, the
# libraries pmc links) when it cannot.  Quiet when it can.
# Usage: sh tests/fuzz/deps.sh

pkgs="make pkg-config libyaml-dev libbsd-dev clang"

# Build a do-nothing fuzzer: that needs clang and libclang_rt.fuzzer.
can_build() {
	pkg-config --exists yaml-0.1 libbsd-overlay 2>/dev/null &&
	    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)%s\n' \
	    '{ (void)d; (void)n; return 0; }' |
	    clang -fsanitize=fuzzer,address,undefined -x c -o /dev/null - \
	    >/dev/null 2>&1
}

can_build && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "fuzz deps: clang cannot build a libFuzzer harness here;" \
	    "install clang with libFuzzer, libyaml and libbsd" >&2
	exit 1
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

install() {
	echo "fuzz deps: installing $*" >&2
	# $sudo is split into words on purpose.
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends "$@" >&2
}

# shellcheck disable=SC2086 # $sudo and $pkgs, split into words
$sudo apt-get update -q >&2 && install $pkgs &&
    # libFuzzer comes with the runtimes of that clang's version.
    install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
if ! can_build; then
	echo "fuzz deps: clang still cannot build a libFuzzer harness" >&2
	exit 1
fi

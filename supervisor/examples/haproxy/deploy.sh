#!/bin/sh
# deploy.sh -- roll a new version over the hosts of cluster.sh, one host
# at a time, without failing a request:
#
#   1. pmc drain --wait web   the host's health turns 503; HAProxy marks
#                             it down after its next checks and stops
#                             sending it connections; the wait ends once
#                             none came for a quiet second
#   2. pmc reload web         every instance replaced, one by one (with
#                             VERSION: the spec changed, pmc start)
#   3. pmc undrain web        healthy again once its instances are online
#   4. wait until HAProxy has it UP again, then the next host
#
#   deploy.sh DIR [VERSION]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
DIR=$1
VERSION=${2:-}
cl() { "$here/cluster.sh" "$@"; }

for h in h1 h2 h3; do
	echo "deploy: $h: draining"
	cl pmc "$DIR" "$h" drain --wait --quiet 1s --timeout 30s web
	cl wait "$DIR" "$h" DOWN 15
	if [ -n "$VERSION" ]; then
		sed -i "s/VERSION: \"[^\"]*\"/VERSION: \"$VERSION\"/" \
		    "$DIR/$h/app.yaml"
		# A changed spec: a rolling reload, waited for.
		cl pmc "$DIR" "$h" start "$DIR/$h/app.yaml"
	else
		cl pmc "$DIR" "$h" reload web
	fi
	cl pmc "$DIR" "$h" undrain web
	cl wait "$DIR" "$h" UP 15
	echo "deploy: $h: done"
done

#!/bin/sh
# make run: start pm.yaml.example and show it serving.
#
# As root, pmc reads only specs that no one but root can change (pmcd(8),
# SECURITY).  A checkout that belongs to someone else (sudo make run in
# one's own clone) is therefore run as its owner, with the PMC_HOME that
# owner's own `bin/pmc` finds, so that `bin/pmc kill` stops it later.
set -eu
cd "$(dirname "$0")/.."
owner=$(stat -c %u pm.yaml.example)
if [ "$(id -u)" -eq 0 ] && [ "$owner" -ne 0 ]; then
	home=$(getent passwd "$owner" | cut -d: -f6)
	xdg=
	[ -d "/run/user/$owner" ] && xdg=/run/user/$owner
	echo "pm.yaml.example belongs to uid $owner: pmc runs as that user"
	set -- setpriv --reuid="$owner" --regid="$(stat -c %g pm.yaml.example)" \
	    --init-groups env -u PMC_HOME HOME="${home:-/}" \
	    ${xdg:+XDG_RUNTIME_DIR=$xdg}
fi
"$@" bin/pmc start pm.yaml.example
"$@" bin/pmc list
echo
echo '$ curl -s http://127.0.0.1:8080/'
curl -s http://127.0.0.1:8080/
echo
echo 'pmc is serving pm.yaml.example; stop it with: bin/pmc kill'

#!/usr/bin/env bats
#
# watch: a change under an app's folder is a rolling reload, so no
# request fails for it; node_modules, .git and ignore_watch are left
# out; running out of inotify watches is said in describe.

load helper
load load

bats_require_minimum_version 1.5.0

setup() {
	pmc_setup
	mkdir -p "$BATS_TEST_TMPDIR/app/src" \
	    "$BATS_TEST_TMPDIR/app/node_modules/pkg" \
	    "$BATS_TEST_TMPDIR/app/.git/objects" "$BATS_TEST_TMPDIR/app/dist"
	cd "$BATS_TEST_TMPDIR/app"
}

# watch_line: the watch: line of pmc describe web.
watch_line() {
	"$PMC" describe web | sed -n 's/^watch: //p'
}

# reloads_seen N: describe counts N reloads by watch, all online.
reloads_seen() {
	[[ "$(watch_line)" == *", $1 reload"* ]] && all_online web 2 &&
	    [[ "$(watch_line)" != *"waiting"* ]]
}

@test "watch: a file touched under the app's folder reloads it under load with no failed request; a new folder is watched too" {
	local before after
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" "watch: true" \
	    "watch_delay: 100ms"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	start_load "$port"
	touch src/server.js
	wait_for 20 reloads_seen 1
	finish_load
	echo "# touch under load: $LOAD_REQUESTS answered, $LOAD_FAILED failed" >&3
	[ "$LOAD_FAILED" -eq 0 ]
	after=$(app_pids web)
	none_shared "$before" "$after"
	pmcd_logged "web: watch: a change, reloading"
	# A folder made after the start is watched, and what is put in it.
	mkdir src/lib
	wait_for 10 reloads_seen 2
	touch src/lib/util.js
	wait_for 10 reloads_seen 3
}

@test "watch: node_modules and .git are never watched; ignore_watch names and paths are left out" {
	local before ign
	port=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port" "watch: true" \
	    "watch_delay: 100ms" 'ignore_watch: [dist, "*.log"]'
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	before=$(app_pids web)
	# Watched: the app's folder and src; not node_modules, .git, dist.
	[[ "$(watch_line)" == "2 folders "* ]]
	# A file ignore_watch names, in a watched folder: seen, ignored.
	touch server.log
	wait_for 10 eval '[[ "$(watch_line)" =~ "0 changes seen, "[1-9][0-9]*" ignored, 0 reloads"$ ]]'
	ign=$(watch_line | sed 's/.*seen, \([0-9]*\) ignored.*/\1/')
	touch node_modules/pkg/index.js .git/objects/x dist/bundle.js
	# In order: the change after them is the only one seen.
	touch src/server.js
	wait_for 10 reloads_seen 1
	[[ "$(watch_line)" == *", $ign ignored, 1 reload" ]]
	[ "$before" != "$(app_pids web)" ]
}

@test "watch: [src] watches src alone; a change elsewhere reloads nothing" {
	local before
	port=$(free_port)
	mkdir -p docs
	demo_spec app.yaml web 2 "127.0.0.1:$port" "watch: [src]" \
	    "watch_delay: 100ms"
	pmc_start app.yaml
	[ "$status" -eq 0 ]
	[[ "$(watch_line)" == "1 folder "* ]]
	before=$(app_pids web)
	touch docs/readme.md app.yaml
	touch src/server.js
	wait_for 10 reloads_seen 1
	[[ "$(watch_line)" == *"seen, 0 ignored, 1 reload" ]]
	[ "$before" != "$(app_pids web)" ]
}

@test "watch: out of inotify watches (max_inotify_watches 3 in a user namespace): describe says how many folders are watched and that the rest are not" {
	local d
	command -v unshare >/dev/null || skip "no unshare"
	unshare --user --map-root-user true 2>/dev/null ||
	    skip "user namespaces are not allowed here"
	for d in a b c d e f; do
		mkdir -p "src/$d"
	done
	printf 'apps:\n  - name: web\n    command: [sleep, "600"]\n    watch: true\n' \
	    > app.yaml
	# pmcd starts inside the namespace, with its limit.
	run -0 unshare --user --map-root-user sh -c \
	    'echo 3 > /proc/sys/user/max_inotify_watches && exec "$1" start app.yaml' \
	    sh "$PMC"
	run -0 "$PMC" describe web
	echo "$output"
	[[ "$output" == *"watch: 3 folders"* ]]
	[[ "$output" == *"not all watched: out of inotify watches (sysctl fs.inotify.max_user_watches) after 3 folders: the rest are not watched"* ]]
	pmcd_logged "web: watch: out of inotify watches"
}

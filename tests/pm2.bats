#!/usr/bin/env bats
#
# Coming from PM2: its process files (ecosystem.config.js, and the JSON
# and YAML it also reads) started as they are, --env picking an
# env_NAME block, pmc convert printing the pm.yaml they become.  The
# files are those of tests/fixtures/pm2/, copied into the test's folder.

load helper

bats_require_minimum_version 1.5.0

setup() {
	pmc_setup
	command -v node >/dev/null || skip "node not installed"
	cp "$TESTS_DIR"/fixtures/pm2/* "$BATS_TEST_TMPDIR/"
	cd "$BATS_TEST_TMPDIR"
}

# spec_value APP FIELD: FIELD's value in the spec part of pmc describe.
spec_value() {
	"$PMC" describe "$1" | sed -n "s/^  $2: //p" | head -1
}

@test "an ecosystem.config.js as PM2's docs show it starts as it is: api in cluster mode on every CPU with env_production, worker in fork mode" {
	local pid n
	export API_PORT
	API_PORT=$(free_port)
	pmc_start --env production ecosystem.config.js
	[ "$status" -eq 0 ]
	echo "$stderr"
	[[ "$output" == *"api: "*" online"* ]]
	[[ "$output" == *"worker: 1/1 online"* ]]
	# instances: "max" is max: as many as a pm.yaml's max.
	printf 'apps:\n  - name: m\n    command: x\n    instances: max\n' > m.yaml
	n=$("$PMCD" -n -v m.yaml | sed -n 's/^m.instances=//p')
	[ "$(app_pids api | wc -w)" -eq "$n" ]
	# exec_mode: cluster is node_cluster: its listen(PORT) is served.
	[ "$(spec_value api node_cluster)" = true ]
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$API_PORT/"
	[[ "$output" == "api production pid "* ]]
	pid=$(slot_pid api 0)
	[ "$(env_of "$pid" NODE_ENV)" = production ]
	[ "$(env_of "$pid" PORT)" = "$API_PORT" ]
	[ "$(spec_value api max_memory)" = 300M ]
	# The worker: node for a .js script, its args split as a shell does.
	wait_for 5 inst_logged worker 0 '^worker --queue jobs started$'
	[ "$(spec_value worker command)" = "node ./worker.js --queue jobs" ]
	# Started again: unchanged; reloaded: every api pid changes.
	pmc_start --env production ecosystem.config.js
	[ "$status" -eq 0 ]
	[[ "$output" == *"api: unchanged"* ]]
	pids=$(app_pids api)
	run -0 "$PMC" reload api
	none_shared "$pids" "$(app_pids api)"
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$API_PORT/"
	[[ "$output" == "api production pid "* ]]
}

@test "without --env the env block alone applies; a PM2 field with no pmc meaning is a warning naming it, not an error" {
	export API_PORT
	API_PORT=$(free_port)
	cat > eco2.config.js <<-'EOF'
	module.exports = {
	  apps: [{ name: "api", script: "./api.js", instances: 1,
	    env: { NODE_ENV: "development", PORT: process.env.API_PORT },
	    env_production: { NODE_ENV: "production" },
	    vizion: false, pmx: true, cron_restart: "0 3 * * *" }],
	  deploy: { production: { user: "node" } },
	};
	EOF
	pmc_start eco2.config.js
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"pmc: warning: eco2.config.js: app api: vizion: PM2's, with no meaning in pmc; ignored"* ]]
	[[ "$stderr" == *"app api: pmx: PM2's, with no meaning in pmc"* ]]
	[[ "$stderr" == *"eco2.config.js: deploy: PM2's, with no meaning in pmc"* ]]
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$API_PORT/"
	[[ "$output" == "api development pid "* ]]
	# cron_restart is pmc's too: a rolling reload at those times.
	[ "$(spec_value api cron_restart)" = "0 3 * * *" ]
}

@test "PM2's JSON (tab-indented) and YAML process files start their apps, each mapped field where describe shows it" {
	pmc_start process.json process.yml
	[ "$status" -eq 0 ]
	[[ "$output" == *"jsonapp: 1/1 online"* ]]
	[[ "$output" == *"yamlapp: 1/1 online"* ]]
	wait_for 5 inst_logged jsonapp 0 '^worker --from json file started$'
	wait_for 5 inst_logged yamlapp 0 '^worker --from yaml started$'
	[ "$(spec_value jsonapp kill_timeout)" = 1500ms ]
	[ "$(spec_value jsonapp max_restarts)" = 7 ]
	[ "$(spec_value yamlapp restart)" = never ]
	[ "$(spec_value yamlapp backoff.initial)" = 250ms ]
	[ "$(spec_value yamlapp backoff.max)" = 250ms ]
}

@test "every PM2 field with a pmc meaning becomes its field (pmc convert)" {
	cat > all.json <<-'EOF'
	{"apps": [{
	  "name": "every", "script": "srv.py", "args": "-v",
	  "interpreter": "/usr/bin/python3", "interpreter_args": "-u",
	  "cwd": "/tmp", "instances": -1, "exec_mode": "fork",
	  "env": {"A": 1, "B": true}, "env_staging": {"A": "2"},
	  "max_memory_restart": "1g", "autorestart": false,
	  "max_restarts": 4, "min_uptime": 2000,
	  "exp_backoff_restart_delay": 100, "kill_timeout": 9000,
	  "listen_timeout": 4000, "wait_ready": true,
	  "out_file": "/tmp/o.log", "error_file": "/tmp/e.log",
	  "time": true, "merge_logs": true, "uid": "root", "gid": "root",
	  "watch": ["src", "lib"], "ignore_watch": "dist", "watch_delay": 500
	}]}
	EOF
	run -0 --separate-stderr "$PMC" convert --env staging all.json
	echo "$output"
	same "the translation" "$(printf '%s\n' \
	    '  - name: "every"' \
	    '    command: ["/usr/bin/python3", "-u", "srv.py", "-v"]' \
	    '    cwd: "/tmp"' \
	    '    instances: -1' \
	    '    env:' \
	    '      "B": "true"' \
	    '      "A": "2"' \
	    '    restart: never' \
	    '    max_restarts: 4' \
	    '    backoff:' \
	    '      initial: 100ms' \
	    '      max: 15s' \
	    '      min_uptime: 2000ms' \
	    '    kill_timeout: 9000ms' \
	    '    ready_timeout: 4000ms' \
	    '    ready: notify' \
	    '    max_memory: "1G"' \
	    '    watch: ["src", "lib"]' \
	    '    ignore_watch: ["dist"]' \
	    '    watch_delay: 500ms' \
	    '    user: "root"' \
	    '    group: "root"' \
	    '    logs:' \
	    '      out: "/tmp/o.log"' \
	    '      err: "/tmp/e.log"' \
	    '      timestamps: true')" "$(echo "$output" | sed -n '/^  - /,$p')"
	[ -z "$stderr" ]
	# What convert prints is a pm.yaml that loads as it is.
	echo "$output" > all.yaml
	run -0 "$PMCD" -n all.yaml
	# Each field as pmc reads it (describe shows the same values).
	run -0 "$PMCD" -n -v all.yaml
	for kv in "command=/usr/bin/python3 -u srv.py -v" restart=never \
	    backoff.initial=100ms backoff.max=15s backoff.min_uptime=2s \
	    max_restarts=4 kill_timeout=9s ready=notify ready_timeout=4s \
	    max_memory=1G watch=src watch=lib ignore_watch=dist \
	    watch_delay=500ms user=root group=root env.A=2 env.B=true \
	    logs.out=/tmp/o.log logs.err=/tmp/e.log logs.timestamps=true \
	    cwd=/tmp; do
		grep -qxF "every.$kv" <<< "$output" ||
		    { echo "no every.$kv in: $output"; return 1; }
	done
}

@test "pmc convert of the ecosystem file, started as a pm.yaml, is the same app: unchanged" {
	export API_PORT
	API_PORT=$(free_port)
	pmc_start ecosystem.config.js
	[ "$status" -eq 0 ]
	run -0 --separate-stderr "$PMC" convert ecosystem.config.js
	echo "$output" > converted.yaml
	pmc_start converted.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"api: unchanged"* ]]
	[[ "$output" == *"worker: unchanged"* ]]
}

@test "PM2 process files refused as they should be: no script, JavaScript that throws, a bad --env, a pm.yaml to convert" {
	printf 'module.exports = { apps: [{ name: "x" }] };\n' > noscript.config.js
	run -1 "$PMC" start noscript.config.js
	[[ "$output" == *"pmc: noscript.config.js: app x: no script"* ]]
	printf 'module.exports = { apps: [ oops ] };\n' > throws.config.js
	run -1 "$PMC" start throws.config.js
	[[ "$output" == *"ReferenceError: oops is not defined"* ]]
	[[ "$output" == *"throws.config.js: node could not evaluate it"* ]]
	printf 'apps:\n  - name: y\n    command: [sleep, "9"]\n' > plain.yaml
	run -2 "$PMC" start --env 'pro duction' plain.yaml
	[[ "$output" == *"pmc: --env: expected letters, digits, \"_\" or \"-\", got \"pro duction\""* ]]
	run -1 "$PMC" convert plain.yaml
	[[ "$output" == *"plain.yaml: not a PM2 process file"* ]]
	# Nothing was started by any of these.
	run "$PMC" list
	[[ "$output" != *" x "* && "$output" != *" y "* ]]
}

@test "a field the loader refuses is reported with where to see its translation" {
	printf '{"apps": [{"name": "bad", "script": "w.js", "instances": "lots"}]}\n' > bad.json
	run -1 "$PMC" start bad.json
	[[ "$output" == *"bad.json:"*"instances: expected a positive integer or \"max\", got \"lots\""* ]]
	[[ "$output" == *"bad.json: the lines above are those of its translation to pm.yaml: pmc convert bad.json shows it"* ]]
}

@test "SIGHUP leaves the apps of a PM2 file as they are, and says why" {
	local pid
	pmc_start process.json
	[ "$status" -eq 0 ]
	pid=$(slot_pid jsonapp 0)
	kill -HUP "$(pmcd_pid)"
	wait_for 5 pmcd_logged "SIGHUP: jsonapp: from the PM2 process file .*process.json, not read again"
	[ "$(slot_pid jsonapp 0)" = "$pid" ]
	all_online jsonapp 1
}

@test "the one-line form: pmc start api.js -i 2 --name api, and --name w -- ARGS, kept as spec files that reload like any other" {
	local pids
	# pmcd starts with this pmc, so its apps see this PORT.
	export PORT
	PORT=$(free_port)
	pmc_start api.js -i 2 --name api
	[ "$status" -eq 0 ]
	[[ "$output" == *"api: 2/2 online"* ]]
	run -0 curl -sS --max-time 5 "http://127.0.0.1:$PORT/"
	[[ "$output" == "api "*" pid "* ]]
	# -i on a node script is PM2's cluster mode.
	[ "$(spec_value api node_cluster)" = true ]
	[ -f "$PMC_HOME/apps/api.yaml" ]
	run -0 "$PMC" describe api
	[[ "$output" == *"app api from $PMC_HOME/apps/api.yaml"* ]]
	pmc_start worker.js --name w -- --queue jobs
	[ "$status" -eq 0 ]
	[[ "$output" == *"w: 1/1 online"* ]]
	wait_for 5 inst_logged w 0 '^worker --queue jobs started$'
	[ "$(spec_value w cwd)" = "$BATS_TEST_TMPDIR" ]
	pids=$(app_pids api)
	run -0 "$PMC" reload api
	none_shared "$pids" "$(app_pids api)"
	# The same line again: the same spec, unchanged.
	pmc_start worker.js --name w -- --queue jobs
	[[ "$output" == *"w: unchanged"* ]]
	# A spec file by its content, whatever its name (pm.yaml.example).
	printf 'apps:\n  - name: conf\n    command: [sleep, "600"]\n' > web.conf
	pmc_start web.conf
	[[ "$output" == *"conf: 1/1 online"* ]]
	[ ! -e "$PMC_HOME/apps/web.yaml" ]
}

# env_of_web KEY: KEY in the environment of instance 0 of web.
env_of_web() {
	env_of "$(slot_pid web 0)" "$1"
}

@test "env_NAME blocks in a pm.yaml: --env merges one over env; SIGHUP keeps the --env; a start without it goes back" {
	printf '%s\n' 'apps:' '  - name: web' '    command: [sleep, "600"]' \
	    '    env: {MODE: dev, KEEP: "1"}' \
	    '    env_production: {MODE: prod}' \
	    '    env_staging: {MODE: stage, EXTRA: "yes"}' > app.yaml
	pmc_start --env production app.yaml
	[ "$status" -eq 0 ]
	[ "$(env_of_web MODE)" = prod ]
	[ "$(env_of_web KEEP)" = 1 ]
	[ -z "$(env_of_web EXTRA)" ]
	# The file changes; SIGHUP reads it with the same --env.
	sed -i 's/MODE: prod}/MODE: prod2}/' app.yaml
	pid=$(slot_pid web 0)
	kill -HUP "$(pmcd_pid)"
	wait_for 10 eval '[ "$(slot_pid web 0)" != "$pid" ] && all_online web 1'
	[ "$(env_of_web MODE)" = prod2 ]
	pmc_start app.yaml
	[[ "$output" == *"web: spec changed, reloading"* ]]
	[ "$(env_of_web MODE)" = dev ]
	pmc_start --env staging app.yaml
	[ "$(env_of_web MODE)" = stage ]
	[ "$(env_of_web EXTRA)" = yes ]
}

@test "an env_NAME block that is not a mapping is an error with its line and column; an app without the block keeps its env" {
	printf '%s\n' 'apps:' '  - name: web' '    command: [sleep, "600"]' \
	    '    env_production: [MODE]' > bad.yaml
	run -1 "$PMC" start --env production bad.yaml
	[[ "$output" == *"bad.yaml:4:21: env_production: expected a mapping of names to values, got a sequence"* ]]
	printf '%s\n' 'apps:' '  - name: web' '    command: [sleep, "600"]' \
	    '    env: {MODE: dev}' > plain.yaml
	pmc_start --env production plain.yaml
	[ "$status" -eq 0 ]
	[ "$(env_of_web MODE)" = dev ]
}

#!/usr/bin/env bats
#
# The Kubernetes example (supervisor/examples/kubernetes/pmc.yaml) is
# valid YAML, names what pmcd serves (the probes' path and port are
# pmcd's health endpoint on PMCD_METRICS's port), its pm.yaml loads, and
# the grace period outlasts every kill_timeout.  No cluster is needed.

bats_require_minimum_version 1.5.0
load helper

MANIFEST=$BATS_TEST_DIRNAME/../supervisor/examples/kubernetes/pmc.yaml

# field EXPR: a value of the manifest, by a python expression over d
# (the Deployment's container), m (the ConfigMap), t (the pod template).
field() {
	python3 - "$MANIFEST" "$1" <<-'PY'
	import sys, yaml
	docs = list(yaml.safe_load_all(open(sys.argv[1])))
	m = next(d for d in docs if d["kind"] == "ConfigMap")
	dep = next(d for d in docs if d["kind"] == "Deployment")
	t = dep["spec"]["template"]["spec"]
	d = t["containers"][0]
	print(eval(sys.argv[2]))
	PY
}

@test "the Kubernetes manifest parses, and its pm.yaml is a valid spec" {
	python3 -c 'import yaml; yaml.safe_load_all' || skip "python3-yaml not installed"
	[ "$(field 'len(docs)')" -eq 2 ]
	[ "$(field 'd["command"]')" = "['pmcd', '-f', '/etc/pmc/pm.yaml']" ]
	field 'm["data"]["pm.yaml"]' > pm.yaml
	run -0 "$PMCD" -n pm.yaml
	[ "$output" = "configuration OK" ]
	# The grace period outlasts the largest kill_timeout.
	run -0 "$PMCD" -n -v pm.yaml
	longest=$(echo "$output" | sed -n 's/^[^.]*\.kill_timeout=\([0-9]*\)s$/\1/p' | sort -n | tail -1)
	[ -n "$longest" ]
	[ "$(field 't["terminationGracePeriodSeconds"]')" -gt "$longest" ]
}

@test "the probes ask pmcd's health endpoint, on the port PMCD_METRICS gives, and pmcd answers them" {
	python3 -c 'import yaml' || skip "python3-yaml not installed"
	metrics=$(field 'next(e["value"] for e in d["env"] if e["name"] == "PMCD_METRICS")')
	mport=${metrics##*:}
	for probe in readinessProbe livenessProbe; do
		[ "$(field "d[\"$probe\"][\"httpGet\"][\"port\"]")" = "$mport" ]
	done
	[ "$(field '[p["containerPort"] for p in d["ports"] if p["name"] == "pmcd"][0]')" = "$mport" ]
	# pmcd serves those paths: 200 with its apps online.
	path=$(field 'd["readinessProbe"]["httpGet"]["path"]')
	[ "$path" = "$(field 'd["livenessProbe"]["httpGet"]["path"]')" ]
	port=$(free_port)
	hport=$(free_port)
	demo_spec app.yaml web 2 "127.0.0.1:$port"
	PMCD_METRICS=127.0.0.1:$hport pmc_start app.yaml
	[ "$status" -eq 0 ]
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport$path"
	[ "$output" = 200 ]
	run -0 "$PMC" drain web
	run -0 curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport$path"
	[ "$output" = 503 ]
}

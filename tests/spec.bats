#!/usr/bin/env bats
# spec.bats -- the pm.yaml loader.  Every malformed spec is refused with
# the file, line and column of each of its problems, by `pmcd -n` and by
# `pmc start` alike; valid specs load with their defaults filled in.

bats_require_minimum_version 1.5.0
load helper

# refused PROG MESSAGES: the last `run` exited 1, printed nothing on
# stdout and exactly MESSAGES, each line prefixed "PROG: ", on stderr.
refused() {
	local want
	want=$(printf '%s\n' "$2" | sed "s/^/$1: /")
	same "$1 stderr" "$want" "$stderr"
	same "$1 stdout" "" "$output"
	same "$1 status" 1 "$status"
}

# file_error FILE: stdin holds the messages FILE must be refused with,
# without the program prefix.  pmc start must not start a daemon.
file_error() {
	local want
	want=$(cat)
	run --separate-stderr "$PMCD" -n "$1"
	refused pmcd "$want"
	run --separate-stderr "$PMC" start "$1"
	refused pmc "$want"
	[ ! -e "$PMC_HOME/pmc.sock" ]
}

# spec_error: stdin holds a spec for app.yaml, a line "=== errors", and
# the messages it must be refused with.
spec_error() {
	local input
	input=$(cat)
	printf '%s\n' "${input%%$'\n'=== errors*}" > app.yaml
	printf '%s\n' "${input#*=== errors$'\n'}" | file_error app.yaml
}

# spec_ok [FILE]: stdin holds a valid spec for FILE (app.yaml); `pmcd -n
# -v` accepts it and its dump is left in $output.
spec_ok() {
	local file=${1:-app.yaml}
	mkdir -p "$(dirname "$file")"
	cat > "$file"
	run --separate-stderr "$PMCD" -n -v "$file"
	same stderr "" "$stderr"
	same status 0 "$status"
}

# value APP.FIELD: the values of a field in the last dump, one a line.
value() {
	printf '%s\n' "$output" | sed -n "s/^$1=//p"
}

# ---------------------------------------------------------------------
# Malformed specs: one test per case, all errors of the file expected.

@test "spec error: instances is a word (the example of SPEC.md)" {
	spec_error <<'EOF'
# pm.yaml for the demo
apps:
  - name: web
    command: ./server
    cwd: /srv/web
    listen: 127.0.0.1:8080
    instances: lots
=== errors
app.yaml:7:16: instances: expected a positive integer or "max", got "lots"
EOF
}

@test "spec error: instances is 0" {
	spec_error <<'EOF'
apps:
  - name: web
    command: ./server
    instances: 0
=== errors
app.yaml:4:16: instances: expected a positive integer or "max", got "0"
EOF
}

@test "spec error: instances -0, a fraction, too many, a list" {
	spec_error <<'EOF'
apps:
  - name: a
    command: x
    instances: -0
  - name: b
    command: x
    instances: 2.5
  - name: c
    command: x
    instances: 5000
  - name: d
    command: x
    instances: [2]
=== errors
app.yaml:4:16: instances: expected a positive integer or "max", got "-0"
app.yaml:7:16: instances: expected a positive integer or "max", got "2.5"
app.yaml:10:16: instances: expected at most 1024, got "5000"
app.yaml:13:16: instances: expected a positive integer or "max", got a sequence
EOF
}

@test "spec error: unknown key, with did-you-mean" {
	spec_error <<'EOF'
apps:
  - name: web
    command: ./server
    instance: 3
=== errors
app.yaml:4:5: unknown key "instance" (did you mean "instances"?)
EOF
}

@test "spec error: unknown key without a near match" {
	spec_error <<'EOF'
apps:
  - name: web
    command: ./server
    colour: blue
=== errors
app.yaml:4:5: unknown key "colour"
EOF
}

@test "spec error: misspelt required key is unknown and missing" {
	spec_error <<'EOF'
apps:
  - name: web
    comand: ./server
=== errors
app.yaml:2:5: app: missing required key "command"
app.yaml:3:5: unknown key "comand" (did you mean "command"?)
EOF
}

@test "spec error: app without name and command" {
	spec_error <<'EOF'
apps:
  - cwd: /tmp
=== errors
app.yaml:2:5: app: missing required key "name"
app.yaml:2:5: app: missing required key "command"
EOF
}

@test "spec error: name with a space, empty, too long, reserved" {
	spec_error <<'EOF'
apps:
  - name: my app
    command: x
  - name:
    command: x
  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    command: x
  - name: all
    command: x
=== errors
app.yaml:2:11: name: expected 1 to 64 letters, digits, ".", "_" or "-", got "my app"
app.yaml:4:10: name: expected 1 to 64 letters, digits, ".", "_" or "-", got nothing
app.yaml:6:11: name: expected 1 to 64 letters, digits, ".", "_" or "-", got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
app.yaml:8:11: name: expected a name other than "all", got "all"
EOF
}

@test "spec error: duplicate app name" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
  - name: api
    command: x
  - name: web
    command: y
=== errors
app.yaml:6:11: name: duplicate app name "web" (first at line 2)
EOF
}

@test "spec error: command empty string and empty list" {
	spec_error <<'EOF'
apps:
  - name: a
    command: ""
  - name: b
    command: []
  - name: c
    command: "  '' -x"
=== errors
app.yaml:3:14: command: expected a command (a string or a list of strings), got ""
app.yaml:5:14: command: expected a command (a string or a list of strings), got an empty sequence
app.yaml:7:14: command: expected a command (a string or a list of strings), got "  '' -x"
EOF
}

@test "spec error: command list with an empty program and a mapping" {
	spec_error <<'EOF'
apps:
  - name: web
    command: ["", {a: b}]
=== errors
app.yaml:3:15: command: expected a program name, got ""
app.yaml:3:19: command: expected a string, got a mapping
EOF
}

@test "spec error: command with an unterminated quote" {
	spec_error <<'EOF'
apps:
  - name: a
    command: ./server "a b
  - name: b
    command: "./server 'x"
=== errors
app.yaml:3:14: command: expected a closing " quote, got "./server \"a b"
app.yaml:5:14: command: expected a closing ' quote, got "./server 'x"
EOF
}

@test "spec error: command is a mapping" {
	spec_error <<'EOF'
apps:
  - name: web
    command: {run: ./server}
=== errors
app.yaml:3:14: command: expected a command (a string or a list of strings), got a mapping
EOF
}

@test "spec error: cwd is a list, empty, missing" {
	spec_error <<'EOF'
apps:
  - name: a
    command: x
    cwd: [a]
  - name: b
    command: x
    cwd: ""
  - name: c
    command: x
    cwd:
=== errors
app.yaml:4:10: cwd: expected a path, got a sequence
app.yaml:7:10: cwd: expected a path, got ""
app.yaml:10:9: cwd: expected a path, got nothing
EOF
}

@test "spec error: listen host:port forms" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    listen:
      - 8080
      - 127.0.0.1:0
      - 127.0.0.1:65536
      - ::1:80
      - "[127.0.0.1]:80"
      - 127.0.0.1:http
      - :80
      - nosuch.invalid:80
=== errors
app.yaml:5:9: listen: expected host:port, [v6]:port or unix:/path, got "8080"
app.yaml:6:9: listen: expected a port from 1 to 65535, got "127.0.0.1:0"
app.yaml:7:9: listen: expected a port from 1 to 65535, got "127.0.0.1:65536"
app.yaml:8:9: listen: expected host:port, [v6]:port or unix:/path, got "::1:80"
app.yaml:9:9: listen: expected an IPv6 address in [brackets], got "[127.0.0.1]:80"
app.yaml:10:9: listen: expected a port from 1 to 65535, got "127.0.0.1:http"
app.yaml:11:9: listen: expected host:port, [v6]:port or unix:/path, got ":80"
app.yaml:12:9: listen: expected a host name that resolves, got "nosuch.invalid:80"
EOF
}

@test "spec error: listen unix: forms, empty list, mapping" {
	spec_error <<'EOF'
apps:
  - name: a
    command: x
    listen:
      - "unix:"
      - unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  - name: b
    command: x
    listen: []
  - name: c
    command: x
    listen: {host: 127.0.0.1, port: 80}
=== errors
app.yaml:5:9: listen: expected a socket path after "unix:", got "unix:"
app.yaml:6:9: listen: expected a socket path of at most 107 bytes, got "unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
app.yaml:9:13: listen: expected host:port, [v6]:port or unix:/path, got an empty sequence
app.yaml:12:13: listen: expected host:port, [v6]:port or unix:/path, got a mapping
EOF
}

@test "spec error: one address twice, in an app and across apps" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    listen: [127.0.0.1:8080, localhost:8080]
  - name: api
    command: x
    listen: 127.0.0.1:8080
  - name: other
    command: x
    listen: [0.0.0.0:9090, 127.0.0.1:9090]
  - name: sock
    command: x
    listen: [unix:/tmp/s.sock, unix:/tmp/./s.sock]
=== errors
app.yaml:4:30: listen: duplicate address "127.0.0.1:8080" (first at line 4)
app.yaml:7:13: listen: duplicate address "127.0.0.1:8080" (first at line 4)
app.yaml:10:28: listen: address "127.0.0.1:9090" overlaps "0.0.0.0:9090" (line 10)
app.yaml:13:32: listen: duplicate address "unix:/tmp/s.sock" (first at line 13)
EOF
}

@test "spec error: balance is unknown" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    balance: roundrobin
=== errors
app.yaml:4:14: balance: expected shared, reuseport, round-robin or sticky, got "roundrobin"
EOF
}

@test "spec error: balance reuseport with a unix: address" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    balance: reuseport
    listen: [127.0.0.1:8080, unix:/tmp/web.sock]
=== errors
app.yaml:4:14: balance: expected shared with a unix socket (unix:/tmp/web.sock), got "reuseport"
EOF
}

@test "spec error: balance round-robin or sticky with a unix: address" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    balance: round-robin
    listen: unix:/tmp/web.sock
  - name: api
    command: x
    listen: [unix:/tmp/api.sock]
    balance: sticky
=== errors
app.yaml:4:14: balance: expected shared with a unix socket (unix:/tmp/web.sock), got "round-robin"
app.yaml:9:14: balance: expected shared with a unix socket (unix:/tmp/api.sock), got "sticky"
EOF
}

@test "spec error: slow_start without balance: round-robin" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    listen: unix:/tmp/web.sock
    slow_start: 30s
  - name: api
    command: x
    listen: 127.0.0.1:8081
    balance: sticky
    slow_start: 5s
  - name: ok
    command: x
    listen: 127.0.0.1:8082
    balance: shared
    slow_start: 0
=== errors
app.yaml:5:17: slow_start: needs balance: round-robin (balance is shared)
app.yaml:10:17: slow_start: needs balance: round-robin (balance is sticky)
EOF
}

@test "spec error: intercept_bind is not a boolean" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    intercept_bind: maybe
=== errors
app.yaml:4:21: intercept_bind: expected true or false, got "maybe"
EOF
}

@test "spec error: env is a list" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    env: [A=1]
=== errors
app.yaml:4:10: env: expected a mapping of names to values, got a sequence
EOF
}

@test "spec error: env names, reserved names, values, duplicates" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    env:
      PATH: /bin
      1X: a
      A=B: c
      PMC_APP: x
      V: [1]
      PMC_SHIM_PID: "1"
      PATH: /usr/bin
      NODE_CHANNEL_FD: "3"
=== errors
app.yaml:6:7: env: expected a variable name ([A-Za-z_][A-Za-z0-9_]*), got "1X"
app.yaml:7:7: env: expected a variable name ([A-Za-z_][A-Za-z0-9_]*), got "A=B"
app.yaml:8:7: env: expected a variable not set by pmc, got "PMC_APP"
app.yaml:9:10: env.V: expected a string, got a sequence
app.yaml:10:7: env: expected a variable not set by pmc, got "PMC_SHIM_PID"
app.yaml:11:7: duplicate key "env.PATH" (first at line 5)
app.yaml:12:7: env: expected a variable not set by pmc, got "NODE_CHANNEL_FD"
EOF
}

@test "spec error: user and group that do not exist" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    user: no-such-user-pmc
    group: [wheel]
  - name: api
    command: x
    group: no-such-group-pmc
=== errors
app.yaml:4:11: user: expected an existing user, got "no-such-user-pmc"
app.yaml:5:12: group: expected an existing group, got a sequence
app.yaml:8:12: group: expected an existing group, got "no-such-group-pmc"
EOF
}

@test "spec error: restart policy is unknown" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    restart: sometimes
=== errors
app.yaml:4:14: restart: expected always, on-failure or never, got "sometimes"
EOF
}

@test "spec error: backoff is not a mapping" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    backoff: 100ms
=== errors
app.yaml:4:14: backoff: expected a mapping with initial, max, min_uptime, reset_after, got "100ms"
EOF
}

@test "spec error: backoff keys and durations" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    backoff:
      intial: 1s
      max: 1 s
      reset_after: -1s
=== errors
app.yaml:5:7: unknown key "backoff.intial" (did you mean "backoff.initial"?)
app.yaml:6:12: backoff.max: expected a duration like 100ms, 5s, 1m or 2h, got "1 s"
app.yaml:7:20: backoff.reset_after: expected a duration like 100ms, 5s, 1m or 2h, got "-1s"
EOF
}

@test "spec error: backoff initial above max, initial 0" {
	spec_error <<'EOF'
apps:
  - name: a
    command: x
    backoff: {initial: 1m, max: 30s}
  - name: b
    command: x
    backoff: {max: 50ms}
  - name: c
    command: x
    backoff: {initial: 0}
=== errors
app.yaml:4:24: backoff.initial: expected at most backoff.max (30s), got "1m"
app.yaml:7:20: backoff.max: expected at least backoff.initial (100ms), got "50ms"
app.yaml:10:24: backoff.initial: expected a duration greater than 0, got "0"
EOF
}

@test "spec error: max_restarts is negative" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    max_restarts: -1
=== errors
app.yaml:4:19: max_restarts: expected a non-negative integer, got "-1"
EOF
}

@test "spec error: stop_signal names and numbers that are no signal" {
	spec_error <<'EOF'
apps:
  - {name: a, command: x, stop_signal: FOO}
  - {name: b, command: x, stop_signal: 0}
  - {name: c, command: x, stop_signal: 200}
  - {name: d, command: x, stop_signal: SIGTERMINATE}
=== errors
app.yaml:2:40: stop_signal: expected a signal name or number, got "FOO"
app.yaml:3:40: stop_signal: expected a signal name or number, got "0"
app.yaml:4:40: stop_signal: expected a signal name or number, got "200"
app.yaml:5:40: stop_signal: expected a signal name or number, got "SIGTERMINATE"
EOF
}

@test "spec error: kill_timeout without unit, fraction, overflow, spelt out" {
	spec_error <<'EOF'
apps:
  - {name: a, command: x, kill_timeout: 5}
  - {name: b, command: x, kill_timeout: 1.5s}
  - {name: c, command: x, kill_timeout: 99999999999999999999h}
  - {name: d, command: x, kill_timeout: 5sec}
  - {name: e, command: x, kill_timeout: 5S}
  - {name: f, command: x, kill_timeout: 3000000000000000h}
=== errors
app.yaml:2:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "5"
app.yaml:3:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "1.5s"
app.yaml:4:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "99999999999999999999h"
app.yaml:5:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "5sec"
app.yaml:6:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "5S"
app.yaml:7:41: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "3000000000000000h"
EOF
}

@test "spec error: ready modes" {
	spec_error <<'EOF'
apps:
  - {name: a, command: x, ready: soon}
  - {name: b, command: x, ready: "delay:"}
  - {name: c, command: x, ready: "delay:5"}
  - {name: d, command: x, ready: Notify}
=== errors
app.yaml:2:34: ready: expected auto, notify or delay:<duration>, got "soon"
app.yaml:3:34: ready: expected a duration after "delay:", got "delay:"
app.yaml:4:34: ready: expected a duration after "delay:", got "delay:5"
app.yaml:5:34: ready: expected auto, notify or delay:<duration>, got "Notify"
EOF
}

@test "spec error: ready_timeout is 0" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    ready_timeout: 0
=== errors
app.yaml:4:20: ready_timeout: expected a duration greater than 0, got "0"
EOF
}

@test "spec error: max_memory sizes" {
	spec_error <<'EOF'
apps:
  - {name: a, command: x, max_memory: 10MB}
  - {name: b, command: x, max_memory: 1T}
  - {name: c, command: x, max_memory: -1}
  - {name: d, command: x, max_memory: 1.5G}
  - {name: e, command: x, max_memory: 512m}
=== errors
app.yaml:2:39: max_memory: expected a size like 512K, 10M or 1G, got "10MB"
app.yaml:3:39: max_memory: expected a size like 512K, 10M or 1G, got "1T"
app.yaml:4:39: max_memory: expected a size like 512K, 10M or 1G, got "-1"
app.yaml:5:39: max_memory: expected a size like 512K, 10M or 1G, got "1.5G"
app.yaml:6:39: max_memory: expected a size like 512K, 10M or 1G, got "512m"
EOF
}

@test "spec error: logs is a path" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    logs: /var/log/web.log
=== errors
app.yaml:4:11: logs: expected a mapping with out, err, max_size, keep, timestamps, to, got "/var/log/web.log"
EOF
}

@test "spec error: logs fields" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    logs:
      out: ""
      err: {}
      max_size: 10MB
      keep: 5000
      timestamps: sometimes
      to: journal
      rotate: daily
=== errors
app.yaml:5:12: logs.out: expected a path, got ""
app.yaml:6:12: logs.err: expected a path, got an empty mapping
app.yaml:7:17: logs.max_size: expected a size like 512K, 10M or 1G, got "10MB"
app.yaml:8:13: logs.keep: expected an integer from 0 to 1000, got "5000"
app.yaml:9:19: logs.timestamps: expected true or false, got "sometimes"
app.yaml:10:11: logs.to: expected auto, file, stdout or both, got "journal"
app.yaml:11:7: unknown key "logs.rotate"
EOF
}

@test "spec error: duplicate key in an app" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
    instances: 2
    instances: 3
=== errors
app.yaml:5:5: duplicate key "instances" (first at line 4)
EOF
}

@test "spec error: YAML syntax, bad indentation" {
	spec_error <<'EOF'
apps:
  - name: web
   command: x
=== errors
app.yaml:3:4: did not find expected '-' indicator
EOF
}

@test "spec error: YAML syntax, tab indentation" {
	printf 'apps:\n  - name: web\n\tcommand: x\n' > app.yaml
	file_error app.yaml <<'EOF'
app.yaml:3:1: found a tab character that violates indentation
EOF
}

@test "spec error: YAML syntax, unclosed flow sequence" {
	spec_error <<'EOF'
apps: [{name: web, command: x}
=== errors
app.yaml:2:1: did not find expected ',' or ']'
EOF
}

@test "spec error: YAML syntax, unclosed quote" {
	spec_error <<'EOF'
apps:
  - name: "web
    command: x
=== errors
app.yaml:4:1: found unexpected end of stream
EOF
}

@test "spec error: invalid UTF-8" {
	printf 'apps:\n  - name: w\377b\n    command: x\n' > app.yaml
	file_error app.yaml <<'EOF'
app.yaml:2:12: invalid leading UTF-8 octet
EOF
}

@test "spec error: NUL character in a string" {
	spec_error <<'EOF'
apps:
  - name: "w\0b"
    command: x
=== errors
app.yaml:2:11: NUL characters are not allowed
EOF
}

@test "spec error: two YAML documents" {
	spec_error <<'EOF'
apps:
  - name: web
    command: x
---
apps:
  - name: api
    command: x
=== errors
app.yaml:4:1: expected one YAML document, got a second one
EOF
}

@test "spec error: aliases are refused" {
	spec_error <<'EOF'
apps:
  - &web
    name: web
    command: x
  - *web
=== errors
app.yaml:5:5: aliases (*web) are not supported
EOF
}

@test "spec error: nesting too deep" {
	python3 -c 'print("apps: " + "[" * 70 + "]" * 70)' > app.yaml
	file_error app.yaml <<'EOF'
app.yaml:1:70: nesting deeper than 64 levels
EOF
}

@test "spec error: empty file, comments only" {
	printf '' > app.yaml
	file_error app.yaml <<'EOF'
app.yaml:1:1: expected a mapping with key "apps", got an empty file
EOF
	printf '# nothing yet\n' > app.yaml
	file_error app.yaml <<'EOF'
app.yaml:1:1: expected a mapping with key "apps", got an empty file
EOF
}

@test "spec error: top level is a list" {
	spec_error <<'EOF'
- name: web
  command: x
=== errors
app.yaml:1:1: expected a mapping with key "apps", got a sequence
EOF
}

@test "spec error: top level unknown key and no apps" {
	spec_error <<'EOF'
version: 1
app:
  - name: web
    command: x
=== errors
app.yaml:1:1: unknown key "version"
app.yaml:1:1: missing required key "apps"
app.yaml:2:1: unknown key "app" (did you mean "apps"?)
EOF
}

@test "spec error: apps empty, null, a mapping" {
	spec_error <<'EOF'
apps: []
=== errors
app.yaml:1:7: apps: expected a list of apps, got an empty sequence
EOF
	spec_error <<'EOF'
apps:
=== errors
app.yaml:1:6: apps: expected a list of apps, got nothing
EOF
	spec_error <<'EOF'
apps: {name: web, command: x}
=== errors
app.yaml:1:7: apps: expected a list of apps, got a mapping
EOF
}

@test "spec error: an app is a string" {
	spec_error <<'EOF'
apps:
  - web
  - name: api
    command: x
=== errors
app.yaml:2:5: app: expected a mapping, got "web"
EOF
}

@test "spec error: every problem of every app, in file order" {
	spec_error <<'EOF'
apps:
  - name: web
    instances: lots
    listen: 127.0.0.1:8080
    restart: sometimes
  - name: api
    command: ./api
    listen: 127.0.0.1:8080
    kill_timeout: 5
    logs: {keep: -1}
  - name: web
    command: x
=== errors
app.yaml:2:5: app: missing required key "command"
app.yaml:3:16: instances: expected a positive integer or "max", got "lots"
app.yaml:5:14: restart: expected always, on-failure or never, got "sometimes"
app.yaml:8:13: listen: duplicate address "127.0.0.1:8080" (first at line 4)
app.yaml:9:19: kill_timeout: expected a duration like 100ms, 5s, 1m or 2h, got "5"
app.yaml:10:18: logs.keep: expected an integer from 0 to 1000, got "-1"
app.yaml:11:11: name: duplicate app name "web" (first at line 2)
EOF
}

@test "spec error: a file that cannot be read" {
	file_error nope.yaml <<'EOF'
nope.yaml: No such file or directory
EOF
	mkdir dir.yaml
	file_error dir.yaml <<'EOF'
dir.yaml: Is a directory
EOF
}

@test "spec error: only root may run apps as another user or group" {
	local dir as=()
	if [ "$(id -u)" -eq 0 ]; then
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/pmc-spec.XXXXXX")
	chmod 755 "$dir"
	cat > "$dir/app.yaml" <<'EOF'
apps:
  - name: web
    command: x
    user: root
    group: root
EOF
	cd "$dir"
	run --separate-stderr "${as[@]}" "$PMCD" -n app.yaml
	cd "$BATS_TEST_TMPDIR"
	rm -rf "$dir"
	refused pmcd "app.yaml:4:11: user: only root can run apps as another user
app.yaml:5:12: group: only root can run apps as another group"
}

# ---------------------------------------------------------------------
# Valid specs.

@test "spec: a spec with every field loads, as written" {
	local me grp dir
	me=$(id -un)
	grp=$(id -gn)
	dir=$(pwd -P)
	spec_ok <<EOF
apps:
  - name: web.1_x-y
    command: ["./server", "--threads", "1"]
    cwd: srv
    instances: 3
    listen: [127.0.0.1:8080, "[::1]:8080", unix:web.sock]
    balance: shared
    intercept_bind: yes
    channel: true
    node_cluster: true
    env: {KEY: value, EMPTY: , N: 5}
    user: $me
    group: $grp
    restart: on-failure
    backoff: {initial: 200ms, max: 1m, min_uptime: 3s, reset_after: 2h}
    max_restarts: 3
    min_online: 2
    stop_signal: SIGINT
    kill_timeout: 1500ms
    ready: delay:2s
    ready_timeout: 10s
    max_memory: 512M
    cron_restart: "0 3 * * sun"
    watch: [src, lib]
    ignore_watch: ["*.log"]
    watch_delay: 250ms
    logs: {out: out.log, err: /var/log/e.log, max_size: 1024K, keep: 0, timestamps: off, to: both}
EOF
	same dump "web.1_x-y.command=./server --threads 1
web.1_x-y.cwd=$dir/srv
web.1_x-y.instances=3
web.1_x-y.listen=127.0.0.1:8080
web.1_x-y.listen=[::1]:8080
web.1_x-y.listen=unix:$dir/web.sock
web.1_x-y.balance=shared
web.1_x-y.slow_start=0
web.1_x-y.intercept_bind=true
web.1_x-y.channel=true
web.1_x-y.node_cluster=true
web.1_x-y.env.KEY=value
web.1_x-y.env.EMPTY=
web.1_x-y.env.N=5
web.1_x-y.user=$me
web.1_x-y.group=$grp
web.1_x-y.restart=on-failure
web.1_x-y.backoff.initial=200ms
web.1_x-y.backoff.max=1m
web.1_x-y.backoff.min_uptime=3s
web.1_x-y.backoff.reset_after=2h
web.1_x-y.max_restarts=3
web.1_x-y.min_online=2
web.1_x-y.stop_signal=INT
web.1_x-y.kill_timeout=1500ms
web.1_x-y.ready=delay:2s
web.1_x-y.ready_timeout=10s
web.1_x-y.max_memory=512M
web.1_x-y.cron_restart=0 3 * * sun
web.1_x-y.watch=src
web.1_x-y.watch=lib
web.1_x-y.ignore_watch=*.log
web.1_x-y.watch_delay=250ms
web.1_x-y.logs.out=$dir/out.log
web.1_x-y.logs.err=/var/log/e.log
web.1_x-y.logs.max_size=1M
web.1_x-y.logs.keep=0
web.1_x-y.logs.timestamps=false
web.1_x-y.logs.to=both" "$(printf '%s\n' "$output" | grep '^web')"
}

@test "spec: defaults" {
	local dir
	dir=$(pwd -P)
	spec_ok <<'EOF'
apps:
  - name: web
    command: ./server
EOF
	same dump "web.command=./server
web.cwd=$dir
web.instances=1
web.listen=
web.balance=round-robin
web.slow_start=0
web.intercept_bind=false
web.channel=true
web.node_cluster=false
web.user=
web.group=
web.restart=always
web.backoff.initial=100ms
web.backoff.max=30s
web.backoff.min_uptime=1s
web.backoff.reset_after=30s
web.max_restarts=0
web.min_online=1
web.stop_signal=TERM
web.kill_timeout=5s
web.ready=auto
web.ready_timeout=30s
web.max_memory=0
web.cron_restart=
web.watch=
web.ignore_watch=
web.watch_delay=1s
web.logs.out=
web.logs.err=
web.logs.max_size=10M
web.logs.keep=5
web.logs.timestamps=true
web.logs.to=auto" "$(printf '%s\n' "$output" | grep '^web')"
	[[ "$output" == *"configuration OK"* ]]
}

@test "spec: instances max is the CPU count, -N is max minus N" {
	local n
	n=$(nproc)
	spec_ok <<'EOF'
apps:
  - {name: every, command: x, instances: max}
  - {name: but1, command: x, instances: -1}
  - {name: but100, command: x, instances: -100}
EOF
	same max "$n" "$(value every.instances)"
	same -1 "$(( n > 1 ? n - 1 : 1 ))" "$(value but1.instances)"
	same -100 1 "$(value but100.instances)"
}

@test "spec: instances max honours the CPU affinity" {
	spec_ok <<'EOF'
apps:
  - {name: every, command: x, instances: max}
  - {name: but1, command: x, instances: -1}
  - {name: four, command: x, instances: 4}
EOF
	run --separate-stderr taskset -c 0 "$PMCD" -n -v app.yaml
	same status 0 "$status"
	same max 1 "$(value every.instances)"
	same -1 1 "$(value but1.instances)"
	same fixed 4 "$(value four.instances)"
}

@test "spec: instances max honours the cgroup cpu.max quota" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a mount namespace"
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs to see a limit"
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
	spec_ok <<'EOF'
apps:
  - {name: every, command: x, instances: max}
EOF
	echo "0::/pmc/leaf" > fake-cgroup
	# A half-CPU quota on the parent of the cgroup, none on the leaf.
	run --separate-stderr unshare -m sh -c '
	    mount -t tmpfs none /sys/fs/cgroup &&
	    mkdir -p /sys/fs/cgroup/pmc/leaf &&
	    echo "max 100000" > /sys/fs/cgroup/pmc/leaf/cpu.max &&
	    echo "50000 100000" > /sys/fs/cgroup/pmc/cpu.max &&
	    mount --bind fake-cgroup /proc/$$/cgroup &&
	    exec "$0" -n -v app.yaml' "$PMCD"
	same stderr "" "$stderr"
	same status 0 "$status"
	same max 1 "$(value every.instances)"
}

@test "spec: duration forms" {
	spec_ok <<'EOF'
apps:
  - name: web
    command: x
    kill_timeout: 0
    ready_timeout: 1500ms
    backoff: {initial: 60s, max: 120m, reset_after: 3600000ms}
    ready: delay:90s
EOF
	same kill_timeout 0 "$(value web.kill_timeout)"
	same ready_timeout 1500ms "$(value web.ready_timeout)"
	same initial 1m "$(value web.backoff.initial)"
	same max 2h "$(value web.backoff.max)"
	same reset_after 1h "$(value web.backoff.reset_after)"
	same ready delay:90s "$(value web.ready)"
}

@test "spec: size forms" {
	spec_ok <<'EOF'
apps:
  - {name: a, command: x, max_memory: 0, logs: {max_size: 512}}
  - {name: b, command: x, max_memory: 1024, logs: {max_size: 1536K}}
  - {name: c, command: x, max_memory: 2048M, logs: {max_size: 1G}}
EOF
	same a "0 512" "$(value a.max_memory) $(value a.logs.max_size)"
	same b "1K 1536K" "$(value b.max_memory) $(value b.logs.max_size)"
	same c "2G 1G" "$(value c.max_memory) $(value c.logs.max_size)"
}

@test "spec: command strings split into words, without a shell" {
	spec_ok <<'EOF'
apps:
  - name: str
    command: ./server --name 'a b' "c \"d\"" e\ f $HOME;
  - name: list
    command: [./server, --name, a b, c "d", e f, $HOME;]
EOF
	same str './server --name "a b" "c \"d\"" "e f" $HOME;' \
	    "$(value str.command)"
	same list "$(value str.command)" "$(value list.command)"
}

@test "spec: paths are relative to the folder of the spec" {
	local dir
	dir=$(pwd -P)
	spec_ok conf/app.yaml <<'EOF'
apps:
  - name: web
    command: x
    listen: unix:run/web.sock
    logs: {out: ../logs/out.log, err: ./err.log}
  - name: api
    command: x
    cwd: data
EOF
	same web.cwd "$dir/conf" "$(value web.cwd)"
	same listen "unix:$dir/conf/run/web.sock" "$(value web.listen)"
	same out "$dir/conf/../logs/out.log" "$(value web.logs.out)"
	same err "$dir/conf/err.log" "$(value web.logs.err)"
	same api.cwd "$dir/conf/data" "$(value api.cwd)"
}

@test "spec: listen addresses in canonical form" {
	spec_ok <<'EOF'
apps:
  - name: web
    command: x
    listen:
      - localhost:80
      - "[0:0::1]:8080"
      - "*:81"
      - "[::]:82"
      - unix:/tmp/../run/web.sock
  - name: api
    command: x
    balance: reuseport
    listen: 127.0.0.1:9000
EOF
	same listen "127.0.0.1:80
[::1]:8080
0.0.0.0:81
[::]:82
unix:/tmp/../run/web.sock" "$(value web.listen)"
	same balance reuseport "$(value api.balance)"
}

@test "spec: balance round-robin with slow_start, sticky; the default round-robin, shared on a unix socket" {
	spec_ok <<'EOF'
apps:
  - {name: a, command: x, listen: "127.0.0.1:1", balance: round-robin, slow_start: 30s}
  - {name: b, command: x, listen: "[::1]:2", balance: sticky}
  - {name: c, command: x, listen: "127.0.0.1:3", slow_start: 2s}
  - {name: d, command: x, listen: ["127.0.0.1:4", "unix:/tmp/d.sock"]}
  - {name: e, command: x, listen: "127.0.0.1:5", balance: shared}
EOF
	same balance round-robin "$(value a.balance)"
	same slow_start 30s "$(value a.slow_start)"
	same balance sticky "$(value b.balance)"
	same balance round-robin "$(value c.balance)"
	same slow_start 2s "$(value c.slow_start)"
	same balance shared "$(value d.balance)"
	same slow_start 0 "$(value d.slow_start)"
	same balance shared "$(value e.balance)"
}

@test "spec: YAML booleans" {
	spec_ok <<'EOF'
apps:
  - {name: a, command: x, intercept_bind: true, logs: {timestamps: false}}
  - {name: b, command: x, intercept_bind: yes, logs: {timestamps: no}}
  - {name: c, command: x, intercept_bind: on, logs: {timestamps: off}}
  - {name: d, command: x, intercept_bind: True, logs: {timestamps: FALSE}}
EOF
	same bools "true true true true" \
	    "$(value '[a-d].intercept_bind' | tr '\n' ' ' | sed 's/ $//')"
	same timestamps "false false false false" \
	    "$(value '[a-d].logs.timestamps' | tr '\n' ' ' | sed 's/ $//')"
}

@test "spec: stop_signal forms" {
	spec_ok <<'EOF'
apps:
  - {name: a, command: x, stop_signal: SIGHUP}
  - {name: b, command: x, stop_signal: quit}
  - {name: c, command: x, stop_signal: 9}
  - {name: d, command: x, stop_signal: USR2}
  - {name: e, command: x, stop_signal: 40}
EOF
	same signals "HUP QUIT KILL USR2 40" \
	    "$(value '[a-e].stop_signal' | tr '\n' ' ' | sed 's/ $//')"
}

@test "spec: ready modes and restart policies" {
	spec_ok <<'EOF'
apps:
  - {name: a, command: x, ready: notify, restart: never}
  - {name: b, command: x, ready: auto, restart: always}
  - {name: c, command: x, ready: "delay:0", restart: on-failure}
EOF
	same ready "notify auto delay:0" \
	    "$(value '[a-c].ready' | tr '\n' ' ' | sed 's/ $//')"
	same restart "never always on-failure" \
	    "$(value '[a-c].restart' | tr '\n' ' ' | sed 's/ $//')"
}

@test "spec: anchors without aliases, comments, quoted scalars" {
	spec_ok <<'EOF'
# the apps
apps:
  - &web
    name: "web"         # quoted
    command: './server'
    instances: '2'
    env: {"A": 'b c'}
EOF
	same instances 2 "$(value web.instances)"
	same env "b c" "$(value web.env.A)"
	same command ./server "$(value web.command)"
}

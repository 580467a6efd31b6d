# pmc -- a process supervisor.  See README.md.

PREFIX ?=	/usr/local
BINDIR ?=	$(PREFIX)/bin
LIBDIR ?=	$(PREFIX)/lib
MANDIR ?=	$(PREFIX)/share/man
SHIMDIR ?=	$(LIBDIR)/pmc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?=	$(PREFIX)/share/bash-completion/completions
DOCDIR ?=	$(PREFIX)/share/doc/pmc
DESTDIR ?=

CC ?=		cc
PKG_CONFIG ?=	pkg-config
CFLAGS ?=	-O2 -g
WARNINGS =	-Wall -Wextra -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wsign-compare
PKGS =		yaml-0.1 libbsd-overlay
# Read with the Makefile.  The targets that install dependencies first
# (run, test, bench, asan, valgrind) build through a second make that
# starts after deps, so on a fresh machine these see the new packages.
PKG_CFLAGS !=	$(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null || true
PKG_LIBS !=	$(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || true
ALL_CFLAGS =	-std=c11 -D_GNU_SOURCE $(WARNINGS) -Iconfig $(PKG_CFLAGS) \
		$(CFLAGS)
# The preload shim, and the probe its tests preload it into, never take
# sanitizers: an ASan runtime cannot be preloaded into a program built
# without it.  `make asan` sets these; otherwise they are CFLAGS/LDFLAGS.
SHIM_CFLAGS ?=	$(CFLAGS)
SHIM_LDFLAGS ?=	$(LDFLAGS)
SHIM_ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(SHIM_CFLAGS)

# Where objects and programs go; `make asan` builds into build-asan/.
B ?=		.

CONFIG_SRCS =	config/specload.c config/specfield.c config/specerr.c \
		config/specwrite.c config/ytree.c config/addr.c \
		config/cpus.c config/human.c config/path.c config/xmalloc.c \
		config/lookup.c config/specfile.c config/protocol.c config/home.c \
		config/json.c config/ecosystem.c config/cron.c
PMC_SRCS =	cmd/pmc.c cmd/cmd.c cmd/client.c \
		cmd/cmd-start.c cmd/cmd-list.c cmd/cmd-describe.c \
		cmd/cmd-stop.c cmd/cmd-restart.c cmd/cmd-delete.c \
		cmd/cmd-reload.c cmd/cmd-scale.c cmd/cmd-signal.c \
		cmd/cmd-send.c cmd/cmd-events.c cmd/cmd-convert.c \
		cmd/ecojs.c \
		cmd/cmd-save.c cmd/cmd-resurrect.c cmd/cmd-startup.c \
		cmd/cmd-ping.c cmd/cmd-kill.c cmd/cmd-help.c cmd/cmd-update.c cmd/cmd-drain.c cmd/cmd-undrain.c \
		cmd/cmd-logs.c cmd/cmd-flush.c cmd/cmd-reopen-logs.c \
		cmd/cmd-monit.c cmd/listing.c cmd/cmd-metrics.c
PMCD_SRCS =	supervisor/pmcd.c supervisor/log.c supervisor/loop.c \
		supervisor/control.c supervisor/app.c supervisor/instance.c \
		supervisor/pids.c supervisor/listen.c supervisor/notify.c \
		supervisor/reload.c supervisor/sdnotify.c supervisor/dump.c \
		supervisor/shimpath.c supervisor/logs.c supervisor/logfs.c \
		supervisor/frame.c supervisor/sample.c supervisor/metrics.c \
		supervisor/specread.c supervisor/leftover.c \
		supervisor/describe.c supervisor/conn.c supervisor/request.c \
		supervisor/reply.c supervisor/balance.c supervisor/bpf.c \
		supervisor/channel.c supervisor/cluster.c supervisor/events.c \
		supervisor/watch.c supervisor/message.c supervisor/state.c \
		supervisor/update.c supervisor/restore.c supervisor/drain.c
FIXTURE_SRCS =	tests/fixtures/demo-httpd.c tests/fixtures/shim-probe.c
SHIM_SRCS =	supervisor/shim.c

CONFIG_OBJS =	$(CONFIG_SRCS:%.c=$(B)/obj/%.o)
PMC_OBJS =	$(PMC_SRCS:%.c=$(B)/obj/%.o)
PMCD_OBJS =	$(PMCD_SRCS:%.c=$(B)/obj/%.o)

PROGS =		$(B)/bin/pmc $(B)/bin/pmcd $(B)/tests/bin/demo-httpd \
		$(B)/tests/bin/shim-probe $(B)/tests/bin/hang-nss.so \
		$(B)/tests/bin/bpfcheck $(B)/tests/bin/cronnext
SHIM =		$(B)/lib/libpmc-shim.so

all: $(PROGS) $(SHIM)

$(B)/bin/pmc: $(PMC_OBJS) $(CONFIG_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(PMC_OBJS) $(CONFIG_OBJS) $(PKG_LIBS)

$(B)/bin/pmcd: $(PMCD_OBJS) $(CONFIG_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(PMCD_OBJS) $(CONFIG_OBJS) $(PKG_LIBS)

$(B)/tests/bin/demo-httpd: tests/fixtures/demo-httpd.c tests/fixtures/notify-send.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(SHIM): $(SHIM_SRCS)
	@mkdir -p $(@D)
	$(CC) $(SHIM_ALL_CFLAGS) -fPIC -shared $(SHIM_LDFLAGS) -o $@ \
	    $(SHIM_SRCS) -ldl

# A look-up that never answers (tests/lookup.bats); no sanitizers, as
# the shim.
$(B)/tests/bin/hang-nss.so: tests/fixtures/hang-nss.c
	@mkdir -p $(@D)
	$(CC) $(SHIM_ALL_CFLAGS) -fPIC -shared $(SHIM_LDFLAGS) -o $@ $< -ldl

# supervisor/bpf.c on its own (tests/bpf.bats).
$(B)/tests/bin/cronnext: tests/fixtures/cronnext.c config/cron.c config/cron.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Iconfig $(LDFLAGS) -o $@ tests/fixtures/cronnext.c config/cron.c

$(B)/tests/bin/bpfcheck: tests/fixtures/bpfcheck.c supervisor/bpf.c supervisor/bpf.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isupervisor $(LDFLAGS) -o $@ tests/fixtures/bpfcheck.c supervisor/bpf.c $(PKG_LIBS)

$(B)/tests/bin/shim-probe: tests/fixtures/shim-probe.c
	@mkdir -p $(@D)
	$(CC) $(SHIM_ALL_CFLAGS) $(SHIM_LDFLAGS) -o $@ $<

# pmcd looks for the shim beside itself (../lib) first, then here.
$(B)/obj/supervisor/shimpath.o: supervisor/shimpath.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DPMC_SHIMDIR='"$(SHIMDIR)"' -MMD -MP -c -o $@ $<

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(PMC_OBJS:.o=.d) $(PMCD_OBJS:.o=.d) $(CONFIG_OBJS:.o=.d)

# Debian packages needed to build and test; installed when missing.
deps:
	@sh tests/deps.sh

# Build, then run pmc on pm.yaml.example and show it serving.
run: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run-example.sh

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

# The benchmark (tests/bench/run.sh): pmc beside PM2, Node's cluster
# module and a raw parent, one markdown table written to BENCH_OUT
# (tests/bench/results.md).  QUICK=1: one short repetition, the smoke
# run tests/bench.bats makes.  Not part of `make test`.
BENCH_PROGS =	$(B)/tests/bin/bench/httpd $(B)/tests/bin/bench/rawparent \
		$(B)/tests/bin/bench/probe $(B)/tests/bin/bench/idle

$(B)/tests/bin/bench/%: tests/bench/%.c tests/fixtures/notify-send.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGS)
	@QUICK='$(QUICK)' BENCH_BIN=$(CURDIR)/$(B)/tests/bin/bench \
	    bash tests/bench/run.sh

asan: deps
	$(MAKE) B=build-asan CFLAGS='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' \
	    SHIM_CFLAGS='-O1 -g -fno-omit-frame-pointer' SHIM_LDFLAGS= all
	@rm -rf build-asan/reports && mkdir -p build-asan/reports
	@PMC_BIN=$(CURDIR)/build-asan/bin PMC_TESTBIN=$(CURDIR)/build-asan/tests/bin \
	    PMC_LIB=$(CURDIR)/build-asan/lib \
	    PMC_SANITIZER_REPORTS=$(CURDIR)/build-asan/reports \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$(CURDIR)/build-asan/reports/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/build-asan/reports/ubsan \
	    tests/run.sh

# pmcd under valgrind memcheck through tests/valgrind.sh's scenario (start,
# kill -9 storm, reload, scale, CLI verbs, garbage on the socket, stop):
# fails unless valgrind reports 0 errors and 0 bytes definitely lost.
valgrind: deps
	@$(MAKE) --no-print-directory all
	@sh tests/valgrind.sh

# The unit is generated at each install: its ExecStart follows BINDIR.
install: $(B)/bin/pmc $(B)/bin/pmcd $(SHIM)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(DOCDIR)/examples/haproxy \
	    $(DESTDIR)$(DOCDIR)/examples/kubernetes $(DESTDIR)$(SHIMDIR) $(B)/obj
	install -m 755 $(B)/bin/pmc $(B)/bin/pmcd $(DESTDIR)$(BINDIR)
	install -m 644 $(SHIM) $(DESTDIR)$(SHIMDIR)/libpmc-shim.so
	install -m 644 man/pmc.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/pm.yaml.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/pmcd.8 $(DESTDIR)$(MANDIR)/man8
	sed 's|@BINDIR@|$(BINDIR)|g' supervisor/systemd/pmcd.service.in \
	    > $(B)/obj/pmcd.service
	install -m 644 $(B)/obj/pmcd.service $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 supervisor/systemd/pmcd.socket $(DESTDIR)$(DOCDIR)
	install -m 755 supervisor/examples/haproxy/cluster.sh \
	    supervisor/examples/haproxy/deploy.sh \
	    supervisor/examples/haproxy/server.py \
	    $(DESTDIR)$(DOCDIR)/examples/haproxy
	install -m 644 supervisor/examples/kubernetes/pmc.yaml \
	    $(DESTDIR)$(DOCDIR)/examples/kubernetes
	install -m 644 supervisor/pmc.bash-completion \
	    $(DESTDIR)$(BASHCOMPDIR)/pmc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pmc $(DESTDIR)$(BINDIR)/pmcd \
	    $(DESTDIR)$(SHIMDIR)/libpmc-shim.so \
	    $(DESTDIR)$(MANDIR)/man1/pmc.1 $(DESTDIR)$(MANDIR)/man5/pm.yaml.5 \
	    $(DESTDIR)$(MANDIR)/man8/pmcd.8 \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/pmcd.service \
	    $(DESTDIR)$(DOCDIR)/pmcd.socket $(DESTDIR)$(BASHCOMPDIR)/pmc \
	    $(DESTDIR)$(DOCDIR)/examples/haproxy/cluster.sh \
	    $(DESTDIR)$(DOCDIR)/examples/haproxy/deploy.sh \
	    $(DESTDIR)$(DOCDIR)/examples/haproxy/server.py \
	    $(DESTDIR)$(DOCDIR)/examples/kubernetes/pmc.yaml
	rmdir $(DESTDIR)$(SHIMDIR) $(DESTDIR)$(DOCDIR)/examples/haproxy \
	    $(DESTDIR)$(DOCDIR)/examples/kubernetes \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# libFuzzer harnesses, tests/fuzz/README.md.  `make fuzz` runs each for
# FUZZ_SECONDS on its corpus (new inputs go to build-fuzz/corpus/, the
# committed ones stay as they are) and fails on any crash; `make
# fuzz-replay` runs only the committed inputs, once each.
FUZZ_SECONDS ?=	60
FUZZ_CC ?=	clang
FUZZERS =	spec protocol notify lines logs json cron
FUZZ_CFLAGS =	-std=c11 -D_GNU_SOURCE $(WARNINGS) -Iconfig -Icmd -Isupervisor \
		-Itests/fuzz $(PKG_CFLAGS) -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined
# The spec loader and writer, and what they use.
FUZZ_SPEC_SRCS =	config/specload.c config/specfield.c config/specerr.c \
			config/specwrite.c config/ytree.c \
			config/addr.c config/cpus.c config/human.c \
			config/path.c config/xmalloc.c config/lookup.c \
			config/protocol.c config/cron.c
FUZZ_SRCS_spec =	$(FUZZ_SPEC_SRCS) tests/fuzz/offline.c
FUZZ_SRCS_protocol =	$(FUZZ_SPEC_SRCS) config/specfile.c config/home.c \
			config/ecosystem.c config/json.c \
			cmd/client.c tests/fuzz/offline.c
FUZZ_SRCS_notify =	supervisor/frame.c
FUZZ_SRCS_lines =	supervisor/frame.c
FUZZ_SRCS_json =	config/json.c config/protocol.c
FUZZ_SRCS_cron =	config/cron.c
FUZZ_SRCS_logs =	supervisor/logs.c supervisor/logfs.c supervisor/log.c supervisor/state.c \
			supervisor/frame.c config/home.c config/protocol.c
FUZZ_BINS =	$(FUZZERS:%=build-fuzz/fuzz-%)

FUZZ_DEPS =	tests/fuzz/fuzz.h tests/fuzz/offline.c $(FUZZ_SPEC_SRCS) \
		config/spec.h config/specfield.h config/specload.h \
		config/ytree.h config/addr.h config/cpus.h \
		config/human.h config/path.h config/xmalloc.h config/lookup.h \
		config/protocol.h config/json.c config/json.h \
		config/specfile.c config/specfile.h config/home.c \
		config/ecosystem.c config/ecosystem.h config/cron.c config/cron.h \
		config/home.h cmd/client.c cmd/client.h cmd/cmd.h \
		supervisor/frame.c supervisor/frame.h supervisor/logs.c \
		supervisor/logfs.c supervisor/logfs.h \
		supervisor/log.c supervisor/log.h supervisor/loop.h \
		supervisor/pmcd.h

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@sh tests/fuzz/deps.sh
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

fuzz-replay:
	@sh tests/fuzz/deps.sh
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh replay $(FUZZERS)

lint-man:
	mandoc -Tlint -Wwarning man/pmc.1 man/pmcd.8 man/pm.yaml.5

clean:
	rm -rf obj bin lib tests/bin build-asan build-fuzz

.PHONY: all deps run test bench asan valgrind install uninstall lint-man clean \
	fuzz fuzz-build fuzz-replay

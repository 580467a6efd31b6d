#!/usr/bin/env python3
"""balclient.py -- the HTTP client of balance.bats.

    balclient.py PORT [-n TOTAL] [-t THREADS] [-T TIMEOUT] [-s LIST]
                 [--max-failures N] [--until FILE] [--progress FILE]

GETs / on 127.0.0.1:PORT, a new connection each, from THREADS threads
(1: one after the other), and reads which instance answered from
demo-httpd's "hello from pid P instance I app A".

-n TOTAL        requests in all (default 1000).
-T TIMEOUT      seconds a connection may take, connect to last byte (5).
-s LIST        connect from the addresses 127.0.0.N of LIST ("2-50",
                "3,7,12-14") in turn (request k from the (k mod count)-th),
                and report which instance(s) answered each address.
--max-failures  stop early after N failed requests (default: never), so
                that a test that goes wrong ends soon, with its evidence.
--until FILE    ignore -n: run until FILE exists (a load for as long as
                an operation takes).
--progress FILE keep the number of answers so far in FILE (rewritten
                every 10 answers and at the end).
--refused-ok    a connection refused (the port closed, or a program
                that refuses new connections) is counted apart, not as
                a failure: for a load that outlives the app (delete).

Prints, when done:
    instance I: N       one line per instance that answered, by I
    source A: I[,J...]  with -s: the instances that answered address A
                        ("-" when none did)
    refused: N          with --refused-ok
    failed: N
    first error: ...    when N > 0
"""

import collections
import itertools
import os
import re
import socket
import sys
import threading


def parse_args(argv):
    opts = {"total": 1000, "threads": 1, "timeout": 5.0, "sources": None,
            "max_failures": None, "until": None, "progress": None,
            "refused_ok": False}
    args = iter(argv)
    opts["port"] = int(next(args))
    for a in args:
        if a == "-n":
            opts["total"] = int(next(args))
        elif a == "-t":
            opts["threads"] = int(next(args))
        elif a == "-T":
            opts["timeout"] = float(next(args))
        elif a == "-s":
            opts["sources"] = sources(next(args))
        elif a == "--max-failures":
            opts["max_failures"] = int(next(args))
        elif a == "--until":
            opts["until"] = next(args)
        elif a == "--progress":
            opts["progress"] = next(args)
        elif a == "--refused-ok":
            opts["refused_ok"] = True
        else:
            sys.exit("balclient.py: unknown argument %r" % a)
    return opts


def sources(text):
    """"2-50" or "3,7,12-14": the addresses 127.0.0.N of those N."""
    out = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        out += ["127.0.0.%d" % i
                for i in range(int(first), int(last or first) + 1)]
    return out


def get(port, timeout, source):
    """One request; the instance number that answered."""
    src = (source, 0) if source else None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=src) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    m = re.search(rb"hello from pid \d+ instance (\d+)", data)
    if m is None:
        raise ValueError("unexpected answer %r" % data[:200])
    return int(m.group(1))


class Run:
    def __init__(self, o):
        self.o = o
        self.lock = threading.Lock()
        self.next = itertools.count()
        self.counts = collections.Counter()
        self.by_source = collections.defaultdict(set)
        self.answers = 0
        self.refused = 0
        self.failed = []
        self.stop = False

    def take(self):
        """The number of the next request, or None when done."""
        with self.lock:
            if self.stop:
                return None
            k = next(self.next)
        if self.o["until"] is not None:
            if os.path.exists(self.o["until"]):
                return None
        elif k >= self.o["total"]:
            return None
        return k

    def progress(self):
        path = self.o["progress"]
        if path is None:
            return
        with open(path + ".new", "w") as f:
            f.write("%d\n" % self.answers)
        os.replace(path + ".new", path)

    def worker(self):
        srcs = self.o["sources"]
        while True:
            k = self.take()
            if k is None:
                return
            src = srcs[k % len(srcs)] if srcs else None
            try:
                i = get(self.o["port"], self.o["timeout"], src)
            except Exception as e:
                with self.lock:
                    if (self.o["refused_ok"] and
                            isinstance(e, ConnectionRefusedError)):
                        self.refused += 1
                        continue
                    self.failed.append("%s%r" % (
                        "from %s: " % src if src else "", e))
                    mf = self.o["max_failures"]
                    if mf is not None and len(self.failed) >= mf:
                        self.stop = True
                continue
            with self.lock:
                self.counts[i] += 1
                self.by_source[src].add(i)
                self.answers += 1
                if self.answers % 10 == 0:
                    self.progress()

    def report(self):
        for i in sorted(self.counts):
            print("instance %d: %d" % (i, self.counts[i]))
        for src in self.o["sources"] or []:
            got = sorted(self.by_source.get(src, ()))
            print("source %s: %s" % (src, ",".join(map(str, got)) or "-"))
        if self.o["refused_ok"]:
            print("refused: %d" % self.refused)
        print("failed: %d" % len(self.failed))
        if self.failed:
            print("first error: %s" % self.failed[0])


def main():
    run = Run(parse_args(sys.argv[1:]))
    ts = [threading.Thread(target=run.worker)
          for _ in range(run.o["threads"])]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    run.progress()
    run.report()


if __name__ == "__main__":
    main()

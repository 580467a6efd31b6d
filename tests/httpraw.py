#!/usr/bin/env python3
"""httpraw.py PORT [--shut] [--rcvbuf N] [--wait S] [--timeout S]

Send standard input's bytes, as they are, to 127.0.0.1:PORT; with --shut,
close the sending side then; with --wait, wait S seconds before reading;
then read until the server closes.  Prints the status line (or "(nothing)"
when the server closed without a byte), the number of bytes read, and the
seconds it took from the connect, one per line; exits 1 when the read
failed (a reset, or --timeout seconds without an end: 5 unless given).
"""
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    shut, rcvbuf, wait, timeout = False, 0, 0.0, 5.0
    while args:
        a = args.pop(0)
        if a == "--shut":
            shut = True
        elif a == "--rcvbuf":
            rcvbuf = int(args.pop(0))
        elif a == "--wait":
            wait = float(args.pop(0))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit("httpraw.py: unknown option " + a)
    data = sys.stdin.buffer.read()
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    start = time.monotonic()
    s.connect(("127.0.0.1", port))
    s.settimeout(timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError as e:
        print("send: %s" % e, file=sys.stderr)
    time.sleep(wait)
    got, failed = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        print("recv: %s" % (e if str(e) else "timed out"), file=sys.stderr)
        failed = True
    line = got.split(b"\r\n", 1)[0].decode("latin-1") if got else "(nothing)"
    print(line)
    print(len(got))
    print("%.2f" % (time.monotonic() - start))
    sys.exit(1 if failed else 0)


main()

#!/usr/bin/env python3
# server.py -- the recipe's app: HTTP on the socket pmcd hands over
# (LISTEN_FDS, fd 3), answering "HOST VERSION PID".  On SIGTERM it stops
# taking connections, ends the one in hand, and exits.
import http.server
import os
import signal
import socket
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %s %d\n" % (os.environ.get("HOST", "?"),
                os.environ.get("VERSION", "?"), os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    if os.environ.get("LISTEN_FDS") != "1":
        raise SystemExit("server.py: expected one socket in LISTEN_FDS")
    sock = socket.socket(fileno=3)
    server = http.server.HTTPServer(sock.getsockname(), Handler,
                                    bind_and_activate=False)
    server.socket = sock
    signal.signal(signal.SIGTERM,
                  lambda *a: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


main()

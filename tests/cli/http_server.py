#!/usr/bin/env python3
"""A test HTTP server for `virnucpro models download`, on 127.0.0.1 only, serving one folder.

Beyond python3 -m http.server it answers byte ranges (Range: bytes=N-, 206 / 416) unless --no-range, can send
slowly (--rate bytes/s, so that a test can interrupt a transfer), can drop the connection once per file after
--drop-after bytes (the client must resume), and redirects /redirect/<path> to /<path>. It picks a free port,
writes it to --port-file, and logs one line per request (path and Range header) to --log."""
import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
dropped = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        with lock, open(args.log, "a") as log:
            log.write(f"GET {self.path} range={rng}\n")
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        rel = os.path.normpath(self.path.lstrip("/"))
        path = os.path.join(args.root, rel)
        if rel.startswith("..") or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        size = os.path.getsize(path)
        start = 0
        if rng and not args.no_range and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        drop = None
        with lock:
            if args.drop_after is not None and rel not in dropped:
                dropped.add(rel)
                drop = args.drop_after
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            while True:
                n = 16384
                if drop is not None:
                    n = min(n, drop - sent)
                    if n <= 0:
                        self.close_connection = True
                        return
                chunk = f.read(n)
                if not chunk:
                    return
                try:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(chunk)
                if args.rate:
                    time.sleep(len(chunk) / args.rate)


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--no-range", action="store_true")
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--drop-after", type=int, default=None)
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()

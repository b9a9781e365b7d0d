#!/usr/bin/env python3
"""A scriptable HTTP server on 127.0.0.1 for collateral tests (a stand-in for AMD KDS, Intel PCS
and a PCCS).

Started by a test with an ephemeral port; prints "PORT <n>" on stdout once listening, then serves
until it receives SIGTERM or its stdin closes (so it never outlives a crashed test).

With "--tls DIR" it serves HTTPS with a fresh self-signed P-256 certificate for localhost and
127.0.0.1 (as a PCCS does), written to DIR/cert.pem and DIR/key.pem by the openssl command.

Requests to ordinary paths are answered from routes, keyed by the exact request target (path
plus query string). Routes and counters are managed through GET requests under /_admin/:

  /_admin/route?target=T&file=F[&status=S][&fail429=N][&retry_after=V][&content_type=C][&delay_ms=D]
      answer T with the bytes of file F (absolute path) and status S (default 200); the first N
      requests get 429 instead, with "Retry-After: V" when V is given; every answer is held
      back D milliseconds (a slow KDS)
  /_admin/route?...&header=NAME:%20VALUE  add a response header (repeatable)
  /_admin/route?...&require_header=NAME:%20VALUE  answer 400 unless the request has it (IMDS)
  /_admin/route?target=T&status=404      a route without a body
  /_admin/count?target=T                 how many requests T received ("*" = all targets)
  /_admin/log                            every request target received, one per line
  /_admin/reset                          forget routes and counters

Unrouted targets get 404. Admin requests are not counted.
"""

import http.server
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.routes = {}
        self.counts = {}
        self.log = []


STATE = State()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _send(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _admin(self, path, query):
        lists = urllib.parse.parse_qs(query, keep_blank_values=True)
        params = {k: v[0] for k, v in lists.items()}
        with STATE.lock:
            if path == "/_admin/route":
                target = params["target"]
                STATE.routes[target] = {
                    "file": params.get("file", ""),
                    "status": int(params.get("status", "200")),
                    "fail429": int(params.get("fail429", "0")),
                    "retry_after": params.get("retry_after"),
                    "content_type": params.get("content_type", "application/octet-stream"),
                    "delay_ms": int(params.get("delay_ms", "0")),
                    "headers": [h.split(": ", 1) for h in lists.get("header", [])],
                    "require_header": params.get("require_header"),
                }
                return self._send(200, b"ok\n")
            if path == "/_admin/count":
                target = params.get("target", "*")
                if target == "*":
                    n = sum(STATE.counts.values())
                else:
                    n = STATE.counts.get(target, 0)
                return self._send(200, str(n).encode())
            if path == "/_admin/log":
                return self._send(200, "".join(t + "\n" for t in STATE.log).encode())
            if path == "/_admin/reset":
                STATE.routes.clear()
                STATE.counts.clear()
                STATE.log.clear()
                return self._send(200, b"ok\n")
        return self._send(400, b"unknown admin command\n")

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path.startswith("/_admin/"):
            return self._admin(parsed.path, parsed.query)
        target = self.path
        with STATE.lock:
            STATE.counts[target] = STATE.counts.get(target, 0) + 1
            STATE.log.append(target)
            route = STATE.routes.get(target)
        if route is not None and route["delay_ms"] > 0:
            time.sleep(route["delay_ms"] / 1000.0)
        with STATE.lock:
            if route is not None and route["fail429"] > 0:
                route["fail429"] -= 1
                headers = {}
                if route["retry_after"] is not None:
                    headers["Retry-After"] = route["retry_after"]
                return self._send(429, b"too many requests\n", headers)
        if route is None:
            return self._send(404, b"not found\n")
        if route["require_header"]:
            name, value = route["require_header"].split(": ", 1)
            if self.headers.get(name) != value:
                return self._send(400, b"required request header missing\n")
        body = b""
        if route["file"]:
            with open(route["file"], "rb") as f:
                body = f.read()
        headers = {"Content-Type": route["content_type"]}
        headers.update({name: value for name, value in route["headers"]})
        return self._send(route["status"], body, headers)


def tls_context(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 3 and sys.argv[1] == "--tls":
        # Handshakes happen in accept(); a client refusing the certificate is an OSError there,
        # which socketserver ignores.
        server.socket = tls_context(sys.argv[2]).wrap_socket(server.socket, server_side=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)

    def watch_stdin():
        try:
            sys.stdin.buffer.read()
        finally:
            stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

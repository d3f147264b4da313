#!/usr/bin/python3
"""The local server std/http/client's tests talk to (tests/quest/http_client).

    http_test_server.py PORT [TLS_PORT CERT KEY]

Python's standard library only.  Every request runs on its own thread, so
a hundred sleeping requests overlap.  Endpoints (any method):

    /ping                 "pong"
    /echo                 JSON: method, path, query, args, headers, body,
                          client_port (tells connections apart)
    /sleep?ms=N           answers after N ms
    /gzip                 a gzip-encoded JSON body
    /bytes?n=N            N bytes with a Content-Length
    /chunked?n=N          N bytes, chunked (no length known up front)
    /redirect?n=K         K redirects, then /echo; /loop redirects forever
    /status?code=N        that status
    /cookies              two Set-Cookie headers
    /hold?id=X&s=S        answers after S seconds, or notes "X" in /stats
                          when the client hangs up first
    /stats                JSON: {"aborted": [ids of abandoned holds]}
    /cert                 the TLS certificate (PEM), for ca_file:
"""
import gzip
import json
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

aborted = []
lock = threading.Lock()
cert_pem = b""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # head and body in one write: no Nagle/delayed-ACK stalls

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, value, status=200):
        self.send(status, json.dumps(value).encode(), "application/json")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def peer_left(self, seconds):
        """Wait up to seconds; True as soon as the client closes."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.05)
            if ready:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return True
                except OSError:
                    return True
        return False

    def handle_any(self):
        url = urlsplit(self.path)
        args = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self.read_body()
        route = url.path
        if route == "/ping":
            self.send(200, b"pong")
        elif route == "/echo":
            self.send_json({
                "method": self.command, "path": url.path, "query": url.query, "args": args,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "client_port": self.client_address[1],
            })
        elif route == "/sleep":
            time.sleep(int(args.get("ms", "200")) / 1000)
            self.send(200, b"slept")
        elif route == "/gzip":
            data = gzip.compress(json.dumps({"gzipped": True, "filler": "x" * 5000}).encode())
            self.send(200, data, "application/json", [("Content-Encoding", "gzip")])
        elif route == "/bytes":
            n = int(args.get("n", "100"))
            self.send(200, (b"0123456789" * (n // 10 + 1))[:n], "application/octet-stream")
        elif route == "/chunked":
            self.send_chunked(int(args.get("n", "100")))
        elif route == "/redirect":
            n = int(args.get("n", "1"))
            target = "/redirect?n=%d" % (n - 1) if n > 1 else "/echo"
            self.send(302, b"", headers=[("Location", target)])
        elif route == "/loop":
            self.send(302, b"", headers=[("Location", "/loop")])
        elif route == "/status":
            self.send(int(args.get("code", "200")), b"status")
        elif route == "/cookies":
            self.send(200, b"ok", headers=[("Set-Cookie", "a=1; Path=/"),
                                           ("Set-Cookie", "b=two; HttpOnly")])
        elif route == "/hold":
            if self.peer_left(float(args.get("s", "10"))):
                with lock:
                    aborted.append(args.get("id", "?"))
                self.close_connection = True
                return
            self.send(200, b"held")
        elif route == "/stats":
            with lock:
                self.send_json({"aborted": list(aborted)})
        elif route == "/cert":
            self.send(200, cert_pem, "application/x-pem-file")
        else:
            self.send(404, b"not found")

    def send_chunked(self, n):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        left = n
        while left > 0:
            chunk = b"x" * min(left, 65536)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            left -= len(chunk)
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


def serve(port, context=None):
    server = Server(("127.0.0.1", port), Handler)
    if context:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


def main():
    global cert_pem
    port = int(sys.argv[1])
    if len(sys.argv) == 5:
        tls_port, cert, key = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        with open(cert, "rb") as f:
            cert_pem = f.read()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        threading.Thread(target=serve, args=(tls_port, context), daemon=True).start()
    serve(port)


if __name__ == "__main__":
    main()

# tls_json_server.py PORTFILE CERT KEY - an HTTP/1.1 keep-alive JSON server over TLS on 127.0.0.1 (a
# free port, written to PORTFILE once listening) for the https tests of `mlci load`: every request is
# answered {"ok": true} and counted, except GET /count, which answers the count so far.
import http.server
import sys
import threading

from tls_serve import serve_tls

portfile, cert, key = sys.argv[1:4]
count = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, payload):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        global count
        if self.path == "/count":
            with lock:
                n = count
            self.answer(str(n).encode())
            return
        with lock:
            count += 1
        self.answer(b'{"ok": true}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()

    def log_message(self, *args):
        pass


serve_tls(http.server.ThreadingHTTPServer, Handler, portfile, cert, key)

#!/usr/bin/env python3
# health_server.py - a health endpoint for the e2e tests: listens on 127.0.0.1 (port 0), writes its port
# to PORTFILE once listening; GET /ok answers 200, anything else 503. Runs until killed.
import http.server, os, sys

portfile = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()

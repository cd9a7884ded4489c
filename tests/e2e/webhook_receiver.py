#!/usr/bin/env python3
# webhook_receiver.py - a deploy-webhook receiver for the e2e tests: listens on 127.0.0.1 (port 0),
# writes its port to PORTFILE once listening, verifies X-Mlci-Signature-256 against SECRET, appends
# each accepted body to LOG, and answers STATUS (e.g. 200 or 500). Stops after MAX requests.
import hashlib, hmac, http.server, sys

portfile, log, secret, status, max_requests = sys.argv[1], sys.argv[2], sys.argv[3].encode(), int(sys.argv[4]), int(sys.argv[5])
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        seen += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, self.headers.get("X-Mlci-Signature-256", ""))
        with open(log, "a") as f:
            f.write("%s %s %s\n" % ("signed" if ok else "BAD-SIGNATURE", self.headers.get("X-Mlci-Environment"), body.decode()))
        self.send_response(status if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
while seen < max_requests:
    server.handle_request()

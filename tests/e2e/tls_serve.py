# tls_serve.py - shared by the e2e test servers that speak TLS (git_https_server.py, tls_json_server.py):
# serve a http.server over TLS on 127.0.0.1, a free port written to PORTFILE once listening.
import os
import ssl


def serve_tls(server_class, handler, portfile, cert, key):
    server = server_class(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)  # readers never see a partial port
    server.serve_forever()

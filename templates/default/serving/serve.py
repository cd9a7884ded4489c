"""Serve: the model over the KServe Open Inference Protocol (V2) REST API.

Endpoints (JSON in and out; errors are {"error": "..."}):
  GET  /v2/health/live                   200 while the process runs
  GET  /v2/health/ready                  200 once the model is loaded, 503 before
  GET  /v2                               server metadata
  GET  /v2/models/<name>[/versions/<v>]          model metadata
  GET  /v2/models/<name>[/versions/<v>]/ready    model readiness
  POST /v2/models/<name>[/versions/<v>]/infer    inference
An infer request has one input "input-0", datatype FP32 or FP64, shape [N, F]
(F = number of features, 30 here), data flat (N*F numbers) or nested (N lists
of F).  The response has outputs "probability" (FP32, [N]) and "label" (BYTES,
[N]); a request may ask for a subset with "outputs": [{"name": ...}].  Numbers
are computed in double precision exactly as components/evaluate/evaluate.py
does, so its predictions.csv can be compared with this service's answers.

HTTP/1.1 with keep-alive; every response carries Content-Length.  No access
log.  SIGTERM/SIGINT stop the server cleanly (exit 0).  Standard library only.

Usage:
    python3 serving/serve.py --model PATH/model.json --port PORT [--host 127.0.0.1] [--name bc-classifier]
"""

import argparse
import json
import math
import operator
import signal
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

SERVER_NAME = "mlci-python-server"
SERVER_VERSION = "1.0.0"
PLATFORM = "python_logistic_regression"
INPUT_NAME = "input-0"
INPUT_DATATYPES = ("FP32", "FP64")
OUTPUTS = (("probability", "FP32"), ("label", "BYTES"))
MAX_BODY = 8 << 20  # bytes; larger requests get 413


class ModelError(Exception):
    """model.json could not be loaded."""


class RequestError(Exception):
    """A client error; `status` is the HTTP status to answer with."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Model:
    """A logistic-regression model as written by components/train/train.py."""

    def __init__(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                m = json.load(f)
        except OSError as e:
            raise ModelError("could not open '%s' for reading: %s" % (path, e.strerror))
        except ValueError as e:
            raise ModelError("%s: not valid JSON: %s" % (path, e))
        try:
            self.features = [str(x) for x in m["features"]]
            self.means = [float(x) for x in m["means"]]
            self.stds = [float(x) for x in m["stds"]]
            self.weights = [float(x) for x in m["weights"]]
            self.bias = float(m["bias"])
            self.positive = str(m["labels"]["positive"])
            self.negative = str(m["labels"]["negative"])
            self.threshold = float(m["threshold"])
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError("%s: missing or bad key: %s" % (path, e))
        d = len(self.features)
        if d == 0 or not (len(self.means) == len(self.stds) == len(self.weights) == d):
            raise ModelError("%s: features, means, stds and weights must have the same, "
                             "non-zero length" % path)
        numbers = self.means + self.stds + self.weights + [self.bias, self.threshold]
        if not all(math.isfinite(v) for v in numbers) or not all(s > 0 for s in self.stds):
            raise ModelError("%s: non-finite number or non-positive std" % path)

    def predict_proba(self, x):
        """Positive-class probability of one raw feature row `x`.

        Same operations in the same order as evaluate.py:predict_proba.
        """
        z = [(v - m) / s for v, m, s in zip(x, self.means, self.stds)]
        t = self.bias + sum(map(operator.mul, self.weights, z))
        if t >= 0.0:
            return 1.0 / (1.0 + math.exp(-t))
        e = math.exp(t)
        return e / (1.0 + e)

    def label(self, p):
        return self.positive if p >= self.threshold else self.negative


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _is_number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer literal beyond the double range
        return False


def parse_infer_request(body, n_features):
    """Validate a V2 infer request `body` (bytes); returns (rows, request id, output names).

    Raises RequestError(400, ...) for anything that does not fit the model.
    """
    try:
        req = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise RequestError(400, "invalid JSON body: %s" % e)
    if not isinstance(req, dict):
        raise RequestError(400, "request body must be a JSON object")
    req_id = req.get("id")
    if req_id is not None and not isinstance(req_id, str):
        raise RequestError(400, "'id' must be a string")
    inputs = req.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise RequestError(400, "'inputs' must be a list with exactly one tensor")
    tensor = inputs[0]
    if tensor.get("name") != INPUT_NAME:
        raise RequestError(400, "unknown input '%s' (expected '%s')" % (tensor.get("name"), INPUT_NAME))
    datatype = tensor.get("datatype")
    if datatype not in INPUT_DATATYPES:
        raise RequestError(400, "input '%s': datatype must be one of %s, got %s"
                           % (INPUT_NAME, "/".join(INPUT_DATATYPES), json.dumps(datatype)))
    shape = tensor.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
            or shape[0] < 0 or shape[1] != n_features):
        raise RequestError(400, "input '%s': shape must be [N, %d], got %s"
                           % (INPUT_NAME, n_features, json.dumps(shape)))
    n = shape[0]
    data = tensor.get("data")
    if not isinstance(data, list):
        raise RequestError(400, "input '%s': 'data' must be a list" % INPUT_NAME)
    if all(isinstance(r, list) for r in data) and data:
        if len(data) != n or any(len(r) != n_features for r in data):
            raise RequestError(400, "input '%s': nested data does not match shape %s"
                               % (INPUT_NAME, json.dumps(shape)))
        flat = [v for r in data for v in r]
    else:
        flat = data
        if len(flat) != n * n_features:
            raise RequestError(400, "input '%s': %d values do not match shape %s"
                               % (INPUT_NAME, len(flat), json.dumps(shape)))
    if not all(_is_number(v) for v in flat):
        raise RequestError(400, "input '%s': data must be finite numbers" % INPUT_NAME)
    rows = [[float(v) for v in flat[i * n_features:(i + 1) * n_features]] for i in range(n)]

    names = [name for name, _ in OUTPUTS]
    wanted = req.get("outputs")
    if wanted is not None:
        if not isinstance(wanted, list) or not all(isinstance(o, dict) for o in wanted):
            raise RequestError(400, "'outputs' must be a list of objects")
        requested = [o.get("name") for o in wanted]
        for name in requested:
            if name not in names:
                raise RequestError(400, "unknown output '%s' (have: %s)" % (name, ", ".join(names)))
        names = requested
    return rows, req_id, names


class InferenceServer(ThreadingHTTPServer):
    """The HTTP server plus the serving state: name, version and (once loaded) the model."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, model_name, model_version="1"):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # --host ::1
        super().__init__(address, Handler)
        self.model_name = model_name
        self.model_version = model_version
        self.model = None  # set by load(); readiness follows it

    def load(self, path):
        self.model = Model(path)

    def handle_error(self, request, client_address):
        # Clients that disconnect mid-request are normal under load; no tracebacks.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME + "/" + SERVER_VERSION
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    wbufsize = 1 << 16  # headers and body leave in one write ...
    disable_nagle_algorithm = True  # ... and without waiting for the peer's ACK

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass  # no per-request logging

    # ---- responses ----

    def _send_json(self, status, obj):
        """Answer `status` with `obj` as the JSON body (headers only for HEAD)."""
        body = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, message):
        self._send_json(status, {"error": message})

    def send_error(self, code, message=None, explain=None):
        # Used by http.server for malformed requests and unsupported methods.
        self.close_connection = True
        if message is None:
            try:
                message = HTTPStatus(code).phrase
            except ValueError:
                message = "error"
        self._send_json(code, {"error": message})

    # ---- request plumbing ----

    def _read_body(self):
        """The request body as bytes (Content-Length or chunked), bounded by MAX_BODY."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                    if size < 0:
                        raise ValueError
                except ValueError:
                    self.close_connection = True
                    raise RequestError(400, "bad chunked encoding")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise RequestError(413, "request body larger than %d bytes" % MAX_BODY)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""  # RFC 9112 6.3: no Content-Length and not chunked -> empty body
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise RequestError(400, "bad Content-Length")
        if n > MAX_BODY:
            self.close_connection = True
            raise RequestError(413, "request body larger than %d bytes" % MAX_BODY)
        body = self.rfile.read(n)
        if len(body) != n:
            self.close_connection = True
            raise RequestError(400, "request body shorter than Content-Length")
        return body

    def _route(self):
        """Split the path into (kind, rest): kind is 'server', 'health', 'model' or None."""
        path = unquote(urlsplit(self.path).path)
        if len(path) > 1:
            path = path.rstrip("/")
        parts = path.split("/")[1:]
        if parts[:1] != ["v2"]:
            return None, None
        if len(parts) == 1:
            return "server", None
        if len(parts) == 3 and parts[1] == "health" and parts[2] in ("live", "ready"):
            return "health", parts[2]
        if len(parts) >= 3 and parts[1] == "models":
            name, rest = parts[2], parts[3:]
            version = None
            if rest[:1] == ["versions"]:
                if len(rest) < 2:
                    return None, None
                version, rest = rest[1], rest[2:]
            if len(rest) > 1 or (rest and rest[0] not in ("ready", "infer")):
                return None, None
            return "model", (name, version, rest[0] if rest else "")
        return None, None

    def _check_model(self, name, version):
        srv = self.server
        if name != srv.model_name:
            raise RequestError(404, "unknown model '%s'" % name)
        if version is not None and version != srv.model_version:
            raise RequestError(404, "unknown version '%s' of model '%s'" % (version, name))

    # ---- methods ----

    def do_GET(self):
        srv = self.server
        kind, arg = self._route()
        try:
            if "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
                self._read_body()  # a GET body is ignored, but must not be taken for the next request
            if kind == "health" and arg == "live":
                return self._send_json(200, {"live": True})
            if kind == "health":
                ready = srv.model is not None
                return self._send_json(200 if ready else 503, {"ready": ready})
            if kind == "server":
                return self._send_json(200, {"name": SERVER_NAME, "version": SERVER_VERSION,
                                             "extensions": []})
            if kind == "model":
                name, version, action = arg
                self._check_model(name, version)
                if action == "ready":
                    ready = srv.model is not None
                    return self._send_json(200 if ready else 503, {"name": name, "ready": ready})
                if action == "":
                    return self._send_json(200, self._metadata())
                raise RequestError(405, "method %s not allowed here (infer takes POST)" % self.command)
            raise RequestError(404, "not found: %s" % urlsplit(self.path).path)
        except RequestError as e:
            self._error(e.status, str(e))

    def do_POST(self):
        srv = self.server
        kind, arg = self._route()
        try:
            # Read the body first so that the connection stays usable after an error.
            body = self._read_body()
            if kind != "model" or arg[2] != "infer":
                if kind is None:
                    raise RequestError(404, "not found: %s" % urlsplit(self.path).path)
                raise RequestError(405, "method POST not allowed here")
            name, version, _ = arg
            self._check_model(name, version)
            model = srv.model
            if model is None:
                raise RequestError(503, "model '%s' is not ready" % name)
            rows, req_id, names = parse_infer_request(body, len(model.features))
            probs = [model.predict_proba(x) for x in rows]
            if not all(math.isfinite(p) for p in probs):
                raise RequestError(400, "input values too large: the score is not a finite number")
            data = {"probability": probs, "label": [model.label(p) for p in probs]}
            types = dict(OUTPUTS)
            resp = {"model_name": srv.model_name, "model_version": srv.model_version}
            if req_id is not None:
                resp["id"] = req_id
            resp["outputs"] = [{"name": n, "datatype": types[n], "shape": [len(rows)],
                                "data": data[n]} for n in names]
            self._send_json(200, resp)
        except RequestError as e:
            self._error(e.status, str(e))
        except Exception as e:  # a bug, not the client's fault: answer 500, keep serving
            self.close_connection = True
            self._error(500, "internal error: %s" % type(e).__name__)

    def do_HEAD(self):
        self.do_GET()  # same status and headers, no body (see _send_json)

    def _not_allowed(self):
        self.close_connection = True  # the body, if any, is not read
        self._error(405, "method %s not allowed" % self.command)

    do_PUT = do_DELETE = do_PATCH = _not_allowed

    def _metadata(self):
        srv = self.server
        n = len(srv.model.features) if srv.model is not None else -1
        return {
            "name": srv.model_name,
            "versions": [srv.model_version],
            "platform": PLATFORM,
            "inputs": [{"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, n]}],
            "outputs": [{"name": name, "datatype": dt, "shape": [-1]} for name, dt in OUTPUTS],
        }


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve model.json over the KServe V2 REST protocol.")
    p.add_argument("--model", required=True, help="model.json written by train.py")
    p.add_argument("--port", required=True, type=int, help="TCP port (0: pick a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--name", default="bc-classifier", help="model name in the URLs")
    p.add_argument("--model-version", default="1", help="model version reported (default 1)")
    args = p.parse_args(argv)

    try:
        server = InferenceServer((args.host, args.port), args.name, args.model_version)
    except OSError as e:
        print("serve: error: could not listen on %s:%d: %s" % (args.host, args.port, e.strerror),
              file=sys.stderr)
        return 1

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must run in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    failure = []

    def load():
        try:
            server.load(args.model)
        except ModelError as e:
            failure.append(str(e))
            server.shutdown()
            return
        host, port = server.server_address[:2]
        if ":" in host:
            host = "[%s]" % host
        print("serve: model '%s' ready on http://%s:%d/v2/models/%s"
              % (args.name, host, port, args.name), file=sys.stderr, flush=True)

    # Listen first and load in the background: /v2/health/ready says 503 until the model is in.
    threading.Thread(target=load, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    if failure:
        print("serve: error: %s" % failure[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Unit tests for the serving API (run from the repo root:
python3 -m unittest discover -q -s serving)."""

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import serve

HERE = os.path.dirname(os.path.abspath(__file__))
N = 30
NAME = "bc-classifier"
INFER = "/v2/models/%s/infer" % NAME


def make_model(path):
    model = {
        "features": ["f%d" % i for i in range(N)],
        "means": [float(i) for i in range(N)],
        "stds": [1.0 + i / 10 for i in range(N)],
        "weights": [(-1) ** i * 0.1 * (i % 7) for i in range(N)],
        "bias": -0.25,
        "labels": {"positive": "malignant", "negative": "benign"},
        "threshold": 0.5,
    }
    with open(path, "w") as f:
        json.dump(model, f)
    return model


def row(k):
    return [float(i) + k * (1 if i % 2 else -1) for i in range(N)]


def infer_body(rows, datatype="FP32", nested=False, **extra):
    data = [list(r) for r in rows] if nested else [v for r in rows for v in r]
    body = {"inputs": [{"name": "input-0", "datatype": datatype, "shape": [len(rows), N],
                        "data": data}]}
    body.update(extra)
    return body


class ServerTest(unittest.TestCase):
    load = True

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model_path = os.path.join(cls.tmp.name, "model.json")
        cls.model = make_model(cls.model_path)
        cls.server = serve.InferenceServer(("127.0.0.1", 0), NAME)
        if cls.load:
            cls.server.load(cls.model_path)
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, kwargs={"poll_interval": 0.05})
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join()
        cls.tmp.cleanup()

    def setUp(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(self.conn.close)

    def request(self, method, path, body=None, raw=None, headers=None):
        """Send one request on the shared connection; returns (status, json, response)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        self.conn.request(method, path, body=data, headers=hdrs)
        resp = self.conn.getresponse()
        payload = resp.read()
        self.assertEqual(resp.getheader("Content-Length"), str(len(payload)))
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        return resp.status, json.loads(payload), resp


class LoadedServerTest(ServerTest):
    def test_health(self):
        self.assertEqual(self.request("GET", "/v2/health/live")[:2], (200, {"live": True}))
        self.assertEqual(self.request("GET", "/v2/health/ready")[:2], (200, {"ready": True}))

    def test_server_metadata(self):
        status, body, _ = self.request("GET", "/v2")
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"name", "version", "extensions"})
        self.assertIsInstance(body["extensions"], list)

    def test_model_metadata(self):
        status, body, _ = self.request("GET", "/v2/models/" + NAME)
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], NAME)
        self.assertEqual(body["versions"], ["1"])
        self.assertIn("platform", body)
        self.assertEqual(body["inputs"], [{"name": "input-0", "datatype": "FP32", "shape": [-1, N]}])
        self.assertEqual(body["outputs"], [{"name": "probability", "datatype": "FP32", "shape": [-1]},
                                           {"name": "label", "datatype": "BYTES", "shape": [-1]}])
        self.assertEqual(self.request("GET", "/v2/models/%s/versions/1" % NAME)[1], body)

    def test_model_ready(self):
        self.assertEqual(self.request("GET", "/v2/models/%s/ready" % NAME)[:2],
                         (200, {"name": NAME, "ready": True}))

    def expected(self, x):
        m = self.model
        t = m["bias"] + sum(w * (v - mu) / s for w, v, mu, s in
                            zip(m["weights"], x, m["means"], m["stds"]))
        return 1 / (1 + math.exp(-t))

    def test_infer_flat(self):
        rows = [row(0), row(3), row(-3)]
        status, body, _ = self.request("POST", INFER, infer_body(rows, id="req-7"))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["model_name"], NAME)
        self.assertEqual(body["id"], "req-7")
        prob, label = body["outputs"]
        self.assertEqual((prob["name"], prob["datatype"], prob["shape"]), ("probability", "FP32", [3]))
        self.assertEqual((label["name"], label["datatype"], label["shape"]), ("label", "BYTES", [3]))
        for x, p, l in zip(rows, prob["data"], label["data"]):
            self.assertAlmostEqual(p, self.expected(x), places=12)
            self.assertEqual(l, "malignant" if p >= 0.5 else "benign")
        self.assertEqual(set(label["data"]), {"malignant", "benign"})

    def test_infer_nested_fp64_same_answer(self):
        rows = [row(1), row(2)]
        flat = self.request("POST", INFER, infer_body(rows))[1]
        nested = self.request("POST", INFER, infer_body(rows, datatype="FP64", nested=True))[1]
        self.assertEqual(flat["outputs"], nested["outputs"])
        self.assertNotIn("id", flat)

    def test_infer_requested_outputs(self):
        status, body, _ = self.request("POST", INFER, infer_body([row(1)], outputs=[{"name": "label"}]))
        self.assertEqual(status, 200)
        self.assertEqual([o["name"] for o in body["outputs"]], ["label"])
        status, body, _ = self.request("POST", INFER, infer_body([row(1)], outputs=[{"name": "nope"}]))
        self.assertEqual(status, 400)

    def test_infer_versioned_path(self):
        self.assertEqual(self.request("POST", "/v2/models/%s/versions/1/infer" % NAME,
                                      infer_body([row(0)]))[0], 200)
        self.assertEqual(self.request("POST", "/v2/models/%s/versions/9/infer" % NAME,
                                      infer_body([row(0)]))[0], 404)

    def test_matches_evaluate(self):
        sys.path.insert(0, os.path.join(HERE, "..", "components", "evaluate"))
        try:
            import evaluate
        except ImportError:
            self.skipTest("components/evaluate not found")
        finally:
            sys.path.pop(0)
        rows = [row(k) for k in range(-4, 5)]
        body = self.request("POST", INFER, infer_body(rows))[1]
        self.assertEqual(body["outputs"][0]["data"], [evaluate.predict_proba(self.model, x) for x in rows])

    def test_bad_requests(self):
        good = infer_body([row(0)])
        cases = {
            "bad json": b"{not json",
            "not an object": b"[1, 2]",
            "nan literal": json.dumps(good).replace("0.0", "NaN", 1).encode(),
            "no inputs": json.dumps({"id": "x"}).encode(),
            "two inputs": json.dumps({"inputs": good["inputs"] * 2}).encode(),
            "wrong input name": json.dumps(infer_body([row(0)]) | {
                "inputs": [dict(good["inputs"][0], name="x")]}).encode(),
            "wrong datatype": json.dumps(infer_body([row(0)], datatype="INT64")).encode(),
            "bytes datatype": json.dumps(infer_body([row(0)], datatype="BYTES")).encode(),
            "wrong shape": json.dumps({"inputs": [dict(good["inputs"][0], shape=[1, 29])]}).encode(),
            "rank 1 shape": json.dumps({"inputs": [dict(good["inputs"][0], shape=[30])]}).encode(),
            "short data": json.dumps({"inputs": [dict(good["inputs"][0], data=row(0)[:-1])]}).encode(),
            "string value": json.dumps({"inputs": [dict(good["inputs"][0], data=["1"] * N)]}).encode(),
            "bool value": json.dumps({"inputs": [dict(good["inputs"][0], data=[True] * N)]}).encode(),
            "huge int": json.dumps({"inputs": [dict(good["inputs"][0], data=[10 ** 400] * N)]}).encode(),
            "ragged nested": json.dumps({"inputs": [dict(good["inputs"][0], shape=[2, N],
                                                         data=[row(0), row(1)[:-1]])]}).encode(),
            "non-string id": json.dumps(dict(good, id=5)).encode(),
        }
        for what, raw in cases.items():
            with self.subTest(what):
                status, body, resp = self.request("POST", INFER, raw=raw)
                self.assertEqual(status, 400, body)
                self.assertIsInstance(body.get("error"), str)
                self.assertFalse(resp.will_close, "connection kept after a 400")

    def test_not_found(self):
        for method, path in (("GET", "/v2/models/other"), ("GET", "/v2/models/other/ready"),
                             ("GET", "/nope"), ("GET", "/v2/models/%s/bogus" % NAME),
                             ("POST", "/v2/models/other/infer"), ("POST", "/v1/models/x:predict")):
            with self.subTest(path=path):
                status, body, _ = self.request(method, path, body=infer_body([row(0)]))
                self.assertEqual(status, 404)
                self.assertIn("error", body)

    def test_post_without_body(self):
        self.conn.putrequest("POST", INFER)
        self.conn.endheaders()  # no Content-Length: an empty body
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 400)
        self.assertIn("invalid JSON", json.loads(resp.read())["error"])
        self.assertEqual(self.request("GET", "/v2/health/live")[0], 200)

    def test_chunked_body(self):
        body = json.dumps(infer_body([row(2)])).encode()
        self.conn.putrequest("POST", INFER)
        self.conn.putheader("Transfer-Encoding", "chunked")
        self.conn.endheaders()
        for i in range(0, len(body), 100):
            part = body[i:i + 100]
            self.conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        self.conn.send(b"0\r\n\r\n")
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(json.loads(resp.read())["outputs"][1]["shape"], [1])
        self.assertEqual(self.request("GET", "/v2/health/live")[0], 200)

    def test_wrong_method(self):
        self.assertEqual(self.request("GET", INFER)[0], 405)
        self.assertEqual(self.request("POST", "/v2/health/ready", body={})[0], 405)

    def test_keep_alive(self):
        self.request("GET", "/v2/health/ready")
        sock = self.conn.sock
        self.assertIsNotNone(sock)
        for _ in range(5):
            self.request("POST", INFER, infer_body([row(1)]))
            self.request("POST", INFER, raw=b"{")
            self.request("GET", "/v2/models/" + NAME)
        self.assertIs(self.conn.sock, sock, "one TCP connection for all requests")

    def test_head(self):
        self.conn.request("HEAD", "/v2/models/" + NAME)
        resp = self.conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.read(), b"")
        self.assertGreater(int(resp.getheader("Content-Length")), 0)
        self.assertEqual(self.request("GET", "/v2/health/live")[0], 200)  # connection still in sync

    def test_http11(self):
        _, _, resp = self.request("GET", "/v2/health/live")
        self.assertEqual(resp.version, 11)

    def test_empty_batch(self):
        status, body, _ = self.request("POST", INFER, infer_body([]))
        self.assertEqual(status, 200)
        self.assertEqual(body["outputs"][0]["shape"], [0])


class UnloadedServerTest(ServerTest):
    load = False

    def test_not_ready_until_loaded(self):
        self.assertEqual(self.request("GET", "/v2/health/live")[0], 200)
        self.assertEqual(self.request("GET", "/v2/health/ready")[:2], (503, {"ready": False}))
        self.assertEqual(self.request("GET", "/v2/models/%s/ready" % NAME)[0], 503)
        self.assertEqual(self.request("POST", INFER, infer_body([row(0)]))[0], 503)


class ModelLoadTest(unittest.TestCase):
    def test_rejects_bad_models(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.json")
            for content in ("{", "{}", json.dumps({"features": ["a"], "means": [0], "stds": [0],
                                                   "weights": [1], "bias": 0, "threshold": 0.5,
                                                   "labels": {"positive": "p", "negative": "n"}})):
                with open(path, "w") as f:
                    f.write(content)
                with self.assertRaises(serve.ModelError):
                    serve.Model(path)
            with self.assertRaises(serve.ModelError):
                serve.Model(os.path.join(d, "missing.json"))


class ProcessTest(unittest.TestCase):
    """serve.py as a process: startup message, SIGTERM, bad model."""

    def test_sigterm_stops_cleanly(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.json")
            make_model(path)
            proc = subprocess.Popen([sys.executable, os.path.join(HERE, "serve.py"),
                                     "--model", path, "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stderr.readline()
                m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
                self.assertIsNotNone(m, line)
                conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
                conn.request("GET", "/v2/health/ready")
                self.assertEqual(conn.getresponse().status, 200)
                proc.send_signal(signal.SIGTERM)  # with a keep-alive connection still open
                self.assertEqual(proc.wait(timeout=10), 0)
                conn.close()
                self.assertEqual(proc.stdout.read(), "")
                self.assertEqual(proc.stderr.read(), "", "no output besides the ready line")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()

    def test_bad_model_exits_nonzero(self):
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.run([sys.executable, os.path.join(HERE, "serve.py"),
                                   "--model", os.path.join(d, "none.json"), "--port", "0"],
                                  capture_output=True, text=True, timeout=10)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("could not open", proc.stderr)


if __name__ == "__main__":
    unittest.main()

"""broken_server.py - the template's serving/serve.py with one deliberate fault, for the service check tests.

Usage: python3 broken_server.py --serve PATH/serve.py --mode MODE --model model.json --port PORT [--name N]

Modes (each should fail the matching check of `mlci check service`):
  ok                   no fault (passes everything)
  wrong-shape          infer outputs have shape [N, 1] while the metadata says [-1]
  wrong-datatype       the "probability" output says FP64 while the metadata says FP32
  500-on-bad-input     every client error (400/404) is answered 500
  hang-on-bad-input    a client error is never answered (the handler sleeps 60 s)
  ready-before-loaded  /v2/health/ready says 200 at once; the model loads 3 s later (infer 503 until then)
  slow                 every answer waits 300 ms
  drop-connections     infer requests get the connection closed without an answer
  one-class            every row is answered "benign" with probability 0.1
  never-ready          /v2/health/ready always 503
  exit-early           writes a few log lines and exits with status 3
  tfserving            no fault, but speaks TF Serving's REST API (GET /v1/models/N, POST :predict)
"""

import argparse
import importlib.util
import json
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--serve", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--name", default="bc-classifier")
    a = p.parse_args()

    if a.mode == "exit-early":
        for i in range(30):
            print("broken: starting, step %d" % i, file=sys.stderr)
        print("broken: error: cannot load the model (deliberate)", file=sys.stderr, flush=True)
        return 3

    spec = importlib.util.spec_from_file_location("serve", a.serve)
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    H = serve.Handler
    mode = a.mode

    orig_send_json = H._send_json

    def send_json(self, status, obj):
        if mode == "slow":
            time.sleep(0.3)
        if mode == "500-on-bad-input" and 400 <= status < 500:
            status = 500
        if mode == "hang-on-bad-input" and 400 <= status < 500:
            time.sleep(60)
        if isinstance(obj, dict) and "outputs" in obj and "model_name" in obj:
            for o in obj["outputs"]:
                if mode == "wrong-shape":
                    o["shape"] = [o["shape"][0], 1]
                if mode == "wrong-datatype" and o["name"] == "probability":
                    o["datatype"] = "FP64"
                if mode == "one-class":
                    o["data"] = [0.1 if o["name"] == "probability" else "benign" for _ in o["data"]]
        if mode == "never-ready" and isinstance(obj, dict) and "ready" in obj:
            status, obj = 503, {"ready": False}
        orig_send_json(self, status, obj)

    H._send_json = send_json

    orig_post = H.do_POST

    def do_post(self):
        if mode == "drop-connections" and self.path.endswith("/infer"):
            self._read_body()
            self.close_connection = True
            return  # no answer at all
        if mode == "tfserving":
            return tfs_post(self)
        orig_post(self)

    H.do_POST = do_post

    orig_get = H.do_GET

    def do_get(self):
        srv = self.server
        if mode == "ready-before-loaded" and self.path.rstrip("/") == "/v2/health/ready":
            return orig_send_json(self, 200, {"ready": True})
        if mode == "tfserving":
            if self.path == "/v1/models/%s" % srv.model_name:
                return orig_send_json(self, 200, {"model_version_status": [
                    {"version": "1", "state": "AVAILABLE" if srv.model else "LOADING",
                     "status": {"error_code": "OK", "error_message": ""}}]})
            if self.path.startswith("/v1/models/"):
                return orig_send_json(self, 404, {"error": "unknown model"})
        orig_get(self)

    H.do_GET = do_get

    def tfs_post(self):
        srv = self.server
        body = self._read_body()
        if self.path != "/v1/models/%s:predict" % srv.model_name:
            return orig_send_json(self, 404, {"error": "unknown model or path: %s" % self.path})
        try:
            req = json.loads(body)
            inst = req["instances"]
            if not isinstance(inst, list):
                raise ValueError("'instances' must be a list")
            n = len(srv.model.features)
            for row in inst:
                if not isinstance(row, list) or len(row) != n or not all(serve._is_number(v) for v in row):
                    raise ValueError("each instance must be a list of %d numbers" % n)
        except (ValueError, KeyError, TypeError) as e:
            return orig_send_json(self, 400, {"error": str(e)})
        preds = []
        for row in inst:
            pr = srv.model.predict_proba([float(v) for v in row])
            preds.append({"probability": pr, "label": srv.model.label(pr)})
        orig_send_json(self, 200, {"predictions": preds})

    if mode == "ready-before-loaded":
        orig_load = serve.InferenceServer.load

        def slow_load(self, path):
            time.sleep(3)
            orig_load(self, path)

        serve.InferenceServer.load = slow_load

    return serve.main(["--model", a.model, "--port", str(a.port), "--name", a.name])


if __name__ == "__main__":
    sys.exit(main())

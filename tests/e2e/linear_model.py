# linear_model.py DIR - writes DIR/model.json (a 30-feature model in the template's train.py format,
# which serving/serve.py loads) and DIR/body.json (a V2 infer request for it), for the tests and the
# load benchmark that start serve.py without running the pipeline.
import json
import sys

d, n = sys.argv[1], 30
json.dump({"features": ["f%d" % i for i in range(n)], "means": [0.0] * n, "stds": [1.0] * n,
           "weights": [0.1] * n, "bias": 0.0, "labels": {"positive": "malignant", "negative": "benign"},
           "threshold": 0.5}, open(d + "/model.json", "w"))
json.dump({"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [1, n], "data": [0.5] * n}]},
          open(d + "/body.json", "w"))

"""Unit tests for evaluate (run from the repo root:
python3 -m unittest discover -q -s components/evaluate)."""

import csv
import json
import math
import os
import tempfile
import unittest

import evaluate


class MetricTest(unittest.TestCase):
    def test_confusion(self):
        self.assertEqual(evaluate.confusion([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]), (2, 1, 1, 1))

    def test_known_metrics(self):
        # tp=2 fp=1 tn=1 fn=1
        y = [1, 1, 0, 0, 1]
        s = [0.9, 0.2, 0.1, 0.7, 0.6]
        m = evaluate.compute_metrics(y, s)
        self.assertAlmostEqual(m["accuracy"], 3 / 5)
        self.assertAlmostEqual(m["precision"], 2 / 3)
        self.assertAlmostEqual(m["recall"], 2 / 3)
        self.assertAlmostEqual(m["f1"], 2 / 3)
        # positive scores .9 .2 .6 vs negatives .1 .7: pairs won 2+1+1 of 6
        self.assertAlmostEqual(m["roc_auc"], 4 / 6)
        self.assertEqual(m["rows"], 5)
        self.assertEqual(m["positives"], 3)

    def test_threshold_is_inclusive(self):
        m = evaluate.compute_metrics([1, 0], [0.5, 0.49], threshold=0.5)
        self.assertEqual(m["accuracy"], 1.0)

    def test_f1_differs_from_precision_and_recall(self):
        # tp=1 fp=2 fn=0: precision 1/3, recall 1, f1 = 2/4
        m = evaluate.compute_metrics([1, 0, 0, 0], [0.8, 0.7, 0.6, 0.1])
        self.assertAlmostEqual(m["precision"], 1 / 3)
        self.assertAlmostEqual(m["recall"], 1.0)
        self.assertAlmostEqual(m["f1"], 0.5)

    def test_auc_perfect_and_inverted(self):
        self.assertEqual(evaluate.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1.0)
        self.assertEqual(evaluate.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0.0)

    def test_auc_with_ties(self):
        # All scores tied: AUC 0.5.
        self.assertEqual(evaluate.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5)
        # One positive/negative tie counts half: pairs (p=.4|n=.4)=.5, (p=.4|n=.1)=1,
        # (p=.8|n=.4)=1, (p=.8|n=.1)=1 -> 3.5 / 4.
        self.assertAlmostEqual(evaluate.roc_auc([1, 0, 1, 0], [0.4, 0.4, 0.8, 0.1]), 3.5 / 4)

    def test_auc_matches_pairwise_count(self):
        y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]
        s = [0.3, 0.3, 0.9, 0.5, 0.5, 0.1, 0.3, 0.7, 0.2, 0.2]
        pos = [v for v, t in zip(s, y) if t]
        neg = [v for v, t in zip(s, y) if not t]
        pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
        self.assertAlmostEqual(evaluate.roc_auc(y, s), pairs / (len(pos) * len(neg)))

    def test_undefined_metrics_are_omitted(self):
        m = evaluate.compute_metrics([0, 0, 0], [0.1, 0.2, 0.3])
        self.assertEqual(m, {"accuracy": 1.0, "rows": 3, "positives": 0})
        self.assertIsNone(evaluate.roc_auc([1, 1], [0.2, 0.4]))

    def test_slice_metrics_order(self):
        groups = ["large", "small", "medium", "small", "other"]
        out = evaluate.slice_metrics(groups, [1, 0, 0, 1, 0], [0.9, 0.2, 0.3, 0.4, 0.6],
                                     order=["small", "medium", "large"])
        self.assertEqual(list(out), ["small", "medium", "large", "other"])
        self.assertEqual(out["small"]["rows"], 2)
        self.assertEqual(out["small"]["accuracy"], 0.5)


class EvaluateFilesTest(unittest.TestCase):
    def test_end_to_end_files(self):
        model = {"features": ["a", "b"], "means": [1.0, 0.0], "stds": [2.0, 1.0],
                 "weights": [3.0, -1.0], "bias": 0.5, "threshold": 0.5,
                 "labels": {"positive": "malignant", "negative": "benign"}}
        rows = [("3", "0", "malignant", "test", "small"), ("-3", "0", "benign", "test", "large"),
                ("0", "5", "malignant", "test", "small"), ("9", "9", "benign", "train", "small")]
        with tempfile.TemporaryDirectory() as d:
            data, mpath = os.path.join(d, "dataset.csv"), os.path.join(d, "model.json")
            with open(data, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["a", "b", "diagnosis", "split", "size_band"])
                w.writerows(rows)
            with open(mpath, "w") as f:
                json.dump(model, f)
            metrics, slices = evaluate.evaluate(data, mpath, d)
            self.assertEqual(metrics["rows"], 3)
            self.assertAlmostEqual(metrics["accuracy"], 2 / 3)
            with open(os.path.join(d, "metrics.json")) as f:
                self.assertEqual(json.load(f), metrics)
            with open(os.path.join(d, "slices.json")) as f:
                self.assertEqual(list(json.load(f)["size_band"]), ["small", "large"])
            with open(os.path.join(d, "parity.csv")) as f:
                self.assertEqual(f.read().splitlines(), ["a,b", "3,0", "-3,0", "0,5"])
            with open(os.path.join(d, "predictions.csv")) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[0], "row,probability,label")
            p0 = 1 / (1 + math.exp(-(0.5 + 3 * (3 - 1) / 2)))
            row, prob, label = lines[1].split(",")
            self.assertEqual((row, label), ("0", "malignant"))
            self.assertEqual(float(prob), p0)
            self.assertEqual(lines[3].split(",")[2], "benign")  # 0.5 + 3*(-0.5) - 5 < 0


if __name__ == "__main__":
    unittest.main()

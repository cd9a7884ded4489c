"""Unit tests for train (run in components/train: python3 -m unittest -q)."""

import contextlib
import csv
import io
import json
import math
import os
import random
import tempfile
import unittest
from unittest import mock

import train

FEATURES = ["f1", "f2", "f3"]


def synthetic(n=60, seed=1):
    """Rows of 3 features with very different scales; the label depends on f1 + f2."""
    rng = random.Random(seed)
    X, y = [], []
    for _ in range(n):
        a, b = rng.gauss(0, 1), rng.gauss(0, 1)
        X.append([1000.0 + 300.0 * a, 0.01 * b, rng.uniform(-5, 5)])
        y.append(1 if a + b + rng.gauss(0, 0.3) > 0 else 0)
    return X, y


def write_dataset(path, X, y, test_every=4):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FEATURES + ["diagnosis", "split", "size_band"])
        for i, (x, t) in enumerate(zip(X, y)):
            w.writerow(["%r" % v for v in x] + [("malignant" if t else "benign"),
                                                 ("test" if i % test_every == 0 else "train"), "small"])


class TrainTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name

    def run_main(self, *args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = train.main(list(args))
        return code, err.getvalue()

    def test_loss_decreases(self):
        X, y = synthetic()
        _, history = train.train(FEATURES, X, y, learning_rate=0.5, epochs=100)
        self.assertEqual(len(history), 100)
        self.assertAlmostEqual(history[0], math.log(2))  # zero weights: p = 0.5 everywhere
        for a, b in zip(history, history[1:]):
            self.assertLessEqual(b, a)
        self.assertLess(history[-1], 0.5 * history[0])

    def test_fits_training_data(self):
        X, y = synthetic(seed=3)
        model, _ = train.train(FEATURES, X, y, learning_rate=0.5, epochs=300)
        correct = 0
        for x, t in zip(X, y):
            z = [(v - m) / s for v, m, s in zip(x, model["means"], model["stds"])]
            logit = model["bias"] + sum(w * v for w, v in zip(model["weights"], z))
            correct += (logit >= 0) == bool(t)
        self.assertGreaterEqual(correct / len(X), 0.85)

    def test_standardisation(self):
        X = [[1.0, 10.0, 5.0], [3.0, 10.0, 7.0], [5.0, 10.0, 9.0]]
        means, stds = train.standardisation(X)
        self.assertEqual(means, [3.0, 10.0, 7.0])
        self.assertAlmostEqual(stds[0], math.sqrt(8 / 3))
        self.assertEqual(stds[1], 1.0)  # constant column: no division by zero
        Z = train.standardise(X, means, stds)
        for col in zip(*Z):
            self.assertAlmostEqual(sum(col) / len(col), 0.0)
        self.assertAlmostEqual(sum(v * v for v in list(zip(*Z))[0]) / 3, 1.0)

    def test_standardisation_uses_train_rows_only(self):
        X, y = synthetic(40)
        data = os.path.join(self.dir, "dataset.csv")
        write_dataset(data, X, y)
        self.assertEqual(self.run_main("--data", data, "--out", self.dir, "--epochs", "5")[0], 0)
        with open(os.path.join(self.dir, "model.json")) as f:
            model = json.load(f)
        train_rows = [x for i, x in enumerate(X) if i % 4 != 0]
        self.assertEqual(model["train_rows"], len(train_rows))
        self.assertEqual(model["means"][0], math.fsum(r[0] for r in train_rows) / len(train_rows))

    def test_model_json_and_history(self):
        X, y = synthetic()
        data = os.path.join(self.dir, "dataset.csv")
        write_dataset(data, X, y)
        code, err = self.run_main("--data", data, "--out", self.dir,
                                  "--learning-rate", "0.2", "--epochs", "25")
        self.assertEqual(code, 0, err)
        with open(os.path.join(self.dir, "model.json")) as f:
            model = json.load(f)
        self.assertEqual(model["features"], FEATURES)
        for key in ("means", "stds", "weights"):
            self.assertEqual(len(model[key]), 3)
            self.assertTrue(all(isinstance(v, float) and math.isfinite(v) for v in model[key]))
        self.assertIsInstance(model["bias"], float)
        self.assertEqual(model["labels"], {"positive": "malignant", "negative": "benign"})
        self.assertEqual(model["threshold"], 0.5)
        self.assertEqual(model["params"], {"learning_rate": 0.2, "epochs": 25, "l2": 0.0})
        with open(os.path.join(self.dir, "history.csv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "epoch,loss")
        self.assertEqual(len(lines), 26)
        self.assertEqual([int(l.split(",")[0]) for l in lines[1:]], list(range(1, 26)))

    def test_params_from_environment(self):
        X, y = synthetic()
        data = os.path.join(self.dir, "dataset.csv")
        write_dataset(data, X, y)
        env = {"MLCI_PARAM_LEARNING_RATE": "0.05", "MLCI_PARAM_EPOCHS": "7", "MLCI_PARAM_L2": "0.01"}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            self.assertEqual(self.run_main("--data", data, "--out", self.dir)[0], 0)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with open(os.path.join(self.dir, "model.json")) as f:
            self.assertEqual(json.load(f)["params"], {"learning_rate": 0.05, "epochs": 7, "l2": 0.01})

    def test_l2_shrinks_weights(self):
        X, y = synthetic()
        plain, _ = train.train(FEATURES, X, y, 0.5, 200)
        ridge, _ = train.train(FEATURES, X, y, 0.5, 200, l2=0.5)
        norm = lambda m: math.fsum(w * w for w in m["weights"])
        self.assertLess(norm(ridge), norm(plain))

    def test_deterministic(self):
        X, y = synthetic()
        self.assertEqual(train.train(FEATURES, X, y, 0.1, 30), train.train(FEATURES, X, y, 0.1, 30))

    def test_nan_loss_is_refused(self):
        # Unstandardised huge values and a huge step overflow the weights: loss becomes NaN.
        Z = [[1e300, -1e300], [-1e300, 1e300]]
        with self.assertRaises(train.TrainError) as ctx:
            train.fit(Z, [1, 0], learning_rate=1e10, epochs=5)
        self.assertIn("at epoch 2", str(ctx.exception))

    def test_nan_loss_fails_the_step(self):
        X, y = synthetic()
        data = os.path.join(self.dir, "dataset.csv")
        write_dataset(data, X, y)
        with mock.patch.object(train, "bce_from_logit", return_value=float("nan")):
            code, err = self.run_main("--data", data, "--out", self.dir)
        self.assertEqual(code, 1)
        self.assertIn("loss is nan at epoch 1", err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "model.json")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "history.csv")))

    def test_bad_params_are_refused(self):
        X, y = synthetic()
        data = os.path.join(self.dir, "dataset.csv")
        write_dataset(data, X, y)
        for args in (["--epochs", "0"], ["--epochs", "ten"], ["--learning-rate", "-1"]):
            code, _ = self.run_main("--data", data, "--out", self.dir, *args)
            self.assertEqual(code, 1, args)


if __name__ == "__main__":
    unittest.main()

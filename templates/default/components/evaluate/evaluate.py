"""Evaluate: score the trained model on the test split, overall and per slice.

Writes, into --out:
  metrics.json     {"accuracy", "precision", "recall", "f1", "roc_auc", "rows", "positives"}
  slices.json      {"size_band": {"small": {...same keys...}, "medium": {...}, "large": {...}}}
  parity.csv       the test rows' feature columns (model feature order, values as in dataset.csv)
  predictions.csv  row,probability,label -- row is the 0-based data row of parity.csv
parity.csv and predictions.csv let a later check send the same rows to the
serving API and compare its answers with these.

A metric whose denominator is zero (precision with no predicted positives,
recall with no actual positives, AUC on a one-class slice) is left out of its
object rather than reported as 0 or null.

Usage (as mlci runs it, from the repo root):
    python3 components/evaluate/evaluate.py --data "$MLCI_IN_INGEST/dataset.csv" \
        --model "$MLCI_IN_TRAIN/model.json" --out "$MLCI_OUT"
"""

import argparse
import csv
import json
import math
import operator
import os
import sys
import tempfile

LABEL = "diagnosis"
SPLIT = "test"
SLICE_ORDER = {"size_band": ["small", "medium", "large"]}


class EvaluateError(Exception):
    """Bad input; the message is shown to the user."""


# ---------------------------------------------------------------- model ----

def load_model(path):
    """Read and check model.json at `path`; returns the dict."""
    try:
        with open(path, encoding="utf-8") as f:
            model = json.load(f)
    except OSError as e:
        raise EvaluateError("could not open '%s' for reading: %s" % (path, e.strerror))
    except ValueError as e:
        raise EvaluateError("%s: not valid JSON: %s" % (path, e))
    for key in ("features", "means", "stds", "weights", "bias", "labels", "threshold"):
        if key not in model:
            raise EvaluateError("%s: missing key '%s'" % (path, key))
    d = len(model["features"])
    for key in ("means", "stds", "weights"):
        if len(model[key]) != d:
            raise EvaluateError("%s: '%s' has %d entries, expected %d"
                                % (path, key, len(model[key]), d))
    return model


def predict_proba(model, x):
    """Probability of the positive label for one raw feature row `x`.

    Must stay identical to serving/serve.py:Model.predict_proba (same order of
    operations), so that evaluation and serving agree to the last bit.
    """
    z = [(v - m) / s for v, m, s in zip(x, model["means"], model["stds"])]
    t = model["bias"] + sum(map(operator.mul, model["weights"], z))
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


# -------------------------------------------------------------- metrics ----

def confusion(y_true, y_pred):
    """(tp, fp, tn, fn) for 0/1 sequences `y_true` and `y_pred`."""
    tp = fp = tn = fn = 0
    for t, p in zip(y_true, y_pred):
        if p:
            if t:
                tp += 1
            else:
                fp += 1
        elif t:
            fn += 1
        else:
            tn += 1
    return tp, fp, tn, fn


def roc_auc(y_true, scores):
    """Area under the ROC curve from ranks (Mann-Whitney U), ties get average ranks.

    Returns None when `y_true` has only one class (AUC undefined).
    """
    n_pos = sum(1 for t in y_true if t)
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1.0  # ranks are 1-based
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        i = j + 1
    pos_rank_sum = math.fsum(r for r, t in zip(ranks, y_true) if t)
    return (pos_rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def compute_metrics(y_true, scores, threshold=0.5):
    """Metrics dict for 0/1 labels `y_true` and positive-class `scores`.

    Keys: accuracy, precision, recall, f1, roc_auc, rows, positives; a metric
    with a zero denominator is omitted.
    """
    y_pred = [1 if s >= threshold else 0 for s in scores]
    tp, fp, tn, fn = confusion(y_true, y_pred)
    n = len(y_true)
    m = {}
    if n:
        m["accuracy"] = (tp + tn) / n
    if tp + fp:
        m["precision"] = tp / (tp + fp)
    if tp + fn:
        m["recall"] = tp / (tp + fn)
    if 2 * tp + fp + fn:
        m["f1"] = 2 * tp / (2 * tp + fp + fn)
    auc = roc_auc(y_true, scores)
    if auc is not None:
        m["roc_auc"] = auc
    m["rows"] = n
    m["positives"] = tp + fn
    return m


def slice_metrics(groups, y_true, scores, threshold=0.5, order=None):
    """Per-value metrics: `groups` is parallel to `y_true`/`scores`.

    Returns {value: metrics} in `order` (values not seen are skipped), then any
    other values sorted.
    """
    values = [v for v in (order or []) if v in set(groups)]
    values += sorted(set(groups) - set(values))
    out = {}
    for v in values:
        idx = [i for i, g in enumerate(groups) if g == v]
        out[v] = compute_metrics([y_true[i] for i in idx], [scores[i] for i in idx], threshold)
    return out


# ------------------------------------------------------------------- io ----

def load_test_rows(path, features, slice_columns):
    """Rows of `path` with split == test: list of dicts (original text)."""
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise EvaluateError("could not open '%s' for reading: %s" % (path, e.strerror))
    with f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in list(features) + [LABEL, "split"] + list(slice_columns)
                   if c not in header]
        if missing:
            raise EvaluateError("%s: missing columns: %s" % (path, ", ".join(missing)))
        rows = [r for r in reader if r["split"] == SPLIT]
    if not rows:
        raise EvaluateError("%s: no rows with split=%s" % (path, SPLIT))
    return rows


def _write_atomic(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp.", dir=directory)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; outputs are ordinary files
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_json(path, obj):
    def write(f):
        json.dump(obj, f, indent=2, allow_nan=False)
        f.write("\n")
    _write_atomic(path, write)


def evaluate(data_path, model_path, out_dir, slice_columns=("size_band",)):
    """Run the evaluation and write the four output files; returns (metrics, slices)."""
    if not os.path.isdir(out_dir):
        raise EvaluateError("output directory '%s' does not exist" % out_dir)
    model = load_model(model_path)
    features = model["features"]
    positive = model["labels"]["positive"]
    negative = model["labels"].get("negative", "")
    threshold = model["threshold"]
    rows = load_test_rows(data_path, features, slice_columns)

    scores, y_true = [], []
    for line, r in enumerate(rows, 1):
        try:
            x = [float(r[c]) for c in features]
        except ValueError:
            raise EvaluateError("%s: test row %d: non-numeric feature value" % (data_path, line))
        scores.append(predict_proba(model, x))
        y_true.append(1 if r[LABEL] == positive else 0)

    metrics = compute_metrics(y_true, scores, threshold)
    slices = {}
    for col in slice_columns:
        slices[col] = slice_metrics([r[col] for r in rows], y_true, scores, threshold,
                                    SLICE_ORDER.get(col))

    _write_json(os.path.join(out_dir, "metrics.json"), metrics)
    _write_json(os.path.join(out_dir, "slices.json"), slices)

    def write_parity(f):
        w = csv.writer(f, lineterminator="\n")
        w.writerow(features)
        for r in rows:
            w.writerow([r[c] for c in features])

    def write_predictions(f):
        f.write("row,probability,label\n")
        for i, s in enumerate(scores):
            f.write("%d,%r,%s\n" % (i, s, positive if s >= threshold else negative))

    _write_atomic(os.path.join(out_dir, "parity.csv"), write_parity)
    _write_atomic(os.path.join(out_dir, "predictions.csv"), write_predictions)
    return metrics, slices


def _fmt(m):
    keys = ("accuracy", "precision", "recall", "f1", "roc_auc")
    return " ".join("%s %.4f" % (k, m[k]) if k in m else "%s -" % k for k in keys) \
        + " (%d rows, %d positive)" % (m["rows"], m["positives"])


def main(argv=None):
    p = argparse.ArgumentParser(description="Evaluate the model on the test split.")
    p.add_argument("--data", required=True, help="ingest's dataset.csv")
    p.add_argument("--model", required=True, help="train's model.json")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--slice", action="append", dest="slices",
                   help="categorical column to slice by (repeatable; default size_band)")
    args = p.parse_args(argv)
    try:
        metrics, slices = evaluate(args.data, args.model, args.out, args.slices or ["size_band"])
    except EvaluateError as e:
        print("evaluate: error: %s" % e, file=sys.stderr)
        return 1
    print("evaluate: test: " + _fmt(metrics))
    for col, groups in slices.items():
        for value, m in groups.items():
            print("evaluate: %s=%s: %s" % (col, value, _fmt(m)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

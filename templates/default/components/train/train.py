"""Train: logistic regression by full-batch gradient descent on the train split.

Reads dataset.csv from ingest, standardises the features with the mean and
standard deviation of the train rows only, fits weights and bias by full-batch
gradient descent on the mean binary cross-entropy (+ optional L2), and writes
model.json and history.csv.  Standard library only; fully deterministic (zero
initialisation, no sampling).

Usage (as mlci runs it, from components/train):
    python3 train.py --data "$MLCI_IN_INGEST/dataset.csv" --out "$MLCI_OUT"

Hyper-parameters: --learning-rate / $MLCI_PARAM_LEARNING_RATE (0.1),
--epochs / $MLCI_PARAM_EPOCHS (300), --l2 / $MLCI_PARAM_L2 (0).
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
NON_FEATURES = (LABEL, "split", "size_band")
POSITIVE = "malignant"
NEGATIVE = "benign"
THRESHOLD = 0.5
MODEL_FORMAT = "mlci-logistic-regression/1"


class TrainError(Exception):
    """Bad input or a diverged fit; the message is shown to the user."""


def load_train_rows(path):
    """Read `path` (ingest's dataset.csv) and return (features, X, y) for split == train.

    `features` are all columns except diagnosis/split/size_band, in file order;
    X is a list of float rows, y a list of 0/1 (1 = malignant).
    """
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise TrainError("could not open '%s' for reading: %s" % (path, e.strerror))
    with f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for col in (LABEL, "split"):
            if col not in header:
                raise TrainError("%s: missing column '%s'" % (path, col))
        features = [c for c in header if c not in NON_FEATURES]
        if not features:
            raise TrainError("%s: no feature columns" % path)
        X, y = [], []
        for row in reader:
            if row["split"] != "train":
                continue
            try:
                x = [float(row[c]) for c in features]
            except (TypeError, ValueError):
                raise TrainError("%s:%d: non-numeric feature value" % (path, reader.line_num))
            if not all(math.isfinite(v) for v in x):
                raise TrainError("%s:%d: non-finite feature value" % (path, reader.line_num))
            if row[LABEL] not in (POSITIVE, NEGATIVE):
                raise TrainError("%s:%d: unknown label '%s'" % (path, reader.line_num, row[LABEL]))
            X.append(x)
            y.append(1 if row[LABEL] == POSITIVE else 0)
    if not X:
        raise TrainError("%s: no rows with split=train" % path)
    return features, X, y


def standardisation(X):
    """Per-column mean and population standard deviation of the rows `X`.

    A constant column gets std 1.0 so that standardising never divides by zero.
    """
    n = len(X)
    cols = list(zip(*X))
    means = [math.fsum(c) / n for c in cols]
    stds = []
    for c, m in zip(cols, means):
        s = math.sqrt(math.fsum((v - m) ** 2 for v in c) / n)
        stds.append(s if s > 0.0 else 1.0)
    return means, stds


def standardise(X, means, stds):
    return [[(v - m) / s for v, m, s in zip(x, means, stds)] for x in X]


def sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def bce_from_logit(z, y):
    """Binary cross-entropy of label `y` (0/1) at logit `z`, stable for large |z|."""
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def fit(Z, y, learning_rate, epochs, l2=0.0):
    """Full-batch gradient descent on standardised rows `Z` with labels `y`.

    Loss = mean BCE + l2/2 * |w|^2 (the bias is not penalised).  Weights and
    bias start at zero.  Returns (weights, bias, history) where history[e] is
    the loss at the start of epoch e+1, i.e. before that epoch's update.
    Raises TrainError as soon as the loss is NaN or infinite.
    """
    n, d = len(Z), len(Z[0])
    cols = [list(c) for c in zip(*Z)]
    w = [0.0] * d
    b = 0.0
    mul = operator.mul
    history = []
    for epoch in range(1, epochs + 1):
        logits = [b + sum(map(mul, w, z)) for z in Z]
        loss = math.fsum(bce_from_logit(t, yi) for t, yi in zip(logits, y)) / n
        if l2:
            loss += 0.5 * l2 * math.fsum(wj * wj for wj in w)
        if not math.isfinite(loss):
            raise TrainError("loss is %r at epoch %d (learning rate %g too high?)"
                             % (loss, epoch, learning_rate))
        history.append(loss)
        err = [sigmoid(t) - yi for t, yi in zip(logits, y)]
        grad_w = [sum(map(mul, err, c)) / n + l2 * wj for c, wj in zip(cols, w)]
        grad_b = sum(err) / n
        w = [wj - learning_rate * g for wj, g in zip(w, grad_w)]
        b -= learning_rate * grad_b
    if not all(math.isfinite(v) for v in w + [b]):
        raise TrainError("weights are not finite after %d epochs" % epochs)
    return w, b, history


def train(features, X, y, learning_rate, epochs, l2=0.0):
    """Fit a model on raw rows `X`; returns (model dict, history list)."""
    means, stds = standardisation(X)
    w, b, history = fit(standardise(X, means, stds), y, learning_rate, epochs, l2)
    model = {
        "format": MODEL_FORMAT,
        "features": list(features),
        "means": means,
        "stds": stds,
        "weights": w,
        "bias": b,
        "labels": {"positive": POSITIVE, "negative": NEGATIVE},
        "threshold": THRESHOLD,
        "params": {"learning_rate": learning_rate, "epochs": epochs, "l2": l2},
        "train_rows": len(X),
        "final_loss": history[-1],
    }
    return model, history


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


def write_outputs(out_dir, model, history):
    if not os.path.isdir(out_dir):
        raise TrainError("output directory '%s' does not exist" % out_dir)

    def write_model(f):
        json.dump(model, f, indent=2, allow_nan=False)
        f.write("\n")

    def write_history(f):
        f.write("epoch,loss\n")
        for i, loss in enumerate(history, 1):
            f.write("%d,%r\n" % (i, loss))

    _write_atomic(os.path.join(out_dir, "model.json"), write_model)
    _write_atomic(os.path.join(out_dir, "history.csv"), write_history)


def _param(flag_value, env_name, default, convert, what):
    if flag_value is not None:
        text = flag_value
    else:
        text = os.environ.get(env_name, "")
        if text == "":
            return default
    try:
        return convert(text)
    except ValueError:
        raise TrainError("%s must be a number, got '%s'" % (what, text))


def main(argv=None):
    p = argparse.ArgumentParser(description="Train a logistic regression on the train split.")
    p.add_argument("--data", required=True, help="ingest's dataset.csv")
    p.add_argument("--out", required=True, help="output directory for model.json and history.csv")
    p.add_argument("--learning-rate", help="default: $MLCI_PARAM_LEARNING_RATE, else 0.1")
    p.add_argument("--epochs", help="default: $MLCI_PARAM_EPOCHS, else 300")
    p.add_argument("--l2", help="L2 penalty; default: $MLCI_PARAM_L2, else 0")
    args = p.parse_args(argv)
    try:
        lr = _param(args.learning_rate, "MLCI_PARAM_LEARNING_RATE", 0.1, float, "learning rate")
        epochs = _param(args.epochs, "MLCI_PARAM_EPOCHS", 300, int, "epochs")
        l2 = _param(args.l2, "MLCI_PARAM_L2", 0.0, float, "l2")
        if not (math.isfinite(lr) and lr > 0.0):
            raise TrainError("learning rate must be positive, got %g" % lr)
        if epochs < 1:
            raise TrainError("epochs must be at least 1, got %d" % epochs)
        if not (math.isfinite(l2) and l2 >= 0.0):
            raise TrainError("l2 must be >= 0, got %g" % l2)
        features, X, y = load_train_rows(args.data)
        model, history = train(features, X, y, lr, epochs, l2)
        write_outputs(args.out, model, history)
    except TrainError as e:
        print("train: error: %s" % e, file=sys.stderr)
        return 1
    print("train: %d rows, %d features, lr %g, %d epochs, l2 %g: loss %.4f -> %.4f"
          % (len(X), len(features), lr, epochs, l2, history[0], history[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

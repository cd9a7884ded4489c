"""Ingest: validate the raw breast-cancer CSV and write the pipeline's dataset.

Reads the raw data (30 numeric features + `diagnosis`), checks it, and writes one
CSV with the same columns plus a stratified `split` column (train/test) and a
`size_band` slice column (small/medium/large, tertiles of mean_area over the
whole data).  Standard library only; deterministic for a given seed.

Usage (as mlci runs it, from components/ingest):
    python3 main.py --src ../../data/breast_cancer.csv --out "$MLCI_OUT/dataset.csv"

The seed comes from --seed, else $MLCI_PARAM_SEED, else 42.
"""

import argparse
import csv
import math
import os
import random
import statistics
import sys
import tempfile

FEATURES = [
    "mean_radius", "mean_texture", "mean_perimeter", "mean_area",
    "mean_smoothness", "mean_compactness", "mean_concavity",
    "mean_concave_points", "mean_symmetry", "mean_fractal_dimension",
    "se_radius", "se_texture", "se_perimeter", "se_area", "se_smoothness",
    "se_compactness", "se_concavity", "se_concave_points", "se_symmetry",
    "se_fractal_dimension",
    "worst_radius", "worst_texture", "worst_perimeter", "worst_area",
    "worst_smoothness", "worst_compactness", "worst_concavity",
    "worst_concave_points", "worst_symmetry", "worst_fractal_dimension",
]
LABEL = "diagnosis"
LABELS = ("benign", "malignant")
BAND_FEATURE = "mean_area"
BANDS = ("small", "medium", "large")
OUTPUT_COLUMNS = FEATURES + [LABEL, "split", "size_band"]
DEFAULT_SEED = 42
DEFAULT_TEST_FRACTION = 0.2


class IngestError(Exception):
    """Bad input data or arguments; the message is shown to the user."""


def read_rows(path):
    """Read and validate the raw CSV at `path`.

    Returns a list of dicts {column: original text} in file order, with the
    features checked to be finite numbers and the label one of LABELS.
    Raises IngestError naming file:line and column for the first problem.
    """
    name = os.path.basename(path)
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise IngestError("could not open '%s' for reading: %s" % (path, e.strerror))
    with f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise IngestError("%s: file is empty (expected a header line)" % name)
        except csv.Error as e:
            raise IngestError("%s:1: malformed CSV: %s" % (name, e))
        header = [h.strip() for h in header]
        if all(_is_number(h) for h in header if h):
            raise IngestError("%s:1: no header line (first line is all numbers)" % name)
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise IngestError("%s:1: duplicate columns: %s" % (name, ", ".join(dupes)))
        expected = FEATURES + [LABEL]
        missing = [c for c in expected if c not in header]
        unexpected = [c for c in header if c not in expected]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append("missing columns: " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected columns: " + ", ".join(unexpected))
            raise IngestError("%s:1: bad header: %s" % (name, "; ".join(parts)))

        rows = []
        try:
            for fields in reader:
                line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                if len(fields) != len(header):
                    raise IngestError("%s:%d: expected %d fields, found %d"
                                      % (name, line, len(header), len(fields)))
                row = {h: v.strip() for h, v in zip(header, fields)}
                for col in FEATURES:
                    if not _is_number(row[col]):
                        raise IngestError("%s:%d: column '%s': '%s' is not a finite number"
                                          % (name, line, col, row[col]))
                if row[LABEL] not in LABELS:
                    raise IngestError("%s:%d: column '%s': unknown label '%s' (expected one of: %s)"
                                      % (name, line, LABEL, row[LABEL], ", ".join(LABELS)))
                rows.append(row)
        except csv.Error as e:
            raise IngestError("%s:%d: malformed CSV: %s" % (name, reader.line_num, e))
    if not rows:
        raise IngestError("%s: no data rows" % name)
    for label in LABELS:
        n = sum(1 for r in rows if r[LABEL] == label)
        if n < 2:
            raise IngestError("%s: label '%s' has %d rows; a stratified split needs at least 2"
                              % (name, label, n))
    return rows


def _is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def stratified_split(labels, test_fraction, seed):
    """Assign "train" or "test" to each entry of `labels`, stratified by label.

    Within each label (in sorted order) the row indices are shuffled with one
    random.Random(`seed`) and the first round(n * `test_fraction`) go to test,
    keeping at least one row of each label on each side.  Returns a list of
    "train"/"test" strings parallel to `labels`.
    """
    rng = random.Random(seed)
    split = ["train"] * len(labels)
    for label in sorted(set(labels)):
        idx = [i for i, l in enumerate(labels) if l == label]
        rng.shuffle(idx)
        n_test = int(len(idx) * test_fraction + 0.5)
        n_test = min(max(n_test, 1), len(idx) - 1)
        for i in idx[:n_test]:
            split[i] = "test"
    return split


def band_cuts(values):
    """Tertile cut points (1/3 and 2/3 quantiles, linear interpolation) of `values`."""
    q1, q2 = statistics.quantiles(values, n=3, method="inclusive")
    return q1, q2


def size_band(value, cuts):
    """Band of `value` given tertile `cuts`: small <= q1 < medium <= q2 < large."""
    if value <= cuts[0]:
        return "small"
    if value <= cuts[1]:
        return "medium"
    return "large"


def build_dataset(rows, seed=DEFAULT_SEED, test_fraction=DEFAULT_TEST_FRACTION):
    """Return (output rows, cuts): `rows` plus split and size_band columns."""
    split = stratified_split([r[LABEL] for r in rows], test_fraction, seed)
    cuts = band_cuts([float(r[BAND_FEATURE]) for r in rows])
    out = []
    for row, s in zip(rows, split):
        o = {c: row[c] for c in FEATURES + [LABEL]}
        o["split"] = s
        o["size_band"] = size_band(float(row[BAND_FEATURE]), cuts)
        out.append(o)
    return out, cuts


def write_csv(path, rows):
    """Write `rows` to `path` atomically (temporary file in the same directory, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise IngestError("output directory '%s' does not exist" % directory)
    fd, tmp = tempfile.mkstemp(prefix=".dataset.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; outputs are ordinary files
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def parse_seed(args):
    text = args.seed if args.seed is not None else os.environ.get("MLCI_PARAM_SEED", "")
    if text == "":
        return DEFAULT_SEED
    try:
        return int(text)
    except ValueError:
        raise IngestError("seed must be an integer, got '%s'" % text)


def main(argv=None):
    p = argparse.ArgumentParser(description="Validate the raw data and write dataset.csv with split and size_band columns.")
    p.add_argument("--src", required=True, help="raw CSV (30 features + diagnosis)")
    p.add_argument("--out", required=True, help="output CSV path")
    p.add_argument("--seed", help="split seed (default: $MLCI_PARAM_SEED, else 42)")
    p.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION,
                   help="fraction of each label held out for test (default 0.2)")
    args = p.parse_args(argv)
    try:
        if not 0.0 < args.test_fraction < 1.0:
            raise IngestError("--test-fraction must be between 0 and 1, got %g" % args.test_fraction)
        seed = parse_seed(args)
        rows = read_rows(args.src)
        out, cuts = build_dataset(rows, seed, args.test_fraction)
        write_csv(args.out, out)
    except IngestError as e:
        print("ingest: error: %s" % e, file=sys.stderr)
        return 1
    n_test = sum(1 for r in out if r["split"] == "test")
    bands = {b: sum(1 for r in out if r["size_band"] == b) for b in BANDS}
    print("ingest: %d rows (%d train, %d test, seed %d); size_band cuts on %s: %.4g / %.4g "
          "(small %d, medium %d, large %d) -> %s"
          % (len(out), len(out) - n_test, n_test, seed, BAND_FEATURE, cuts[0], cuts[1],
             bands["small"], bands["medium"], bands["large"], args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

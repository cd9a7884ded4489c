"""Unit tests for ingest (run in components/ingest: python3 -m unittest -q)."""

import contextlib
import csv
import io
import os
import random
import tempfile
import unittest

import main

RAW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "breast_cancer.csv")


def synthetic_rows(n_benign=50, n_malignant=30, seed=0):
    """Raw rows as read_rows returns them: dicts of text."""
    rng = random.Random(seed)
    rows = []
    for label, n in (("benign", n_benign), ("malignant", n_malignant)):
        for _ in range(n):
            row = {f: "%.4f" % rng.uniform(0.01, 100.0) for f in main.FEATURES}
            row[main.LABEL] = label
            rows.append(row)
    rng.shuffle(rows)
    return rows


def write_raw(path, rows, header=None):
    header = header or main.FEATURES + [main.LABEL]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])


class IngestTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name

    def run_main(self, *args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main.main(list(args))
        return code, err.getvalue()

    def test_split_is_stratified(self):
        rows = synthetic_rows(100, 60)
        out, _ = main.build_dataset(rows, seed=42, test_fraction=0.2)
        for label, n in (("benign", 100), ("malignant", 60)):
            test = [r for r in out if r[main.LABEL] == label and r["split"] == "test"]
            self.assertEqual(len(test), round(n * 0.2))
        self.assertEqual({r["split"] for r in out}, {"train", "test"})

    def test_split_keeps_one_of_each_label_on_each_side(self):
        split = main.stratified_split(["a", "a", "b", "b", "b"], 0.01, 1)
        for label_idx in ((0, 1), (2, 3, 4)):
            sides = {split[i] for i in label_idx}
            self.assertEqual(sides, {"train", "test"})

    def test_split_is_deterministic_and_seeded(self):
        labels = [r[main.LABEL] for r in synthetic_rows()]
        a = main.stratified_split(labels, 0.2, 42)
        self.assertEqual(a, main.stratified_split(labels, 0.2, 42))
        self.assertNotEqual(a, main.stratified_split(labels, 0.2, 7))

    def test_output_file_is_deterministic(self):
        src = os.path.join(self.dir, "raw.csv")
        write_raw(src, synthetic_rows())
        out1, out2 = os.path.join(self.dir, "a.csv"), os.path.join(self.dir, "b.csv")
        self.assertEqual(self.run_main("--src", src, "--out", out1, "--seed", "3")[0], 0)
        self.assertEqual(self.run_main("--src", src, "--out", out2, "--seed", "3")[0], 0)
        with open(out1, "rb") as f1, open(out2, "rb") as f2:
            self.assertEqual(f1.read(), f2.read())

    def test_seed_from_environment(self):
        src = os.path.join(self.dir, "raw.csv")
        write_raw(src, synthetic_rows())
        out_env, out_flag = os.path.join(self.dir, "env.csv"), os.path.join(self.dir, "flag.csv")
        old = os.environ.get("MLCI_PARAM_SEED")
        os.environ["MLCI_PARAM_SEED"] = "11"
        try:
            self.assertEqual(self.run_main("--src", src, "--out", out_env)[0], 0)
        finally:
            if old is None:
                del os.environ["MLCI_PARAM_SEED"]
            else:
                os.environ["MLCI_PARAM_SEED"] = old
        self.assertEqual(self.run_main("--src", src, "--out", out_flag, "--seed", "11")[0], 0)
        with open(out_env) as a, open(out_flag) as b:
            self.assertEqual(a.read(), b.read())

    def test_size_band_tertiles(self):
        values = [float(v) for v in range(1, 10)]  # 1..9
        cuts = main.band_cuts(values)
        self.assertAlmostEqual(cuts[0], 11 / 3)
        self.assertAlmostEqual(cuts[1], 19 / 3)
        bands = [main.size_band(v, cuts) for v in values]
        self.assertEqual(bands, ["small"] * 3 + ["medium"] * 3 + ["large"] * 3)

    def test_size_band_column(self):
        rows = synthetic_rows(90, 60)
        out, cuts = main.build_dataset(rows)
        counts = {b: 0 for b in main.BANDS}
        for r in out:
            area = float(r["mean_area"])
            self.assertEqual(r["size_band"], main.size_band(area, cuts))
            counts[r["size_band"]] += 1
        self.assertEqual(sum(counts.values()), 150)
        for n in counts.values():
            self.assertAlmostEqual(n, 50, delta=1)

    def test_output_columns_and_values_kept(self):
        src, out = os.path.join(self.dir, "raw.csv"), os.path.join(self.dir, "out.csv")
        rows = synthetic_rows(10, 10)
        write_raw(src, rows)
        self.assertEqual(self.run_main("--src", src, "--out", out)[0], 0)
        with open(out, newline="") as f:
            reader = csv.DictReader(f)
            self.assertEqual(reader.fieldnames, main.OUTPUT_COLUMNS)
            got = list(reader)
        self.assertEqual([r["mean_area"] for r in got], [r["mean_area"] for r in rows])
        self.assertEqual([r["diagnosis"] for r in got], [r["diagnosis"] for r in rows])

    def assert_rejected(self, content, fragment):
        src, out = os.path.join(self.dir, "raw.csv"), os.path.join(self.dir, "out.csv")
        with open(src, "w", newline="") as f:
            f.write(content)
        code, err = self.run_main("--src", src, "--out", out)
        self.assertNotEqual(code, 0)
        self.assertIn(fragment, err)
        self.assertFalse(os.path.exists(out), "no output on bad input")

    def good_text(self, rows=None):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        header = main.FEATURES + [main.LABEL]
        w.writerow(header)
        for r in rows or synthetic_rows(5, 5):
            w.writerow([r[h] for h in header])
        return buf.getvalue()

    def test_rejects_missing_header(self):
        text = self.good_text()
        self.assert_rejected(text.split("\n", 1)[1].replace("benign", "1").replace("malignant", "0"),
                             "no header")

    def test_rejects_empty_file(self):
        self.assert_rejected("", "empty")

    def test_rejects_missing_column(self):
        text = self.good_text().replace("mean_area", "mean_areaa", 1)
        self.assert_rejected(text, "missing columns: mean_area")

    def test_rejects_non_numeric_feature(self):
        rows = synthetic_rows(5, 5)
        rows[3]["se_texture"] = "abc"
        self.assert_rejected(self.good_text(rows), "raw.csv:5: column 'se_texture': 'abc'")

    def test_rejects_nan_feature(self):
        rows = synthetic_rows(5, 5)
        rows[0]["mean_radius"] = "nan"
        self.assert_rejected(self.good_text(rows), "not a finite number")

    def test_rejects_unknown_label(self):
        rows = synthetic_rows(5, 5)
        rows[1]["diagnosis"] = "maybe"
        self.assert_rejected(self.good_text(rows), "unknown label 'maybe'")

    def test_rejects_short_row(self):
        text = self.good_text() + "1,2,3\n"
        self.assert_rejected(text, "expected 31 fields, found 3")

    def test_rejects_single_class(self):
        self.assert_rejected(self.good_text(synthetic_rows(6, 0)), "label 'malignant' has 0 rows")

    def test_rejects_missing_file(self):
        code, err = self.run_main("--src", os.path.join(self.dir, "nope.csv"),
                                  "--out", os.path.join(self.dir, "out.csv"))
        self.assertEqual(code, 1)
        self.assertIn("could not open", err)

    def test_rejects_bad_seed(self):
        src = os.path.join(self.dir, "raw.csv")
        write_raw(src, synthetic_rows())
        code, err = self.run_main("--src", src, "--out", os.path.join(self.dir, "o.csv"), "--seed", "x")
        self.assertEqual(code, 1)
        self.assertIn("seed must be an integer", err)

    @unittest.skipUnless(os.path.exists(RAW), "repository data not present")
    def test_real_data(self):
        rows = main.read_rows(RAW)
        self.assertEqual(len(rows), 569)
        out, _ = main.build_dataset(rows, seed=42)
        test = [r for r in out if r["split"] == "test"]
        self.assertEqual(len(test), 113)  # round(357 * .2) + round(212 * .2)


if __name__ == "__main__":
    unittest.main()

#!/bin/sh
# t0100-template.sh - `mlci init` writes the example pipeline and `mlci run` carries it through CI and the
# DAG for real (Python components on the Breast Cancer data): the newcomer's path, end to end.
. "$(dirname "$0")/lib.sh"

jq_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

test_expect_success 'mlci init writes a committed repo and prints the next commands' '
	mlci init pipe >out &&
	test_grep "Created pipeline repo pipe" out &&
	test_grep "mlci run" out &&
	test "$(git -C pipe rev-list --count HEAD)" = 1 &&
	test "$(git -C pipe symbolic-ref --short HEAD)" = main &&
	test -z "$(git -C pipe status --porcelain)" &&
	test -x pipe/scripts/deploy.sh &&
	cmp pipe/data/breast_cancer.csv "$TOP/templates/default/data/breast_cancer.csv"
'

test_expect_success 'mlci init refuses a non-empty directory with exit 2' '
	test_must_fail 2 mlci init pipe 2>err &&
	test_grep "is not empty" err
'

test_expect_success 'the template spec validates' '
	(cd pipe && mlci validate >../out) &&
	test_grep "mlci.yaml: ok (pipeline breast-cancer, 3 components, 3 environments)" out
'

test_expect_success 'mlci run passes on the template and the model reaches accuracy >= 0.93' '
	(cd pipe && mlci run -o json >../run.json 2>../err) &&
	test "$(jq_get run.json "d[\"status\"]")" = passed &&
	out=$(jq_get run.json "d[\"outputs\"]") &&
	test -s "$out/ingest/dataset.csv" &&
	test -s "$out/train/model.json" &&
	test "$(wc -l <"$out/train/history.csv")" -gt 100 &&
	python3 -c "
import json,sys
m=json.load(open(sys.argv[1]+\"/evaluate/metrics.json\"))
assert m[\"accuracy\"] >= 0.93, m
s=json.load(open(sys.argv[1]+\"/evaluate/slices.json\"))
assert set(s[\"size_band\"]) == {\"small\",\"medium\",\"large\"}, s
" "$out"
'

test_expect_success 'the CI phase ran every component'"'"'s unit tests' '
	logs=$(jq_get run.json "d[\"logs\"]") &&
	for c in ingest train evaluate; do test_grep "$c test" "$logs/$c.log" || exit 1; done &&
	test_grep "^OK" "$logs/ingest.log" &&
	test "$(jq_get run.json "[s[\"phase\"] for s in d[\"steps\"]].count(\"test\")")" = 3
'

test_expect_success 'a broken unit test in a component fails the run in the CI phase and names it' '
	(cd pipe && git switch -q -c dev/broken &&
	 sed -i "s/def test_/def test_zz_broken(self):\n        self.assertEqual(1, 2)\n\n    def test_/" components/train/test_train.py &&
	 git commit -qam "break a train test" &&
	 test_must_fail 1 mlci run -o json >../broken.json 2>/dev/null) &&
	test "$(jq_get broken.json "d[\"branch\"]")" = dev/broken &&
	jq_get broken.json "d[\"reason\"]" | grep -q "^train test exited with status 1" &&
	test "$(jq_get broken.json "\" \".join(sorted(set(s[\"status\"] for s in d[\"steps\"] if s[\"phase\"]==\"run\")))")" = skipped
'

test_done

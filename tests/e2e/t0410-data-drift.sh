#!/bin/sh
# t0410-data-drift.sh - `mlci data drift`: the breast cancer data against a copy with one feature scaled,
# against itself, through saved statistics, small samples and usage errors.
. "$(dirname "$0")/lib.sh"

DATA="$TOP/templates/default/data/breast_cancer.csv"

test_expect_success 'setup: a copy with mean_texture multiplied by 1.3 (python csv module)' '
	python3 - "$DATA" shifted.csv <<-\PY
	import csv, sys
	rows = list(csv.reader(open(sys.argv[1], newline="")))
	i = rows[0].index("mean_texture")
	with open(sys.argv[2], "w", newline="") as f:
	    w = csv.writer(f, lineterminator="\n")
	    w.writerow(rows[0])
	    for r in rows[1:]:
	        r[i] = repr(float(r[i]) * 1.3)
	        w.writerow(r)
	PY
	test -s shifted.csv
'

test_expect_success 'the scaled feature is flagged, exit 1, every score shown' '
	test_must_fail 1 mlci data drift shifted.csv --reference "$DATA" >out &&
	grep "^mean_texture .* drift " out &&
	test "$(grep -c " drift " out)" = 1 &&
	test "$(grep -c " ok " out)" = 30 &&
	test_grep "^1 of 31 features drifted" out
'

test_expect_success 'PSI and KS both flag mean_texture and nothing else' '
	for m in psi ks; do
		test_must_fail 1 mlci -o json data drift shifted.csv --reference "$DATA" --method $m >j.$m || exit 1
		python3 - j.$m $m <<-\PY || exit 1
		import json, sys
		d = json.load(open(sys.argv[1]))
		bad = [r["feature"] for r in d["results"] if r["drifted"]]
		assert bad == ["mean_texture"], bad
		num = [r for r in d["results"] if r["type"] == "numeric"]
		assert all(r["method"] == sys.argv[2] and r["score"] is not None for r in num)
		assert d["drifted"] == 1 and d["verdict"] == "fail"
		PY
	done
'

test_expect_success 'identical data: no drift, exit 0, statistics saved' '
	mlci data drift "$DATA" --reference "$DATA" --save-stats ref.json >out &&
	test_grep "^0 of 31 features drifted" out &&
	python3 -c "import json; d = json.load(open(\"ref.json\")); assert d[\"format\"] == \"mlci-stats/1\" and d[\"rows\"] == 569"
'

test_expect_success 'saved statistics as the reference give the same results' '
	test_must_fail 1 mlci -o json data drift shifted.csv --reference ref.json >a.json &&
	test_must_fail 1 mlci -o json data drift shifted.csv --reference "$DATA" >b.json &&
	python3 - <<-\PY
	import json
	a, b = json.load(open("a.json")), json.load(open("b.json"))
	assert a["results"] == b["results"], (a, b)
	PY
'

test_expect_success '--columns restricts, --max-drift-share tolerates' '
	mlci data drift shifted.csv --reference "$DATA" --columns mean_radius,diagnosis >out &&
	test_grep "^0 of 2 features drifted" out &&
	mlci data drift shifted.csv --reference "$DATA" --max-drift-share 0.5 >out &&
	test_grep "share 0.032, limit 0.5" out
'

test_expect_success 'a small sample is insufficient data, never a pass' '
	head -n 21 "$DATA" >small.csv &&
	test_must_fail 1 mlci data drift small.csv --reference "$DATA" >out 2>err &&
	test_grep "insufficient data" out &&
	test_grep "insufficient data" err
'

test_expect_success 'usage errors exit 2' '
	test_must_fail 2 mlci data drift shifted.csv 2>err &&
	test_grep "reference" err &&
	test_must_fail 2 mlci data drift shifted.csv --reference "$DATA" --method nope 2>err &&
	test_grep "invalid --method" err &&
	test_must_fail 2 mlci data drift shifted.csv --reference "$DATA" --threshold 0.2 2>err &&
	test_grep "needs --method" err &&
	test_must_fail 2 mlci data drift shifted.csv --reference "$DATA" --columns nope 2>err &&
	test_grep "no column .nope." err &&
	echo "{}" >bad.json &&
	test_must_fail 2 mlci data drift shifted.csv --reference bad.json 2>err &&
	test_grep "not an mlci statistics file" err
'

test_done

#!/bin/sh
# t0400-data-check.sh - `mlci schema infer` and `mlci data check` on the template's real data and on a
# corrupted copy: exit codes 0/1/2, anomalies in text and JSON, schema errors as FILE:LINE:COL.
. "$(dirname "$0")/lib.sh"

DATA="$TOP/templates/default/data/breast_cancer.csv"
BAD="$TOP/tests/fixtures/data/breast_cancer_corrupt.csv"

test_expect_success 'schema infer then data check on the same data passes' '
	mlci schema infer "$DATA" >schema.yaml &&
	test_grep "name: diagnosis, type: string, nullable: false, domain: \[benign, malignant\]" schema.yaml &&
	mlci data check "$DATA" --schema schema.yaml >out &&
	test_grep "ok (569 rows, 31 columns, no anomalies" out
'

test_expect_success 'the template schema validates the template data plus ingest columns' '
	python3 -c "
import csv,sys
r=list(csv.reader(open(sys.argv[1])))
w=csv.writer(open(\"ds.csv\",\"w\",newline=\"\"),lineterminator=\"\n\")
w.writerow(r[0]+[\"split\",\"size_band\"])
for i,x in enumerate(r[1:]): w.writerow(x+[\"train\" if i%5 else \"test\",\"small\"])
" "$DATA" &&
	mlci data check ds.csv --schema "$TOP/templates/default/schema.yaml"
'

test_expect_success 'a corrupted copy exits 1 and lists each anomaly in the table' '
	mlci schema infer "$DATA" >schema.yaml &&
	test_must_fail 1 mlci data check "$BAD" --schema schema.yaml >out &&
	test_grep "^mean_texture  *missing_column  *error  *1  *100.00%  *1" out &&
	test_grep "^extra  *unexpected_column" out &&
	test_grep "^mean_radius  *wrong_type  *error  *1  *5.00%  *3  *abc" out &&
	test_grep "^mean_area  *out_of_range  *error  *2  *10.00%  *5,7  *99999" out &&
	test_grep "^diagnosis  *unknown_category  *error  *1  *5.00%  *10  *unknown" out &&
	test_grep "^mean_smoothness  *null  *error  *3  *15.00%  *12,13,14" out &&
	test_grep "6 errors, 0 warnings (20 rows" out
'

test_expect_success 'the same anomalies in -o json' '
	test_must_fail 1 mlci -o json data check "$BAD" --schema schema.yaml >out.json &&
	python3 -c "
import json
d=json.load(open(\"out.json\"))
assert d[\"valid\"] is False and d[\"rows\"]==20 and d[\"errors\"]==6, d
k={(a[\"column\"],a[\"kind\"]):a for a in d[\"anomalies\"]}
assert k[(\"mean_area\",\"out_of_range\")][\"lines\"]==[5,7]
assert k[(\"mean_area\",\"out_of_range\")][\"share\"]==0.1
assert k[(\"mean_smoothness\",\"null\")][\"count\"]==3
assert set(k)=={(\"mean_texture\",\"missing_column\"),(\"extra\",\"unexpected_column\"),(\"mean_radius\",\"wrong_type\"),(\"mean_area\",\"out_of_range\"),(\"diagnosis\",\"unknown_category\"),(\"mean_smoothness\",\"null\")}, k
"
'

test_expect_success 'columns marked warn: true only warn (exit 0)' '
	sed "s/^\(  - { name: [a-z_]*, type: [a-z]*\)/\1, warn: true/" schema.yaml >warn.yaml &&
	printf "unexpected_columns: warn\n" >>warn.yaml &&
	mlci data check "$BAD" --schema warn.yaml >out &&
	test_grep "0 errors, 6 warnings" out
'

test_expect_success 'a bad schema file exits 2 with FILE:LINE:COL' '
	printf "columns:\n  - name: a\n    type: flaot\n" >bad.yaml &&
	test_must_fail 2 mlci data check "$DATA" --schema bad.yaml 2>err &&
	test_grep "^bad.yaml:3:11: type: unknown type .flaot." err
'

test_expect_success 'malformed CSV exits 1 naming the line; a missing file exits 3; usage exits 2' '
	printf "a,b\n1,2\n3,\"x\n" >m.csv &&
	test_must_fail 1 mlci data check m.csv --schema schema.yaml 2>err &&
	test_grep "m.csv:3: unterminated quoted field" err &&
	test_must_fail 3 mlci data check nope.csv --schema schema.yaml 2>err &&
	test_must_fail 2 mlci data check "$DATA" 2>err &&
	test_must_fail 2 mlci data frob 2>err &&
	test_must_fail 2 mlci schema guess "$DATA" 2>err
'

test_expect_success 'JSON Lines data is inferred and checked too' '
	printf "{\"x\": 1, \"y\": \"a\"}\n{\"x\": 2, \"y\": \"b\"}\n" >d.jsonl &&
	mlci schema infer d.jsonl >j.yaml &&
	test_grep "name: x, type: int" j.yaml &&
	mlci data check d.jsonl --schema j.yaml
'

test_done

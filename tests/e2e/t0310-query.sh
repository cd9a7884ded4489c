#!/bin/sh
# t0310-query.sh - the query commands on a store filled by real runs: runs (filters), show (id prefix),
# logs, diff, lineage (down to the repository data) and registry list/show, in text and -o json.
. "$(dirname "$0")/lib.sh"


test_expect_success 'setup: two passing runs on main and one failing run on a dev branch' '
	make_repo repo && mkdir -p repo/data repo/prep &&
	printf "x,y\n1,2\n3,4\n" >repo/data/raw.csv &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: q
	model: q-model
	params: { alpha: "1" }
	components:
	  prep:
	    path: prep
	    run: sed 1d ../data/raw.csv > "$MLCI_OUT/clean.csv"; echo "prep says hello"
	    inputs: [data/raw.csv]
	    outputs: [clean.csv]
	  fit:
	    needs: [prep]
	    run: |
	      wc -l < "$MLCI_IN_PREP/clean.csv" > "$MLCI_OUT/model.bin"; echo "{\"score\": $MLCI_PARAM_ALPHA}" > "$MLCI_OUT/metrics.json"
	    outputs: [model.bin, metrics.json]
	checks:
	  model: { metrics: fit/metrics.json }
	YAML
	echo keep >repo/prep/keep && commit_all repo one &&
	mlci run --repo repo -o json >r1.json &&
	sed -i "s/alpha: \"1\"/alpha: \"2\"/" repo/mlci.yaml && commit_all repo two &&
	mlci run --repo repo -o json >r2.json &&
	git -C repo switch -q -c dev/bad && sed -i "s/sed 1d/exit 7; sed 1d/" repo/mlci.yaml &&
	commit_all repo bad &&
	test_must_fail 1 mlci run --repo repo -o json >r3.json
'

test_expect_success 'mlci runs lists newest first and filters by status and branch' '
	mlci -o json runs >all.json &&
	test "$(js "len(d)" <all.json)" = 3 &&
	test "$(js "d[0][\"id\"]" <all.json)" = "$(js "d[\"id\"]" <r3.json)" &&
	test "$(mlci -o json runs --status failed | js "\" \".join(r[\"branch\"] for r in d)")" = dev/bad &&
	test "$(mlci -o json runs --branch main | js "len(d)")" = 2 &&
	test "$(mlci -o json runs --limit 1 | js "len(d)")" = 1 &&
	mlci runs >text &&
	test_grep "^RUN  *PIPELINE" text &&
	test_grep "dev/bad .* failed" text
'

test_expect_success 'mlci show takes a unique id prefix and shows steps, artifacts and metrics' '
	id=$(js "d[\"id\"]" <r2.json) &&
	mlci -o json show "$(echo "$id" | cut -c1-19)" >show.json &&
	test "$(js "d[\"id\"]" <show.json)" = "$id" &&
	test "$(js "\" \".join(s[\"component\"]+\"=\"+s[\"status\"] for s in d[\"steps\"])" <show.json)" = "prep=passed fit=passed" &&
	test "$(js "[m[\"value\"] for m in d[\"metrics\"] if m[\"name\"]==\"score\"][0]" <show.json)" = 2 &&
	test "$(js "d[\"params\"][\"alpha\"]" <show.json)" = 2 &&
	test "$(js "len([a for a in d[\"artifacts\"] if a[\"kind\"]==\"output\"])" <show.json)" = 3 &&
	test_must_fail 2 mlci show 2026 2>err &&
	test_grep "ambiguous" err &&
	test_must_fail 2 mlci show 1999 2>err &&
	test_grep "unknown run" err
'

test_expect_success 'mlci logs prints a component log and names cached steps'"'"' origin' '
	id1=$(js "d[\"id\"]" <r1.json) &&
	mlci logs "$id1" prep >log &&
	test_grep "prep says hello" log &&
	mlci run --repo repo --rev "$(js "d[\"commit\"][\"id\"]" <r1.json)" -o json >r4.json &&
	test "$(js "\" \".join(s[\"status\"] for s in d[\"steps\"])" <r4.json)" = "cached cached" &&
	mlci logs "$(js "d[\"id\"]" <r4.json)" prep >log2 &&
	test_grep "cached from run $id1" log2 &&
	test_must_fail 2 mlci logs "$id1" nope 2>err &&
	test_grep "unknown component" err
'

test_expect_success 'mlci diff shows the changed param and metric' '
	mlci diff "$(js "d[\"id\"]" <r1.json)" "$(js "d[\"id\"]" <r2.json)" >diff &&
	test_grep "^\*  *alpha  *1  *2" diff &&
	test_grep "^\*  *score" diff
'

test_expect_success 'mlci registry lists versions with their metrics; failed runs register nothing' '
	mlci -o json registry list >reg.json &&
	test "$(js "\" \".join(\"%s@%d/%d\" % (m[\"model\"], m[\"latest_version\"], m[\"versions\"]) for m in d)" <reg.json)" = "q-model@2/2" &&
	mlci registry show q-model@2 >v2 &&
	test_grep "score" v2 &&
	test_must_fail 2 mlci registry show nope 2>err
'

test_expect_success 'mlci lineage walks the model back to the repository data it came from' '
	mlci -o json lineage q-model@1 >lin.json &&
	python3 -c "
import json,sys
d=json.load(open(\"lin.json\")); a=d[\"artifact\"]
up=a[\"inputs\"][0]; assert up[\"as\"]==\"prep/clean.csv\", up
raw=up[\"inputs\"][0]; assert raw[\"as\"]==\"data/raw.csv\" and raw[\"type\"]==\"source\", raw
import hashlib; assert raw[\"digest\"]==hashlib.sha256(open(\"repo/data/raw.csv\",\"rb\").read()).hexdigest()
" &&
	mlci lineage q-model@1 >lin.txt &&
	test_grep "data/raw.csv" lin.txt
'

test_expect_success 'query commands on an empty home: lists are empty, lookups exit 2' '
	MLCI_HOME="$SCRATCH/empty" mlci -o json runs >e.json &&
	test "$(cat e.json)" = "[]" &&
	test_must_fail 2 env MLCI_HOME="$SCRATCH/empty" "$MLCI_BIN" show 2026 &&
	! test -e "$SCRATCH/empty/mlci.db"
'

test_done

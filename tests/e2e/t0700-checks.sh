#!/bin/sh
# t0700-checks.sh - the checks inside `mlci run`: data (schema, drift vs a path and vs production, gating
# the consumers), training (converges, no_nan, overfit_sample), model (thresholds, baseline, slices),
# infra; verdicts in the store, `mlci show`, -o json and JUnit. Small purpose-built pipelines on the
# Breast Cancer data (one feature scaled by 1.3 for drift).
. "$(dirname "$0")/lib.sh"

DATA="$TOP/templates/default/data/breast_cancer.csv"
# verdict RUNJSON NAME FIELD: a field of one check of a run's -o json
verdict() {
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
v=[c for c in d['checks'] if c['name']==sys.argv[2]]
print(v[0][sys.argv[3]] if v else 'absent')" "$@"
}
step_status() {
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
s=[s for s in d['steps'] if s['component']==sys.argv[2] and s['phase']=='run'][0]
print(s['status'] + ':' + (s['reason'] or ''))" "$@"
}

# write_spec CHECKS [ENVIRONMENTS]: the pipeline with the given checks: mapping (YAML text)
write_spec() {
	{
		cat <<-\YAML
		pipeline: chk
		model: chk-model
		model_artifact: train/model.json
		components:
		  prep:
		    run: cp data/current.csv "$MLCI_OUT/dataset.csv"
		    inputs: [data/current.csv]
		    outputs: [dataset.csv]
		  train:
		    needs: [prep]
		    run: python3 tools/train.py "$MLCI_OUT"
		    inputs: [tools, conf.json]
		    outputs: [model.json, history.csv]
		  evaluate:
		    needs: [train]
		    run: python3 tools/evaluate.py "$MLCI_OUT"
		    inputs: [tools, conf.json]
		    outputs: [metrics.json, slices.json]
		checks:
		YAML
		printf '%s\n' "$1"
		if [ -n "${2:-}" ]; then
			echo "environments:"
			printf '%s\n' "$2"
		fi
	} >repo/mlci.yaml
}
# conf KEY=VALUE...: rewrite conf.json (defaults: decreasing loss, no NaN, accuracy 0.95, good slices)
conf() {
	python3 - "$@" <<-\PY
	import json, sys
	c = {"flat": False, "nan": False, "accuracy": 0.95,
	     "slices": {"band": {"a": {"accuracy": 0.95, "rows": 50}, "b": {"accuracy": 0.93, "rows": 40}}}}
	for kv in sys.argv[1:]:
	    k, v = kv.split("=", 1)
	    c[k] = json.loads(v)
	json.dump(c, open("repo/conf.json", "w"), indent=1)
	PY
}
# scaled: data/current.csv = the data with mean_radius x 1.3
scaled() {
	python3 - "$DATA" repo/data/current.csv <<-\PY
	import csv, sys
	rows = list(csv.reader(open(sys.argv[1])))
	i = rows[0].index("mean_radius")
	for r in rows[1:]:
	    r[i] = repr(round(float(r[i]) * 1.3, 6))
	csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
	PY
}
# run_chk NAME [mlci run options]: run the repo, -o json to NAME.json; the exit code is kept in NAME.rc
run_chk() {
	n=$1
	shift
	(cd repo && mlci run -o json "$@" >"../$n.json" 2>"../$n.err")
	echo $? >"$n.rc"
}

test_expect_success 'setup: a three-component pipeline repo' '
	make_repo repo && mkdir -p repo/data repo/tools &&
	cp "$DATA" repo/data/ref.csv && cp "$DATA" repo/data/current.csv &&
	cat >repo/tools/train.py <<-\PY &&
	import json, os, sys
	c = json.load(open("conf.json"))
	out = sys.argv[1]
	with open(os.path.join(out, "history.csv"), "w") as f:
	    f.write("epoch,loss\n")
	    for e in range(30):
	        f.write("%d,%r\n" % (e + 1, 0.5 if c["flat"] else 1.0 / (1 + e)))
	w = "NaN" if c["nan"] else "0.5"
	with open(os.path.join(out, "model.json"), "w") as f:
	    f.write("{\n  \"bias\": 0.1,\n  \"weights\": [0.25, %s]\n}\n" % w)
	PY
	cat >repo/tools/evaluate.py <<-\PY &&
	import json, os, sys
	c = json.load(open("conf.json"))
	out = sys.argv[1]
	json.dump({"accuracy": c["accuracy"], "log_loss": 0.2, "rows": 90}, open(os.path.join(out, "metrics.json"), "w"))
	json.dump(c["slices"], open(os.path.join(out, "slices.json"), "w"))
	PY
	conf && mlci schema infer repo/data/ref.csv >repo/schema.yaml &&
	write_spec "  data: { dataset: prep/dataset.csv, schema: schema.yaml }" &&
	commit_all repo "first" &&
	run_chk ok && test "$(cat ok.rc)" = 0 &&
	test "$(verdict ok.json data.schema status)" = pass
'

test_expect_success 'a schema anomaly fails the data check, the run (exit 1) and skips the consumers' '
	scaled && commit_all repo "scaled radius" &&
	run_chk schema && test "$(cat schema.rc)" = 1 &&
	test "$(verdict schema.json data.schema status)" = fail &&
	verdict schema.json data.schema summary >sum &&
	test_grep "out_of_range" sum && test_grep "mean_radius" sum &&
	test "$(step_status schema.json train)" = "skipped:data check failed" &&
	test "$(step_status schema.json evaluate)" = "skipped:upstream train skipped" &&
	test "$(js "d[\"status\"]" <schema.json)" = failed &&
	js "d[\"reason\"]" <schema.json >reason && test_grep "check data.schema failed" reason
'

test_expect_success 'drift vs a reference path: the scaled feature (and only it) is flagged; on_drift fail fails' '
	write_spec "  data: { dataset: prep/dataset.csv, drift: { reference: data/ref.csv, threshold: 0.02, on_drift: fail } }" &&
	commit_all repo "drift fail" &&
	run_chk dfail && test "$(cat dfail.rc)" = 1 &&
	test "$(verdict dfail.json data.drift status)" = fail &&
	verdict dfail.json data.drift summary >sum &&
	test_grep "1/3[0-9] features drifted vs data/ref.csv" sum && test_grep "mean_radius" sum &&
	python3 -c "
import json
d=json.load(open(\"dfail.json\"))
v=[c for c in d[\"checks\"] if c[\"name\"]==\"data.drift\"][0]
drifted=[f[\"feature\"] for f in v[\"details\"][\"report\"][\"results\"] if f[\"drifted\"]]
assert drifted==[\"mean_radius\"], drifted
assert v[\"details\"][\"share\"] > 0.02
" &&
	test "$(step_status dfail.json train)" = "skipped:data check failed"
'

test_expect_success 'on_drift warn: the run passes with a warn verdict and the drift share as a metric' '
	write_spec "  data: { dataset: prep/dataset.csv, drift: { reference: data/ref.csv, threshold: 0.02, on_drift: warn } }" &&
	commit_all repo "drift warn" &&
	run_chk dwarn && test "$(cat dwarn.rc)" = 0 &&
	test "$(verdict dwarn.json data.drift status)" = warn &&
	test "$(step_status dwarn.json evaluate)" = "passed:" &&
	id=$(js "d[\"id\"]" <dwarn.json) &&
	test "$(sql "SELECT value > 0.02 FROM metrics WHERE run = ?1 AND name = '"'"'check.data.drift.share'"'"'" "$id")" = 1 &&
	test "$(sql "SELECT status FROM checks WHERE run = ?1 AND name = '"'"'data.drift'"'"'" "$id")" = warn
'

test_expect_success 'first run with production as baseline: drift skipped and baseline passes, both saying no baseline' '
	cp "$DATA" repo/data/current.csv && conf &&
	write_spec "  data: { dataset: prep/dataset.csv, drift: { reference: production, threshold: 0.02, on_drift: retrain } }
  model: { metrics: evaluate/metrics.json, baseline: production, tolerance: { accuracy: 0.01 } }" \
		"  production: { promote: auto, branches: [main] }" &&
	commit_all repo "production" &&
	run_chk p1 && test "$(cat p1.rc)" = 0 &&
	test "$(verdict p1.json data.drift status)" = skipped &&
	verdict p1.json data.drift summary >sum && test_grep "^no baseline: skipped" sum &&
	test "$(verdict p1.json model.baseline status)" = pass &&
	verdict p1.json model.baseline summary >sum && test_grep "^no baseline: skipped" sum &&
	git -C "$MLCI_HOME/state.git" show main:environments/chk/production.json >state &&
	test_grep "$(js "d[\"id\"]" <p1.json)" state &&
	test "$(sql "SELECT count(*) FROM dataset_stats")" -ge 1
'

test_expect_success 'drift vs production (its stored dataset statistics) and a regression vs production fail the run' '
	scaled && conf accuracy=0.9 && commit_all repo "worse" &&
	run_chk p2 && test "$(cat p2.rc)" = 1 &&
	test "$(verdict p2.json data.drift status)" = warn &&
	verdict p2.json data.drift summary >sum &&
	v=$(js "d[\"model\"][\"version\"]" <p1.json) &&
	test_grep "vs production (chk-model v$v, run $(js "d[\"id\"]" <p1.json))" sum &&
	test_grep "mean_radius" sum && test_grep "retrain" sum &&
	test "$(verdict p2.json model.baseline status)" = fail &&
	verdict p2.json model.baseline summary >sum &&
	test_grep "accuracy 0.900 vs production 0.950: -0.050 beyond tolerance 0.01" sum &&
	test "$(js "d[\"promotion\"][\"action\"]" <p2.json)" != promoted &&
	git -C "$MLCI_HOME/state.git" show main:environments/chk/production.json >state &&
	test_grep "$(js "d[\"id\"]" <p1.json)" state
'

test_expect_success 'a re-run of the same dataset does not compute its statistics again, yet drifts against them' '
	cp "$DATA" repo/data/current.csv && conf && commit_all repo "the production data again" &&
	run_chk p1b && test "$(cat p1b.rc)" = 0 &&
	test ! -e "$MLCI_HOME/runs/$(js "d[\"id\"]" <p1b.json)/tmp/dataset-stats.json" &&
	test "$(verdict p1b.json data.drift status)" = pass &&
	verdict p1b.json data.drift summary >sum && test_grep "^0/[0-9]* features drifted vs production" sum &&
	head -n 500 "$DATA" >repo/data/current.csv && commit_all repo "fewer rows" &&
	run_chk p1c && test -s "$MLCI_HOME/runs/$(js "d[\"id\"]" <p1c.json)/tmp/dataset-stats.json"
'

test_expect_success 'a version baseline (MODEL@VERSION) within tolerance passes; an unregistered named version fails' '
	cp "$DATA" repo/data/current.csv && conf accuracy=0.945 &&
	write_spec "  model: { metrics: evaluate/metrics.json, baseline: chk-model@1, tolerance: { accuracy: 1%, log_loss: 0.0 } }" &&
	commit_all repo "version baseline" &&
	run_chk vb && test "$(cat vb.rc)" = 0 &&
	test "$(verdict vb.json model.baseline status)" = pass &&
	verdict vb.json model.baseline summary >sum && test_grep "vs chk-model@1" sum &&
	write_spec "  model: { metrics: evaluate/metrics.json, baseline: chk-model@99 }" &&
	commit_all repo "unknown baseline" &&
	run_chk vb2 && test "$(cat vb2.rc)" = 1 &&
	test "$(verdict vb2.json model.baseline summary)" = "baseline chk-model@99: chk-model version 99 is not registered" &&
	write_spec "  data: { dataset: prep/dataset.csv, drift: { reference: \"7\" } }" &&
	commit_all repo "unknown reference" &&
	run_chk vb3 && test "$(cat vb3.rc)" = 1 &&
	test "$(verdict vb3.json data.drift summary)" = "reference 7: chk-model version 7 is not registered"
'

test_expect_success 'NaN in a model file fails training.no_nan with its path and line' '
	conf nan=true &&
	write_spec "  training: { history: train/history.csv, converges: true, no_nan: [train/model.json, train/history.csv] }" &&
	commit_all repo "nan" &&
	run_chk nan && test "$(cat nan.rc)" = 1 &&
	test "$(verdict nan.json training.no_nan status)" = fail &&
	test "$(verdict nan.json training.no_nan summary)" = "train/model.json:3:21: NaN" &&
	test "$(verdict nan.json training.converges status)" = pass
'

test_expect_success 'a flat loss fails training.converges with both means and the limit' '
	conf flat=true &&
	write_spec "  training: { history: train/history.csv, converges: { window: 5, ratio: 0.8 } }" &&
	commit_all repo "flat" &&
	run_chk flat && test "$(cat flat.rc)" = 1 &&
	test "$(verdict flat.json training.converges status)" = fail &&
	test "$(verdict flat.json training.converges summary)" = "loss mean of last 5 0.5 >= 0.4 (0.8 x first 5 0.5): not converging"
'

test_expect_success 'overfit_sample: the last number printed must be below max_loss' '
	conf &&
	write_spec "  training: { overfit_sample: { run: \"echo epoch 50 loss 0.01\", max_loss: 0.05 } }" &&
	commit_all repo "overfit ok" &&
	run_chk of1 && test "$(cat of1.rc)" = 0 &&
	test "$(verdict of1.json training.overfit_sample summary)" = "overfit_sample loss 0.01 < 0.05" &&
	write_spec "  training: { overfit_sample: { run: \"echo 0.5\", max_loss: 0.05 } }" &&
	commit_all repo "overfit bad" &&
	run_chk of2 && test "$(cat of2.rc)" = 1 &&
	test "$(verdict of2.json training.overfit_sample summary)" = "overfit_sample loss 0.5 >= 0.05 (max_loss)"
'

test_expect_success 'a model below its threshold fails naming metric, value and limit' '
	conf accuracy=0.85 &&
	write_spec "  model: { metrics: evaluate/metrics.json, thresholds: { accuracy: \">= 0.90\", log_loss: \"< 0.3\" } }" &&
	commit_all repo "threshold" &&
	run_chk thr && test "$(cat thr.rc)" = 1 &&
	test "$(verdict thr.json model.thresholds status)" = fail &&
	test "$(verdict thr.json model.thresholds summary)" = "accuracy 0.850 < 0.9 (threshold)"
'

test_expect_success 'a bad slice fails, a small one is reported as too small; JUnit and mlci show carry the verdicts' '
	conf "slices={\"band\": {\"a\": {\"accuracy\": 0.95, \"rows\": 50}, \"b\": {\"accuracy\": 0.80, \"rows\": 40}, \"c\": {\"accuracy\": 0.2, \"rows\": 5}}}" &&
	write_spec "  model: { metrics: evaluate/metrics.json, slices: { metrics: evaluate/slices.json, max_gap: { accuracy: 0.05 }, min_rows: 10 } }
  infra: { requires: { commands: [sh] } }" &&
	commit_all repo "slices" &&
	run_chk sl --junit ../sl.xml && test "$(cat sl.rc)" = 1 &&
	test "$(verdict sl.json model.slices status)" = fail &&
	verdict sl.json model.slices summary >sum &&
	test_grep "slice band=b accuracy 0.800 vs overall 0.950: gap 0.150 > max_gap 0.05" sum &&
	test_grep "too small: band=c (5 rows < 10)" sum &&
	python3 -c "
import xml.etree.ElementTree as ET
t=ET.parse(\"sl.xml\").getroot()
cs={c.get(\"name\"): c for c in t.iter(\"testcase\") if c.get(\"classname\")==\"checks\"}
assert set(cs)=={\"model.slices\",\"infra.requires\"}, cs
f=cs[\"model.slices\"].find(\"failure\")
assert f is not None and \"band=b\" in f.get(\"message\"), f
assert cs[\"infra.requires\"].find(\"failure\") is None
assert cs[\"infra.requires\"].find(\"system-out\") is not None
" &&
	id=$(js "d[\"id\"]" <sl.json) &&
	mlci show "$id" >show &&
	test_grep "^CHECK  *VERDICT  *SUMMARY" show &&
	test_grep "^model.slices  *fail  *slice band=b" show &&
	mlci show -o json "$id" | js "[c[\"status\"] for c in d[\"checks\"]]" >st &&
	test "$(cat st)" = "['"'"'fail'"'"', '"'"'pass'"'"']"
'

test_expect_success 'only small slices out of range: a warning, the run passes' '
	conf "slices={\"band\": {\"a\": {\"accuracy\": 0.95, \"rows\": 50}, \"c\": {\"accuracy\": 0.2, \"rows\": 5}}}" &&
	commit_all repo "small slice" &&
	run_chk sm --junit ../sm.xml && test "$(cat sm.rc)" = 0 &&
	test "$(verdict sm.json model.slices status)" = warn &&
	grep -q "<system-out>warn: 1 slices within max_gap; too small, not judged: band=c" sm.xml
'

test_expect_success 'infra requiring a missing command and too much memory fails with the required/found table' '
	conf &&
	write_spec "  infra: { requires: { commands: [sh, no-such-cmd-xyz, \"python3 >= 3.0\", \"python3 >= 99.1\"], memory: 1000Ti, cpus: 1, accelerator: none } }" &&
	commit_all repo "infra" &&
	run_chk inf && test "$(cat inf.rc)" = 1 &&
	test "$(verdict inf.json infra.requires status)" = fail &&
	verdict inf.json infra.requires summary >sum &&
	test_grep "^on this machine: 3 of 7 unmet" sum &&
	test_grep "command python3: required >= 3.0, found [^;]*python3 3\.[0-9.]*;" sum &&
	test_grep "command python3: required >= 99.1, found [^;]*python3 3\.[0-9.]* (unmet)" sum &&
	test_grep "command no-such-cmd-xyz: required on PATH, found not found (unmet)" sum &&
	test_grep "memory: required 1000.0Ti, found [0-9.]*[GMT]i (unmet)" sum &&
	python3 -c "
import json
d=json.load(open(\"inf.json\"))
v=[c for c in d[\"checks\"] if c[\"name\"]==\"infra.requires\"][0]
rows={r[\"requirement\"]: r for r in v[\"details\"][\"requirements\"]}
assert rows[\"command sh\"][\"ok\"] and rows[\"command sh\"][\"found\"].endswith(\"/sh\")
assert not rows[\"command no-such-cmd-xyz\"][\"ok\"]
assert rows[\"cpus\"][\"ok\"] and rows[\"accelerator\"][\"found\"] in (\"none\", \"nvidia\")
"
'

test_expect_success 'the service stage runs last, from the run: a service that exits at once fails the run' '
	write_spec "  infra: { requires: { commands: [sh] } }
  service: { start: \"echo starting on \$MLCI_PORT; exit 4\", ready: /ready, protocol: none }" &&
	commit_all repo "service" &&
	run_chk svc && test "$(cat svc.rc)" = 1 &&
	test "$(verdict svc.json infra.requires status)" = pass &&
	test "$(verdict svc.json service.start status)" = fail &&
	verdict svc.json service.start summary | grep "exit" &&
	test "$(js "[c[\"kind\"] for c in d[\"checks\"]][-1]" <svc.json)" = service &&
	grep "starting on [0-9]" "$MLCI_HOME/logs/$(js "d[\"id\"]" <svc.json)/check-service.log"
'

test_expect_success 'a check against a file no component declares is a spec error (exit 2)' '
	write_spec "  model: { metrics: evaluate/nope.json }
  training: { no_nan: [train/model.bin] }" &&
	(cd repo && test_must_fail 2 mlci validate 2>../err >../out) &&
	cat out err >all &&
	test_grep "nope.json" all && test_grep "model.bin" all
'

test_expect_success 'human output of mlci run ends with the checks table' '
	write_spec "  data: { dataset: prep/dataset.csv, schema: schema.yaml }" &&
	cp "$DATA" repo/data/current.csv && commit_all repo "human" &&
	(cd repo && mlci run >../human 2>&1) &&
	test_grep "^CHECK  *VERDICT  *SUMMARY" human &&
	test_grep "^data.schema  *pass  *0 errors, 0 warnings in 569 rows vs schema.yaml" human
'

test_expect_success 'the template: every check is active and green on the first run; drift and baseline say no baseline' '
	export MLCI_HOME="$SCRATCH/home-tpl" &&
	mlci init tpl >/dev/null &&
	sed -i "s/duration: 5s/duration: 1s/" tpl/mlci.yaml && commit_all tpl "shorter load test" &&
	(cd tpl && mlci run -o json >../tpl.json 2>../tpl.err) &&
	python3 -c "
import json
d=json.load(open(\"tpl.json\"))
v={c[\"name\"]: (c[\"status\"], c[\"summary\"]) for c in d[\"checks\"]}
want=[\"data.schema\",\"data.drift\",\"training.converges\",\"training.no_nan\",\"model.thresholds\",
      \"model.baseline\",\"model.slices\",\"infra.requires\",\"service.start\",\"service.protocol\",
      \"service.contract\",\"service.parity\",\"service.load\"]
assert [c[\"name\"] for c in d[\"checks\"]]==want, v
assert v[\"data.drift\"]==(\"skipped\",\"no baseline: skipped (no model in production)\"), v
assert v[\"model.baseline\"]==(\"pass\",\"no baseline: skipped (no model in production)\"), v
assert all(s==\"pass\" for n,(s,_) in v.items() if n!=\"data.drift\"), v
assert d[\"status\"]==\"passed\"
" &&
	(cd tpl && mlci run -o json >../tpl2.json 2>/dev/null) &&
	test "$(js "sum(s[\"status\"]==\"cached\" for s in d[\"steps\"])" <tpl2.json)" = 7 &&
	test "$(js "len(d[\"checks\"])" <tpl2.json)" = 13 &&
	test "$(verdict tpl2.json service.load status)" = pass &&
	verdict tpl2.json service.load summary | grep "reused from run $(js "d[\"id\"]" <tpl.json)"
'

test_expect_success 'a verdict reused twice still names the run that checked the service, once' '
	export MLCI_HOME="$SCRATCH/home-tpl" &&
	(cd tpl && mlci run -o json >../tpl2b.json 2>/dev/null) &&
	first=$(js "d[\"id\"]" <tpl.json) &&
	verdict tpl2b.json service.load summary >summary2b &&
	grep "(reused from run $first)\$" summary2b &&
	test "$(grep -o "reused from" summary2b | wc -l)" = 1
'

test_expect_success 'a change to the serving code runs the service check again (no reuse)' '
	export MLCI_HOME="$SCRATCH/home-tpl" &&
	echo "# touched" >>tpl/serving/serve.py && commit_all tpl "touch the server" &&
	(cd tpl && mlci run -o json >../tpl4.json 2>/dev/null) &&
	test "$(verdict tpl4.json service.load status)" = pass &&
	! verdict tpl4.json service.load summary | grep reused
'

test_expect_success 'another pipeline'"'"'s production is no baseline for this one (states are kept per pipeline)' '
	: "the default MLCI_HOME of this file, where pipeline chk is in production" &&
	(cd tpl && mlci run -o json >../tpl3.json 2>/dev/null) &&
	test "$(verdict tpl3.json data.drift summary)" = "no baseline: skipped (no model in production)" &&
	test "$(verdict tpl3.json model.baseline summary)" = "no baseline: skipped (no model in production)"
'

test_done

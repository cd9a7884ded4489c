#!/bin/sh
# t0620-promote-review.sh - what a release manager sees and decides with: mlci promote --dry-run (every
# gate with its numbers and the diff, nothing written), gate evidence (slices included) in the state
# commit, mlci history and mlci show, mlci status right after mlci approve, mlci reject, the complete
# transition history of a version in mlci registry show, and one promoting run parsing the policy once and
# opening the state repo once.
. "$(dirname "$0")/lib.sh"

state() { git -C "$MLCI_HOME/state.git" show "main:environments/gate/$1.json"; }
tip() { git -C "$MLCI_HOME/state.git" rev-parse main; }
export MLCI_DEPLOY_DIR="$SCRATCH/deployed"
SQ="'"

test_expect_success 'setup: a pipeline with model checks (slices), and the operator policy' '
	make_repo repo && mkdir -p repo/train &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: gate
	model: gate-model
	model_artifact: train/model.txt
	components:
	  train:
	    path: train
	    run: |
	      cat w.txt > $MLCI_OUT/model.txt
	      printf "{\"accuracy\": 0.91, \"rows\": 100}\n" > $MLCI_OUT/metrics.json
	      printf "{\"band\": {\"a\": {\"accuracy\": 0.93, \"rows\": 60}, \"b\": {\"accuracy\": 0.88, \"rows\": 40}}}\n" > $MLCI_OUT/slices.json
	    outputs: [model.txt, metrics.json, slices.json]
	checks:
	  model: { metrics: train/metrics.json, thresholds: { accuracy: ">= 0.5" },
	           slices: { metrics: train/slices.json, max_gap: { accuracy: 0.2 } } }
	YAML
	mkdir -p "$MLCI_HOME" &&
	cat >"$MLCI_HOME/policy.yaml" <<-\YAML &&
	environments:
	  staging: { promote: semi, branches: [main], approvals: 1 }
	  production: { promote: manual, from: staging, min_staging_runs: 1, approvers: [alice, bob], approvals: 2,
	                deploy: { command: "mkdir -p \"$MLCI_DEPLOY_DIR\" && cp \"$MLCI_MODEL\" \"$MLCI_DEPLOY_DIR/production.txt\"" } }
	YAML
	echo w1 >repo/train/w.txt && (cd repo && git add -A && git commit -q -m one -m "Reviewed-by: Rita <rita@example.com>") &&
	mlci run --repo repo -o json >r1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r1.json)" = promoted
'

test_expect_success 'one promoting run parses the policy once and opens the state repo once (mlci -v)' '
	echo w2 >repo/train/w.txt && (cd repo && git add -A && git commit -q -m two -m "Reviewed-by: Rita <rita@example.com>") &&
	mlci -v run --repo repo -o json >r2.json 2>err &&
	test "$(js "d[\"promotion\"][\"action\"]" <r2.json)" = promoted &&
	test_grep "mlci: policy parsed 1 time, state repo opened 1 time" err
'

test_expect_success 'the state commit and the promotions row carry the gates it was decided on, slices included' '
	git -C "$MLCI_HOME/state.git" log -1 --format=%B main >msg &&
	test_grep "^Gate: model.slices pass: " msg && test_grep "^Gate: approvals pass: approvals 1/1 (rita@example.com)" msg &&
	state staging | js "[g[\"details\"][\"slices\"] for g in d[\"gates\"] if g[\"name\"]==\"model.slices\"][0]" >sl &&
	test_grep "band=b" sl &&
	run=$(js "d[\"id\"]" <r2.json) &&
	mlci show "$run" >show.txt &&
	test_grep "^promotion to staging: promoted (state $(tip | cut -c1-12))" show.txt &&
	test_grep "^  model.slices " show.txt &&
	mlci -o json show "$run" | js "[g[\"name\"] for g in d[\"promotions\"][0][\"gates\"]]" >g &&
	test_grep "model.thresholds" g && test_grep "approvals" g
'

test_expect_success 'promote --dry-run: every gate with its numbers and the diff; exit 1; nothing written' '
	before=$(tip) &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production --dry-run >dry.txt &&
	test_grep "^min_staging_runs  *fail  *gate-model@2 has 0 passed runs in staging since it entered at" dry.txt &&
	test_grep "^approvals  *fail  *approvals 0/2" dry.txt &&
	test_grep "^approver  *pass" dry.txt &&
	test_grep "^model  *-  *gate-model@2" dry.txt &&
	test_grep "^metric accuracy  *-  *0.91" dry.txt &&
	test_grep "would be refused for production" dry.txt &&
	test "$(tip)" = "$before" &&
	test "$(sql "SELECT count(*) FROM promotions WHERE environment = ?" production)" = 0 &&
	MLCI_ACTOR=alice test_must_fail 1 mlci -o json promote gate --to production --dry-run >dry.json &&
	test "$(js "d[\"would_pass\"]" <dry.json)" = False &&
	test "$(js "[g[\"status\"] for g in d[\"gates\"] if g[\"name\"]==\"min_staging_runs\"][0]" <dry.json)" = fail &&
	test "$(js "[g[\"details\"][\"counted\"] for g in d[\"gates\"] if g[\"name\"]==\"min_staging_runs\"][0]" <dry.json)" = 0
'

test_expect_success 'mlci status shows the new approval count right after mlci approve' '
	mlci run --repo repo --no-cache -o json >r3.json &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production >p.txt &&
	test_grep "pending: waiting for approvals 0/2" p.txt &&
	MLCI_ACTOR=alice mlci approve gate --env production --version 2 >a.txt && test_grep "approvals 1/2" a.txt &&
	mlci status >st.txt && test_grep "approvals 1/2" st.txt && ! grep -q "approvals 0/2" st.txt &&
	MLCI_ACTOR=bob mlci approve gate --env production --version 2 >a.txt && test_grep "approvals 2/2" a.txt &&
	mlci status >st.txt && test_grep "mlci promote by an approver" st.txt
'

test_expect_success 'dry-run passes (exit 0) once every gate does, and still writes nothing; then the promotion' '
	before=$(tip) &&
	MLCI_ACTOR=alice mlci promote gate --to production --dry-run >dry.txt &&
	test_grep "would be promoted to production" dry.txt &&
	test "$(tip)" = "$before" &&
	MLCI_ACTOR=alice mlci promote gate --to production --reason "release 1" >p.txt &&
	test_grep "promoted gate-model@2 to production" p.txt &&
	git -C "$MLCI_HOME/state.git" log -1 --format=%B main >msg &&
	test_grep "^Gate: min_staging_runs pass: gate-model@2 has 1 passed run in staging" msg &&
	test_grep "^Gate: approvals pass: approvals 2/2 (alice, bob)" msg &&
	mlci history production >h.txt && test_grep "^gates and evidence:" h.txt &&
	test_grep "min_staging_runs *pass" h.txt && test_grep "model.slices *pass" h.txt
'

test_expect_success 'registry show MODEL@V: where the version is and was, from complete transitions' '
	mlci registry show gate-model@2 >v2.txt &&
	test_grep "^in  *staging since .*, production since " v2.txt &&
	test "$(sql "SELECT from_stage FROM stage_transitions WHERE version = 2 AND to_stage = ?" production)" = staging &&
	test "$(sql "SELECT count(*) FROM stage_transitions WHERE version = 1 AND to_stage = ?" replaced)" = 1 &&
	mlci registry show gate-model@1 >v1.txt &&
	test_grep "^was in  *staging .* to .* (replaced)" v1.txt &&
	mlci -o json registry show gate-model@1 | js "[(e[\"environment\"], e[\"now\"], e[\"left_as\"]) for e in d[\"environments\"]]" >e1 &&
	test "$(cat e1)" = "[(${SQ}staging${SQ}, False, ${SQ}replaced${SQ})]"
'

test_expect_success 'mlci reject: an approver rejects a pending candidate; its digest is not promoted until a new one' '
	echo w3 >repo/train/w.txt && commit_all repo "no review" &&
	mlci run --repo repo -o json >r4.json && test "$(js "d[\"promotion\"][\"action\"]" <r4.json)" = pending &&
	v=$(js "d[\"model\"][\"version\"]" <r4.json) &&
	test_must_fail 2 mlci reject gate --env staging --version "$v" &&
	MLCI_ACTOR="Test Author" test_must_fail 1 mlci reject gate --env staging --version "$v" --reason "mine" 2>err &&
	test_grep "self-review does not count" err &&
	MLCI_ACTOR=carol mlci reject gate --env staging --version "$v" --reason "too slow" >rj.txt &&
	test_grep "carol rejected gate-model@$v for staging" rj.txt &&
	test "$(sql "SELECT status, waiting_for FROM promotions WHERE environment = ? ORDER BY id DESC LIMIT 1" staging)" = "cancelled|rejected by carol: too slow" &&
	mlci -o json status | js "len([p for p in d[\"pending\"] if p[\"environment\"]==\"staging\"])" >n && test "$(cat n)" = 0 &&
	MLCI_ACTOR=carol test_must_fail 1 mlci approve gate --env staging --version "$v" 2>err &&
	test_grep "not a pending candidate" err &&
	(cd repo && git commit -q --allow-empty -m "again" -m "Reviewed-by: Rita <rita@example.com>") &&
	mlci run --repo repo -o json >r5.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r5.json)" = none &&
	js "d[\"promotion\"][\"detail\"]" <r5.json | grep -q "was rejected by carol: too slow" &&
	test "$(js "d[\"model\"][\"artifact\"]" <r5.json)" = "$(js "d[\"model\"][\"artifact\"]" <r4.json)" &&
	echo w4 >repo/train/w.txt && (cd repo && git add -A && git commit -q -m four -m "Reviewed-by: Rita <rita@example.com>") &&
	mlci run --repo repo -o json >r6.json && test "$(js "d[\"promotion\"][\"action\"]" <r6.json)" = promoted
'

test_expect_success 'a rejected candidate of a manual environment is refused by mlci promote' '
	mlci run --repo repo --no-cache -o json >r7.json &&
	v=$(state staging | js "d[\"model\"][\"version\"]") &&
	MLCI_ACTOR=bob mlci reject gate --env production --version "$v" --reason "bad slices" >/dev/null &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "refused: gate-model@$v was rejected by bob: bad slices; a new candidate is needed" err
'

test_done

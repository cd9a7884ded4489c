#!/bin/sh
# t0630-promote-soak-champion.sh - the release manager's gates that look past the run: min_soak (the time a
# version spent in "from", shown by mlci status), the champion gate (the model in production and the
# candidate re-scored by one command on one pinned evaluation set; a worse candidate is refused), and
# break-glass (mlci promote --override GATE --reason TEXT by an override approver, recorded as such).
. "$(dirname "$0")/lib.sh"

state() { git -C "$MLCI_HOME/state.git" show "main:environments/gate/$1.json"; }
export MLCI_DEPLOY_DIR="$SCRATCH/deployed"
SQ="'"
later() { date -u -d "+$1 hours" +%Y-%m-%dT%H:%M:%SZ; }

# a release of the model: its "accuracy" is what the model file holds; reviewed on main, then run once
# more (executing every step) so that it has a run in staging after it entered
release() {
	echo "$1" >repo/train/acc.txt &&
	(cd repo && git add -A && git commit -q -m "model $1" -m "Reviewed-by: Rita <rita@example.com>") &&
	mlci run --repo repo -o json >"rel-$1.json" &&
	test "$(js "d[\"promotion\"][\"action\"]" <"rel-$1.json")" = promoted &&
	mlci run --repo repo --no-cache -o json >/dev/null
}

test_expect_success 'setup: a model whose accuracy is its content, a score command, and the operator policy' '
	make_repo repo && mkdir -p repo/train &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: gate
	model: gate-model
	model_artifact: train/model.txt
	components:
	  train: { path: train, run: "cat acc.txt > $MLCI_OUT/model.txt && seq 1 40 > $MLCI_OUT/eval.csv",
	           outputs: [model.txt, eval.csv] }
	YAML
	cat >repo/score.py <<-\PY &&
	import json, os
	acc = float(open(os.environ["MLCI_MODEL"]).read())
	rows = sum(1 for _ in open(os.environ["MLCI_EVAL_SET"]))
	out = os.path.join(os.environ["MLCI_OUT"], "metrics.json")
	json.dump({"accuracy": acc, "rows": rows, "side": os.environ["MLCI_SIDE"]}, open(out, "w"))
	PY
	mkdir -p "$MLCI_HOME" &&
	cat >"$MLCI_HOME/policy.yaml" <<-\YAML &&
	groups: { oncall: [carol] }
	environments:
	  staging: { promote: semi, branches: [main], approvals: 1 }
	  production: { promote: manual, from: staging, min_staging_runs: 1, min_soak: 24h, approvers: [alice],
	                override_approvers: ["@oncall"],
	                champion: { metric: accuracy, tolerance: 0.01, eval_set: train/eval.csv, score: "python3 score.py" },
	                deploy: { command: "mkdir -p \"$MLCI_DEPLOY_DIR\" && cp \"$MLCI_MODEL\" \"$MLCI_DEPLOY_DIR/production.txt\"" } }
	YAML
	release 0.97
'

test_expect_success 'min_soak: refused until the version has been in staging long enough; status shows the time left' '
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "refused: in staging for .*, min_soak 24h00m: 2[34]h..m left" err &&
	mlci status >st.txt && test_grep "^soaking" st.txt &&
	test_grep "^production  *gate  *gate-model@1  *staging since .* 2[34]h..m" st.txt &&
	mlci -o json status | js "d[\"soak\"][0][\"left_ms\"] > 23 * 3600 * 1000" >left && test "$(cat left)" = True &&
	MLCI_NOW=$(later 25) mlci status >st2.txt && test_grep "soaked" st2.txt
'

test_expect_success 'after the soak, with nothing in production, the champion gate has nothing to beat' '
	MLCI_NOW=$(later 25) MLCI_ACTOR=alice mlci promote gate --to production >p.txt &&
	test_grep "promoted gate-model@1 to production" p.txt &&
	test "$(cat "$MLCI_DEPLOY_DIR/production.txt")" = 0.97 &&
	git -C "$MLCI_HOME/state.git" log -1 --format=%B main >msg &&
	test_grep "^Gate: champion pass: production runs no model: nothing to beat" msg &&
	test_grep "^Gate: min_soak pass: in staging for 2[56]h..m, min_soak 24h00m" msg
'

test_expect_success 'champion: a worse candidate is refused after both models are scored on one pinned set' '
	release 0.93 &&
	MLCI_NOW=$(later 26) MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "refused: accuracy on train/eval.csv (.*): candidate gate-model@2 0.93 vs champion gate-model@1 0.97 (higher is better, tolerance 0.01): the candidate is worse" err &&
	test "$(state production | js "d[\"model\"][\"version\"]")" = 1 &&
	MLCI_NOW=$(later 26) MLCI_ACTOR=alice test_must_fail 1 mlci -o json promote gate --to production --dry-run >dry.json &&
	champ() { js "[g for g in d[\"gates\"] if g[\"name\"]==\"champion\"][0][\"details\"]$1" <dry.json; } &&
	test "$(champ "[\"champion\"][\"accuracy\"]") $(champ "[\"candidate\"][\"accuracy\"]")" = "0.97 0.93" &&
	test "$(champ "[\"champion\"][\"rows\"]") $(champ "[\"candidate\"][\"rows\"]")" = "40 40" &&
	test "$(champ "[\"eval_digest\"]")" = "$(state staging | js "d[\"artifacts\"][\"train/eval.csv\"]")" &&
	run=$(state staging | js "d[\"run\"]") &&
	test_grep "scoring the champion (gate-model@1)" "$MLCI_HOME/logs/$run/champion-production.log" &&
	test_grep "scoring the candidate (gate-model@2)" "$MLCI_HOME/logs/$run/champion-production.log"
'

test_expect_success 'break glass: --override needs a reason and an override approver, and is recorded as an override' '
	MLCI_NOW=$(later 26) MLCI_ACTOR=carol test_must_fail 2 mlci promote gate --to production --override champion 2>err &&
	test_grep "needs --reason" err &&
	MLCI_NOW=$(later 26) MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production --override champion --reason "hotfix" 2>err &&
	test_grep "refused: alice may not override gates of production (override_approvers: @oncall (carol)" err &&
	MLCI_NOW=$(later 26) MLCI_ACTOR=carol test_must_fail 2 mlci promote gate --to production --override approver --reason x 2>err &&
	test_grep "not a gate that can be overridden" err &&
	MLCI_NOW=$(later 26) MLCI_ACTOR=carol mlci promote gate --to production --override champion --reason "incident 42: the old model leaks PII" >p.txt &&
	test_grep "promoted gate-model@2 to production (state .*, by carol, overriding champion)" p.txt &&
	test "$(cat "$MLCI_DEPLOY_DIR/production.txt")" = 0.93 &&
	test "$(state production | js "(d[\"override\"][\"gate\"], d[\"override\"][\"by\"])")" = "(${SQ}champion${SQ}, ${SQ}carol${SQ})" &&
	git -C "$MLCI_HOME/state.git" log -1 --format=%B main >msg &&
	test_grep "^Override: champion by carol" msg && test_grep "^Reason: incident 42" msg &&
	test "$(sql "SELECT actor, reason FROM stage_transitions WHERE version = 2 AND to_stage = ?" production)" = "carol|override champion by carol: incident 42: the old model leaks PII" &&
	mlci history production >h.txt && test_grep "override champion by carol: incident 42" h.txt &&
	mlci registry show gate-model@1 >v1.txt && test_grep "^was in .*production .* (replaced)" v1.txt
'

test_done

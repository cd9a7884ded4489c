#!/bin/sh
# t0600-promote.sh - promotion after a run (GitOps state repo): auto to test from dev/*, semi to
# staging from main with Reviewed-by trailers (pending otherwise, self-approval refused), policy read
# from main only, a failing deploy hook rolled back, status and history. Asserts on the state repo
# (git CLI) and the store (SQLite) directly.
. "$(dirname "$0")/lib.sh"

state() { git -C "$MLCI_HOME/state.git" show "main:environments/${2:-promo}/$1.json"; }
export MLCI_DEPLOY_DIR="$SCRATCH/deployed"

test_expect_success 'setup: a pipeline repo with test (auto), staging (semi, 1 approval) and production (manual)' '
	make_repo repo && mkdir -p repo/train &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: promo
	model: promo-model
	model_artifact: train/model.txt
	components:
	  train: { path: train, run: "cat w.txt > $MLCI_OUT/model.txt", outputs: [model.txt] }
	environments:
	  test: { promote: auto, branches: ["dev/*"], deploy: { command: "sh deploy.sh test" } }
	  staging: { promote: semi, branches: [main], approvals: 1 }
	  production: { promote: manual, from: staging, approvers: [alice] }
	YAML
	cat >repo/deploy.sh <<-\SH &&
	set -eu
	test -f "$MLCI_MODEL"
	mkdir -p "$MLCI_DEPLOY_DIR/$1"
	cp "$MLCI_MODEL" "$MLCI_DEPLOY_DIR/$1/model.txt"
	cp "$MLCI_STATE_JSON" "$MLCI_DEPLOY_DIR/$1/state.json"
	SH
	echo w1 >repo/train/w.txt && commit_all repo "first"
'

test_expect_success 'a passing run on dev/* is promoted to test: one state commit, a transition, deployed' '
	git -C repo switch -q -c dev/a && echo w2 >repo/train/w.txt && commit_all repo "dev change" &&
	mlci run --repo repo -o json >r1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r1.json)" = promoted &&
	test "$(js "d[\"promotion\"][\"environment\"]" <r1.json)" = test &&
	sc=$(js "d[\"promotion\"][\"state_commit\"]" <r1.json) &&
	test "$(git -C "$MLCI_HOME/state.git" rev-parse main)" = "$sc" &&
	state test | js "d[\"commit\"]" >c && test "$(cat c)" = "$(git -C repo rev-parse HEAD)" &&
	state test | js "d[\"model\"][\"version\"]" >v && test "$(cat v)" = 1 &&
	test "$(sql "SELECT environment, to_stage, state_commit FROM stage_transitions")" = "test|test|$sc" &&
	test "$(cat "$MLCI_DEPLOY_DIR/test/model.txt")" = w2 &&
	git -C "$MLCI_HOME/state.git" log -1 --format=%s main | grep -q "^promote promo to test: promo-model@1"
'

test_expect_success 'the same commit again promotes nothing (no empty state commit)' '
	before=$(git -C "$MLCI_HOME/state.git" rev-list --count main) &&
	mlci run --repo repo -o json >r2.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r2.json)" = none &&
	test "$(git -C "$MLCI_HOME/state.git" rev-list --count main)" = "$before"
'

test_expect_success 'promotion rules come from main, never from the dev branch under test' '
	sed -i "s/staging: { promote: semi, branches: \[main\], approvals: 1 }/staging: { promote: auto, branches: [\"dev\/*\"] }/" repo/mlci.yaml &&
	sed -i "s/test: { promote: auto, branches: \[\"dev\/\*\"\]/test: { promote: auto, branches: [\"nothing\/*\"]/" repo/mlci.yaml &&
	commit_all repo "try to promote myself to staging" &&
	mlci run --repo repo -o json >r3.json &&
	test "$(js "d[\"promotion\"][\"environment\"]" <r3.json)" = test &&
	! git -C "$MLCI_HOME/state.git" cat-file -e main:environments/promo/staging.json 2>/dev/null
'

test_expect_success 'main without an approval trailer is pending, shown by mlci status' '
	git -C repo switch -q main && echo w3 >repo/train/w.txt && commit_all repo "on main" &&
	mlci run --repo repo -o json >r4.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r4.json)" = pending &&
	mlci -o json status >st.json &&
	test "$(js "[p[\"environment\"] + \" \" + p[\"waiting_for\"][:13] for p in d[\"pending\"]][0]" <st.json)" = "staging approvals 0/1" &&
	mlci status >st.txt && test_grep "approvals 0/1" st.txt
'

test_expect_success 'a trailer by the author is not an approval' '
	echo w4 >repo/train/w.txt &&
	(cd repo && git add -A && git commit -q -m "self" -m "Reviewed-by: Test Author <author@example.com>") &&
	mlci run --repo repo -o json >r5.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r5.json)" = pending
'

test_expect_success 'a merge with a Reviewed-by trailer of someone else is promoted to staging' '
	echo w5 >repo/train/w.txt &&
	(cd repo && git add -A && git commit -q -m "merge" -m "Reviewed-by: Alice <alice@example.com>") &&
	mlci run --repo repo -o json >r6.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r6.json)" = promoted &&
	test "$(state staging | js "\",\".join(d[\"approvals\"])")" = alice@example.com &&
	mlci -o json status | js "len(d[\"pending\"])" >n && test "$(cat n)" = 0 &&
	test "$(sql "SELECT count(*) FROM promotions WHERE status=\"superseded\"")" -ge 1
'

test_expect_success 'a failing deploy hook rolls the environment back with a new state commit and exits 1' '
	git -C repo switch -q dev/a && echo "exit 9" >>repo/deploy.sh && echo w6 >repo/train/w.txt && commit_all repo "broken deploy" &&
	good=$(state test | js "d[\"commit\"]") &&
	test_must_fail 1 mlci run --repo repo -o json >r7.json &&
	test "$(js "d[\"status\"]" <r7.json)" = passed &&
	test "$(js "d[\"promotion\"][\"action\"]" <r7.json)" = failed &&
	js "d[\"promotion\"][\"detail\"]" <r7.json | grep -q "rolled back" &&
	test "$(state test | js "d[\"commit\"]")" = "$good" &&
	js "d[\"promotion\"][\"detail\"]" <r7.json | grep -q "redeployed the previous state" &&
	test "$(js "d[\"commit\"]" <"$MLCI_DEPLOY_DIR/test/state.json")" = "$good" &&
	git -C "$MLCI_HOME/state.git" log -2 --format=%s main >log &&
	head -1 log | grep -q "^rollback test: deploy of run" &&
	tail -1 log | grep -q "^promote promo to test" &&
	test "$(sql "SELECT to_stage FROM stage_transitions ORDER BY id DESC LIMIT 1")" = rolled-back &&
	test "$(sql "SELECT to_stage||\" \"||reason FROM stage_transitions ORDER BY id DESC LIMIT 1 OFFSET 1")" = \
		"test restored: the deploy of promo-model@$(js "d[\"model\"][\"version\"]" <r7.json) failed"
'

test_expect_success 'mlci history lists the environment'"'"'s state commits newest first' '
	mlci -o json history test >h.json &&
	test "$(js "len(d)" <h.json)" -ge 3 &&
	test "$(js "d[0][\"state_commit\"]" <h.json)" = "$(git -C "$MLCI_HOME/state.git" rev-parse main)" &&
	mlci history test >h.txt && test_grep "^STATE " h.txt
'

# start_receiver NAME STATUS MAX: webhook receiver in the background; waits until it listens
start_receiver() {
	python3 "$TOP/tests/e2e/webhook_receiver.py" "$1.port" "$1.log" s3cret "$2" "$3" &
	rpid=$!
	i=0
	while [ ! -s "$1.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	test -s "$1.port"
}
# hook_spec PORT: main's spec for the webhook pipeline, pointing at the receiver on PORT
hook_spec() {
	printf "pipeline: hook\ncomponents:\n  t: { path: t, run: \"cp a \$MLCI_OUT/model.txt\", outputs: [model.txt] }\nenvironments:\n  test: { promote: auto, branches: [\"dev/*\"], deploy: { webhook: \"http://127.0.0.1:%s/deploy\" } }\n" "$1" >wrepo/mlci.yaml
}

test_expect_success 'a webhook deploy POSTs the state, HMAC-signed with the configured secret' '
	start_receiver ok 200 1 &&
	make_repo wrepo && mkdir wrepo/t && echo a >wrepo/t/a && hook_spec "$(cat ok.port)" &&
	commit_all wrepo one && git -C wrepo switch -q -c dev/w && echo b >wrepo/t/a && commit_all wrepo two &&
	MLCI_DEPLOY_WEBHOOK_SECRET=s3cret mlci run --repo wrepo -o json >w1.json &&
	wait $rpid &&
	test "$(js "d[\"promotion\"][\"action\"]" <w1.json)" = promoted &&
	test_grep "^signed test {" ok.log &&
	test_grep "\"run\":\"$(js "d[\"id\"]" <w1.json)\"" ok.log
'

test_expect_success 'a webhook answering 500 is retried, then the environment is rolled back' '
	start_receiver bad 500 3 &&
	git -C wrepo switch -q main && hook_spec "$(cat bad.port)" && commit_all wrepo "receiver moved" &&
	git -C wrepo switch -q dev/w && echo c >wrepo/t/a && commit_all wrepo three &&
	good=$(state test hook | js "d[\"run\"]") &&
	MLCI_DEPLOY_WEBHOOK_SECRET=s3cret test_must_fail 1 mlci run --repo wrepo -o json >w2.json &&
	wait $rpid &&
	test "$(grep -c "^signed test" bad.log)" = 3 &&
	js "d[\"promotion\"][\"detail\"]" <w2.json | grep -q "answered HTTP 500 (attempt 3 of 3)" &&
	test "$(state test hook | js "d[\"run\"]")" = "$good"
'

test_done

#!/bin/sh
# t0610-promote-gates.sh - promotion gates outside a run: mlci promote (manual rule: approvers,
# min_staging_runs, N-of-M approvals bound to the digest), self-approval, freeze windows, policy.yaml
# over a dev branch's spec, rollback pins and unpin, a SIGKILL between the state commit and the
# registry write reconciled, two concurrent promotions of one environment, status --at.
. "$(dirname "$0")/lib.sh"

state() { git -C "$MLCI_HOME/state.git" show "main:environments/${2:-gate}/$1.json"; }
version_in() { state "$1" | js "d[\"model\"][\"version\"]"; }
export MLCI_DEPLOY_DIR="$SCRATCH/deployed"

test_expect_success 'setup: test (auto), staging (semi), production (manual, 2 staging runs, 2 of alice/bob)' '
	make_repo repo && mkdir -p repo/train &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: gate
	model: gate-model
	model_artifact: train/model.txt
	components:
	  train: { path: train, run: "cat w.txt > $MLCI_OUT/model.txt", outputs: [model.txt] }
	environments:
	  test: { promote: auto, branches: ["dev/*"], deploy: { command: "sh deploy.sh test" } }
	  staging: { promote: semi, branches: [main], approvals: 1 }
	  production: { promote: manual, from: staging, min_staging_runs: 2, approvers: [alice, bob], approvals: 2,
	                deploy: { command: "sh deploy.sh production" } }
	YAML
	cat >repo/deploy.sh <<-\SH &&
	set -eu
	mkdir -p "$MLCI_DEPLOY_DIR/$1"
	cp "$MLCI_MODEL" "$MLCI_DEPLOY_DIR/$1/model.txt"
	if [ -n "${MLCI_DEPLOY_HOLD:-}" ]; then
		touch "$MLCI_DEPLOY_DIR/started"
		while [ ! -e "$MLCI_DEPLOY_HOLD" ]; do sleep 0.05; done
	fi
	SH
	echo w1 >repo/train/w.txt && commit_all repo "first"
'

test_expect_success 'main without a trailer is pending; with a Reviewed-by trailer it goes to staging' '
	mlci run --repo repo -o json >r1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r1.json)" = pending &&
	echo w2 >repo/train/w.txt &&
	(cd repo && git add -A && git commit -q -m "merge" -m "Reviewed-by: Carol <carol@example.com>") &&
	mlci run --repo repo -o json >r2.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r2.json)" = promoted &&
	test "$(version_in staging)" = 2
'

test_expect_success 'production by a non-approver is refused with exit 1 naming the rule' '
	MLCI_ACTOR=mallory test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "refused: mallory is not an approver of production" err &&
	test_grep "approvers: alice, bob" err &&
	! git -C "$MLCI_HOME/state.git" cat-file -e main:environments/gate/production.json 2>/dev/null
'

test_expect_success 'an approver is refused before min_staging_runs passed runs in staging' '
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "has 0 passed runs in staging since it entered at" err &&
	test_grep "min_staging_runs is 2 (rule manual for production); not counted: 1 before it entered staging" err
'

test_expect_success 'runs served entirely from the cache do not count; executed ones do' '
	mlci run --repo repo -o json >r3c.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r3c.json)" = none &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "has 0 passed runs in staging" err && test_grep "1 served entirely from the cache" err &&
	mlci run --repo repo --no-cache -o json >r3a.json &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "has 1 passed run in staging" err
'

test_expect_success 'with 2 staging runs but no approvals the candidate is pending (approvals 0/2)' '
	mlci run --repo repo --no-cache -o json >r3.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r3.json)" = none &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production >out &&
	test_grep "pending: waiting for approvals 0/2" out &&
	mlci -o json status | js "[p[\"waiting_for\"] for p in d[\"pending\"] if p[\"environment\"]==\"production\"][0]" >w &&
	test "$(cat w)" = "approvals 0/2"
'

test_expect_success 'self-approval is refused; the same approver twice counts once' '
	MLCI_ACTOR=author test_must_fail 1 mlci approve gate --env production --version 2 2>err &&
	test_grep "self-approval does not count" err &&
	MLCI_ACTOR=mallory test_must_fail 1 mlci approve gate --env production --version 2 2>err &&
	test_grep "not an approver" err &&
	MLCI_ACTOR=alice mlci approve gate --env production --version 2 >a1 &&
	test_grep "approvals 1/2" a1 &&
	MLCI_ACTOR=alice mlci approve gate --env production --version 2 >a2 &&
	test_grep "counted once" a2 && test_grep "approvals 1/2" a2 &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production >out &&
	test_grep "approvals 1/2" out
'

test_expect_success 'a freeze window (policy.yaml) queues the promotion; after it, it goes through' '
	cat >"$MLCI_HOME/policy.yaml" <<-\YAML &&
	groups: { release: [alice, bob] }
	environments:
	  test: { promote: auto, branches: ["dev/*"], deploy: { command: "sh deploy.sh test" } }
	  staging: { promote: semi, branches: [main], approvals: 1 }
	  production: { promote: manual, from: staging, min_staging_runs: 2, approvers: ["@release"], approvals: 2,
	                freeze: ["2030-01-01 .. 2030-01-08T00:00Z"], deploy: { command: "sh deploy.sh production" } }
	YAML
	MLCI_ACTOR=bob mlci approve gate --env production --version 2 >a3 && test_grep "approvals 2/2" a3 &&
	MLCI_NOW=2030-01-02T00:00:00Z MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production >out &&
	test_grep "freeze until 2030-01-08T00:00:00Z" out &&
	MLCI_NOW=2030-01-02T00:00:00Z mlci status >st && test_grep "freeze until 2030-01-08" st &&
	MLCI_NOW=2030-01-09T00:00:00Z MLCI_ACTOR=alice mlci promote gate --to production --reason "release 1" >out &&
	test_grep "promoted gate-model@2 to production" out &&
	test "$(version_in production)" = 2 &&
	test "$(cat "$MLCI_DEPLOY_DIR/production/model.txt")" = w2 &&
	mlci -o json status | js "len([p for p in d[\"pending\"] if p[\"environment\"]==\"production\"])" >np &&
	test "$(cat np)" = 0 &&
	test "$(sql "SELECT count(*) FROM promotions WHERE environment = ? AND status = ?" production promoted)" = 1 &&
	git -C "$MLCI_HOME/state.git" log -1 --format="%an|%cn|%B" main >msg &&
	head -1 msg | grep -q "^alice|mlci|promote gate to production: gate-model@2" &&
	test_grep "Approved-by: alice" msg && test_grep "Approved-by: bob" msg && test_grep "Reason: release 1" msg &&
	test "$(sql "SELECT to_stage, actor FROM stage_transitions WHERE state_commit = ?" "$(git -C "$MLCI_HOME/state.git" rev-parse main)")" = "production|alice"
'

test_expect_success 'policy.yaml wins: a dev branch (or main) naming itself an approver gains nothing' '
	git -C repo switch -q -c dev/evil &&
	sed -i "s/approvers: \[alice, bob\]/approvers: [alice, bob, mallory]/" repo/mlci.yaml && commit_all repo "let me in" &&
	mlci run --repo repo -o json >r4.json &&
	MLCI_ACTOR=mallory test_must_fail 1 mlci promote gate --to production 2>err &&
	test_grep "not an approver" err && test_grep "policy.yaml" err &&
	git -C repo switch -q main
'

test_expect_success 'approvals expire when the candidate changes (a new version in staging)' '
	echo w3 >repo/train/w.txt &&
	(cd repo && git add -A && git commit -q -m "merge 2" -m "Reviewed-by: Carol <carol@example.com>") &&
	mlci run --repo repo -o json >r5.json && test "$(version_in staging)" = 4 &&
	mlci run --repo repo --no-cache -o json >r6.json &&
	mlci run --repo repo --no-cache -o json >r6b.json &&
	MLCI_NOW=2030-01-20T00:00:00Z MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production >out &&
	test_grep "approvals 0/2" out &&
	MLCI_ACTOR=alice mlci approve gate --env production --version 4 >/dev/null &&
	MLCI_ACTOR=bob mlci approve gate --env production --version 4 >/dev/null &&
	MLCI_NOW=2030-02-01T00:00:00Z MLCI_ACTOR=bob mlci promote gate --to production >out &&
	test "$(version_in production)" = 4
'

test_expect_success 'status --at gives the version each environment ran at a past time' '
	mlci -o json status --at 2030-01-15T00:00:00Z >at1.json &&
	test "$(js "[x[\"state\"][\"model\"][\"version\"] for x in d[\"environments\"] if x[\"environment\"]==\"production\"][0]" <at1.json)" = 2 &&
	mlci -o json status --at 2030-02-02T00:00:00Z >at2.json &&
	test "$(js "[x[\"state\"][\"model\"][\"version\"] for x in d[\"environments\"] if x[\"environment\"]==\"production\"][0]" <at2.json)" = 4 &&
	mlci -o json status --at 2029-12-31T00:00:00Z >at0.json &&
	test "$(js "len([x for x in d[\"environments\"] if x[\"environment\"]==\"production\"])" <at0.json)" = 0 &&
	mlci status --at 2030-01-15 >at.txt && test_grep "^as of 2030-01-15T00:00:00Z" at.txt
'

test_expect_success 'rollback writes the previous state, deploys it, records it and pins' '
	MLCI_NOW=2030-02-02T00:00:00Z MLCI_ACTOR=bob mlci rollback production --reason "bad model" >out &&
	test_grep "rolled production back to gate-model@2" out &&
	test "$(version_in production)" = 2 &&
	test "$(cat "$MLCI_DEPLOY_DIR/production/model.txt")" = w2 &&
	test "$(sql "SELECT to_stage, actor, version FROM stage_transitions ORDER BY id DESC LIMIT 1")" = "rolled-back|bob|4" &&
	test "$(sql "SELECT to_stage, actor, version FROM stage_transitions ORDER BY id DESC LIMIT 1 OFFSET 1")" = "production|bob|2" &&
	mlci -o json status | js "[p[\"by\"] for p in d[\"pins\"] if p[\"environment\"]==\"production\"][0]" >p &&
	test "$(cat p)" = bob &&
	mlci status >st && test_grep "rollback by bob" st &&
	MLCI_ACTOR=alice test_must_fail 1 mlci promote gate --to production 2>err && test_grep "pinned by rollback bob" err &&
	mlci history production >h && test_grep "rollback" h
'

test_expect_success 'a rollback pin holds auto promotions (a new dev run does not replace it); unpin releases' '
	git -C repo switch -q -c dev/a && echo d1 >repo/train/w.txt && commit_all repo "dev 1" &&
	mlci run --repo repo -o json >d1.json && test "$(js "d[\"promotion\"][\"action\"]" <d1.json)" = promoted &&
	echo d2 >repo/train/w.txt && commit_all repo "dev 2" &&
	mlci run --repo repo -o json >d2.json && v_d2=$(version_in test) &&
	MLCI_ACTOR=bob mlci rollback test >out && test_grep "pinned" out &&
	test "$(cat "$MLCI_DEPLOY_DIR/test/model.txt")" = d1 && pinned=$(state test | js "d[\"commit\"]") &&
	echo d3 >repo/train/w.txt && commit_all repo "dev 3" &&
	mlci run --repo repo -o json >d3.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <d3.json)" = pending &&
	js "d[\"promotion\"][\"detail\"]" <d3.json | grep -q "pinned by rollback bob" &&
	test "$(state test | js "d[\"commit\"]")" = "$pinned" &&
	mlci unpin test >out && test_grep "unpinned test; released" out &&
	test "$(state test | js "d[\"commit\"]")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(cat "$MLCI_DEPLOY_DIR/test/model.txt")" = d3
'

test_expect_success 'SIGKILL between the state commit and the registry write: reconciled, exactly one row; the dead lock is taken over' '
	echo d4 >repo/train/w.txt && commit_all repo "dev 4" &&
	before=$(sql "SELECT count(*) FROM stage_transitions") &&
	MLCI_TEST_CRASH_AFTER=state-commit test_must_fail 137 mlci run --repo repo -o json >/dev/null 2>&1;
	tip=$(git -C "$MLCI_HOME/state.git" rev-parse main) &&
	test "$(state test | js "d[\"commit\"]")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(sql "SELECT count(*) FROM stage_transitions WHERE state_commit = ?" "$tip")" = 0 &&
	mlci promote gate --to test >/dev/null &&
	test "$(sql "SELECT count(*) FROM stage_transitions WHERE state_commit = ? AND to_stage = ?" "$tip" test)" = 1 &&
	test "$(sql "SELECT count(*) FROM stage_transitions WHERE state_commit = ? AND to_stage = ?" "$tip" replaced)" = 1 &&
	mlci promote gate --to test >/dev/null &&
	test "$(sql "SELECT count(*) FROM stage_transitions WHERE state_commit = ?" "$tip")" = 2 &&
	test "$(sql "SELECT count(*) FROM stage_transitions")" = $((before + 2)) &&
	test "$(sql "SELECT count(*) FROM env_locks WHERE environment = ?" test)" = 1 &&
	echo d5 >repo/train/w.txt && commit_all repo "dev 5" &&
	mlci run --repo repo -o json >d5.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <d5.json)" = promoted &&
	test "$(sql "SELECT count(*) FROM env_locks WHERE environment = ?" test)" = 0
'

test_expect_success 'two concurrent promotions of one environment: the second waits, then fails naming the holder' '
	rm -f "$MLCI_DEPLOY_DIR/started" &&
	(MLCI_DEPLOY_HOLD="$SCRATCH/go" MLCI_ACTOR=alice mlci rollback production --to 4 >first.out 2>&1; echo $? >first.rc) &
	i=0; while [ ! -e "$MLCI_DEPLOY_DIR/started" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done;
	ls "$MLCI_DEPLOY_DIR" && test -e "$MLCI_DEPLOY_DIR/started" &&
	{ MLCI_LOCK_TIMEOUT=1 MLCI_ACTOR=bob test_must_fail 3 mlci rollback production --to 2 2>err || { cat err; false; }; } &&
	test_grep "being promoted by alice (pid" err &&
	touch "$SCRATCH/go" && wait &&
	cat first.out && test "$(cat first.rc)" = 0 && test "$(version_in production)" = 4 &&
	test "$(git -C "$MLCI_HOME/state.git" rev-list --min-parents=2 --count main)" = 0 &&
	test "$(sql "SELECT count(*) FROM env_locks WHERE environment = ?" production)" = 0
'

test_expect_success 'mlci approve releases a pending semi candidate once it has enough approvals' '
	git -C repo switch -q main && echo w9 >repo/train/w.txt && commit_all repo "no review yet" &&
	mlci run --repo repo -o json >s1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <s1.json)" = pending &&
	v=$(js "d[\"model\"][\"version\"]" <s1.json 2>/dev/null || sql "SELECT max(version) FROM model_versions") &&
	MLCI_ACTOR=author test_must_fail 1 mlci approve gate --env staging --version "$v" 2>err &&
	test_grep "self-approval" err &&
	test "$(version_in staging)" != "$v" &&
	MLCI_ACTOR=carol mlci approve gate --env staging --version "$v" >out &&
	test_grep "released: gate-model@$v promoted to staging" out &&
	test "$(version_in staging)" = "$v" &&
	test "$(state staging | js "\",\".join(d[\"approvals\"])")" = carol &&
	test "$(sql "SELECT status FROM promotions WHERE environment = ? ORDER BY id DESC LIMIT 1" staging)" = promoted
'

test_expect_success 'a weekly freeze holds an auto promotion after a run; mlci promote after the window releases it' '
	sed -i "s|  test: { promote: auto, branches: \[\"dev/\*\"\],|  test: { promote: auto, branches: [\"dev/*\"], freeze: \"Fri 18:00 .. Mon 08:00\",|" "$MLCI_HOME/policy.yaml" &&
	grep -q "Fri 18:00" "$MLCI_HOME/policy.yaml" &&
	git -C repo switch -q dev/a && echo f1 >repo/train/w.txt && commit_all repo "friday evening" &&
	before=$(state test | js "d[\"commit\"]") &&
	MLCI_NOW=2030-01-04T19:00:00Z mlci run --repo repo -o json >f1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <f1.json)" = pending &&
	js "d[\"promotion\"][\"detail\"]" <f1.json | grep -q "freeze until 2030-01-07T08:00:00Z" &&
	test "$(state test | js "d[\"commit\"]")" = "$before" &&
	MLCI_NOW=2030-01-05T12:00:00Z test_must_fail 1 mlci promote gate --to test >out && test_grep "still pending" out &&
	MLCI_NOW=2030-01-07T08:00:00Z mlci promote gate --to test >out && test_grep "released" out &&
	test "$(state test | js "d[\"commit\"]")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(cat "$MLCI_DEPLOY_DIR/test/model.txt")" = f1
'

test_expect_success 'supersede: false keeps every pending candidate; approve picks the version named' '
	sed -i "s|  staging: { promote: semi, branches: \[main\], approvals: 1 }|  staging: { promote: semi, branches: [main], approvals: 1, supersede: false }|" "$MLCI_HOME/policy.yaml" &&
	grep -q "supersede: false" "$MLCI_HOME/policy.yaml" &&
	git -C repo switch -q main && echo s1 >repo/train/w.txt && commit_all repo "s1" &&
	mlci run --repo repo -o json >p1.json && v1=$(js "d[\"model\"][\"version\"]" <p1.json) &&
	echo s2 >repo/train/w.txt && commit_all repo "s2" &&
	mlci run --repo repo -o json >p2.json && v2=$(js "d[\"model\"][\"version\"]" <p2.json) &&
	test "$(sql "SELECT count(*) FROM promotions WHERE environment = ? AND status = ?" staging pending)" = 2 &&
	MLCI_ACTOR=carol mlci approve gate --env staging --version "$v1" >out &&
	test_grep "released: gate-model@$v1 promoted to staging" out &&
	test "$(version_in staging)" = "$v1" &&
	test "$(sql "SELECT count(*) FROM promotions WHERE environment = ? AND status = ?" staging pending)" = 1
'

test_expect_success 'an invalid policy.yaml is reported with file:line:col' '
	printf "environments:\n  production: { promote: manual, from: staging, approvers: [\"@nobody\"], freeze: [\"soon\"] }\n" >"$MLCI_HOME/policy.yaml" &&
	MLCI_ACTOR=alice test_must_fail 2 mlci promote gate --to production 2>err &&
	test_grep "policy.yaml:2:" err && test_grep "invalid freeze window" err && test_grep "unknown group" err
'

test_done

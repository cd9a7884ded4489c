#!/bin/sh
# t0730-deploy-ssh.sh - the ssh deploy hook through a private sshd (model and state uploaded by SFTP,
# remote command run with MLCI_* set), a failing remote command or an unknown host key rolled back, and
# the post-deploy health check (a failing health URL rolled back).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sshd.sh"

state() { git -C "$MLCI_HOME/state.git" show "main:environments/${2:-sp}/$1.json"; }
HEALTH_PID=
stop_all() {
	[ -z "$HEALTH_PID" ] || kill "$HEALTH_PID" 2>/dev/null
	sshd_stop
	cleanup
}
trap stop_all EXIT

sshd_require "$SCRATCH/sshd"
python3 "$TOP/tests/e2e/health_server.py" "$SCRATCH/health.port" &
HEALTH_PID=$!
export MLCI_DEPLOY_SSH_KEY="$SSH_KEY" MLCI_DEPLOY_KNOWN_HOSTS="$KNOWN_HOSTS" MLCI_DEPLOY_HEALTH_TIMEOUT=1s
REMOTE="$SCRATCH/remote"

# spec ENV_EXTRA: write mlci.yaml on main with the test environment deploying over ssh
spec() {
	cat >repo/mlci.yaml <<-YAML
	pipeline: sp
	model: sp-model
	model_artifact: train/model.txt
	components:
	  train: { path: train, run: "cat w.txt > \$MLCI_OUT/model.txt", outputs: [model.txt] }
	environments:
	  test: { promote: auto, branches: ["dev/*"], $1
	          deploy: { ssh: "$(id -un)@127.0.0.1:$SSHD_PORT", command: "sh $SCRATCH/remote-deploy.sh", dir: "$REMOTE/test" } }
	YAML
}

test_expect_success 'setup: a repo whose test environment deploys over ssh' '
	wait_file health.port &&
	cat >remote-deploy.sh <<-\SH &&
	cat >/dev/null # stdin is closed: reading it must not hang the deploy
	echo "remote: deploying $MLCI_MODEL_NAME@$MLCI_MODEL_VERSION to $MLCI_ENV"
	test ! -f "$(dirname "$0")/fail-deploy" || { echo "remote: refusing"; exit 7; }
	printf "%s %s %s %s %s\n" "$MLCI_ENV" "$MLCI_MODEL_VERSION" "$MLCI_MODEL" "$MLCI_STATE_JSON" "$(pwd)" >deployed.txt
	SH
	make_repo repo && mkdir -p repo/train && spec "" && echo w1 >repo/train/w.txt && commit_all repo first
'

test_expect_success 'ssh deploy: model and state uploaded by SFTP, remote command run with MLCI_* set' '
	git -C repo switch -q -c dev/a && echo w2 >repo/train/w.txt && commit_all repo dev &&
	mlci run --repo repo -o json >r1.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r1.json)" = promoted &&
	digest=$(state test | js "d[\"model\"][\"artifact\"]") &&
	test "$(sha256sum "$REMOTE/test/model.txt" | cut -d" " -f1)" = "${digest#sha256:}" &&
	test "$(js "d[\"commit\"]" <"$REMOTE/test/state.json")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(cat "$REMOTE/test/deployed.txt")" = "test 1 model.txt state.json $REMOTE/test" &&
	run=$(js "d[\"id\"]" <r1.json) &&
	test_grep "remote: deploying sp-model@1 to test" "$MLCI_HOME/logs/$run/deploy-test.log"
'

test_expect_success 'a failing remote command rolls the environment back' '
	good=$(state test | js "d[\"commit\"]") &&
	touch "$SCRATCH/fail-deploy" && echo w3 >repo/train/w.txt && commit_all repo "breaks deploy" &&
	test_must_fail 1 mlci run --repo repo -o json >r2.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r2.json)" = failed &&
	js "d[\"promotion\"][\"detail\"]" <r2.json | grep -q "remote command exited with status 7" &&
	test "$(state test | js "d[\"commit\"]")" = "$good" &&
	git -C "$MLCI_HOME/state.git" log -1 --format=%s main | grep -q "^rollback test: deploy of run" &&
	test "$(sql "SELECT to_stage FROM stage_transitions ORDER BY id DESC LIMIT 1")" = rolled-back &&
	rm "$SCRATCH/fail-deploy"
'

test_expect_success 'an unknown host key is refused: the deploy fails and is rolled back' '
	: >empty_known_hosts && echo w4 >repo/train/w.txt && commit_all repo "unknown host" &&
	MLCI_DEPLOY_KNOWN_HOSTS="$SCRATCH/empty_known_hosts" test_must_fail 1 mlci run --repo repo -o json >r3.json &&
	js "d[\"promotion\"][\"detail\"]" <r3.json | grep -q "host unknown" &&
	MLCI_DEPLOY_KNOWN_HOSTS="$WRONG_KNOWN_HOSTS" test_must_fail 1 mlci run --repo repo --no-cache -o json >r4.json &&
	js "d[\"promotion\"][\"detail\"]" <r4.json | grep -q "does NOT match" &&
	test "$(git -C repo rev-parse HEAD)" != "$(js "d[\"commit\"]" <"$REMOTE/test/state.json")"
'

test_expect_success 'a passing health URL keeps the deploy' '
	git -C repo switch -q main && spec "health: \"http://127.0.0.1:$(cat health.port)/ok\"," &&
	commit_all repo "health ok" && git -C repo switch -q dev/a && git -C repo merge -q main &&
	mlci run --repo repo -o json >r5.json &&
	test "$(js "d[\"promotion\"][\"action\"]" <r5.json)" = promoted
'

test_expect_success 'a failing health URL rolls the environment back' '
	good=$(state test | js "d[\"commit\"]") &&
	git -C repo switch -q main && spec "health: \"http://127.0.0.1:$(cat health.port)/bad\"," &&
	commit_all repo "health bad" && git -C repo switch -q dev/a && git -C repo merge -q main &&
	test_must_fail 1 mlci run --repo repo -o json >r6.json &&
	js "d[\"promotion\"][\"detail\"]" <r6.json | grep -q "health check of test failed: .* answered HTTP 503" &&
	test "$(state test | js "d[\"commit\"]")" = "$good"
'

test_expect_success 'mlci rollback deploys the earlier state over ssh (model and state uploaded again), then its health is checked' '
	git -C repo switch -q main && spec "health: \"http://127.0.0.1:$(cat health.port)/ok\"," &&
	commit_all repo "health ok again" &&
	before=$(state test | js "d[\"model\"][\"version\"]") &&
	mlci rollback test -o json >rb.json &&
	js "d[\"detail\"]" <rb.json | grep -q "^rolled test back to sp-model@" &&
	after=$(state test | js "d[\"model\"][\"version\"]") &&
	test "$after" -lt "$before" &&
	test "$(js "d[\"model\"][\"version\"]" <"$REMOTE/test/state.json")" = "$after" &&
	test "$(cut -d" " -f2 "$REMOTE/test/deployed.txt")" = "$after" &&
	digest=$(state test | js "d[\"model\"][\"artifact\"]") &&
	test "$(sha256sum "$REMOTE/test/model.txt" | cut -d" " -f1)" = "${digest#sha256:}"
'

test_done

#!/bin/sh
# t0731-infra-ssh.sh - the infra check runs on the machine that will serve: over ssh on the deploy target
# of the environment the run's branch is promoted to (a private sshd), locally otherwise; a requirement
# the remote does not meet fails, an unknown host key fails the check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sshd.sh"

verdict() {
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
v=[c for c in d['checks'] if c['name']==sys.argv[2]]
x=v[0] if v else {}
for k in sys.argv[3].split('.'): x=x.get(k, 'absent') if isinstance(x, dict) else 'absent'
print(x)" "$@"
}
stop_all() {
	sshd_stop
	cleanup
}
trap stop_all EXIT

sshd_require "$SCRATCH/sshd"
export MLCI_DEPLOY_SSH_KEY="$SSH_KEY" MLCI_DEPLOY_KNOWN_HOSTS="$KNOWN_HOSTS"
REMOTE="$SCRATCH/remote"
TARGET="$(id -un)@127.0.0.1:$SSHD_PORT"
# a command only mlci's own PATH has: found by a local probe, not on the remote
mkdir -p "$SCRATCH/local-bin" && printf '#!/bin/sh\necho local-only 1.0\n' >"$SCRATCH/local-bin/mlci-local-only-cmd" &&
	chmod +x "$SCRATCH/local-bin/mlci-local-only-cmd"
export PATH="$SCRATCH/local-bin:$PATH"

# spec REQUIRES: mlci.yaml whose test environment (dev/*) deploys over ssh
spec() {
	cat >repo/mlci.yaml <<-YAML
	pipeline: inf
	model: inf-model
	model_artifact: train/model.txt
	components:
	  train: { path: train, run: "cat w.txt > \$MLCI_OUT/model.txt", outputs: [model.txt] }
	checks:
	  infra: { requires: { $1 } }
	environments:
	  test: { promote: auto, branches: ["dev/*"],
	          deploy: { ssh: "$TARGET", command: "true", dir: "$REMOTE/test" } }
	YAML
}

test_expect_success 'setup: a repo whose test environment deploys over ssh' '
	make_repo repo && mkdir -p repo/train && echo w1 >repo/train/w.txt &&
	spec "commands: [sh, \"git >= 1.0\"], memory: 1Mi, cpus: 1, disk: 1Mi" && commit_all repo first
'

test_expect_success 'a dev/* run probes the deploy target over ssh: the verdict names it and passes' '
	git -C repo switch -q -c dev/a && echo w2 >repo/train/w.txt && commit_all repo dev &&
	mlci run --repo repo -o json >r1.json &&
	test "$(verdict r1.json infra.requires status)" = pass &&
	verdict r1.json infra.requires summary >sum &&
	test_grep "^on $TARGET: command sh: required on PATH, found /[^;]*sh; " sum &&
	test_grep "command git: required >= 1.0, found /[^;]*git [0-9.]*; " sum &&
	test_grep "memory: required 1Mi, found [0-9.]*[MGT]i; cpus: required 1, found [0-9]" sum &&
	test "$(verdict r1.json infra.requires details.machine)" = "$TARGET" &&
	test "$(verdict r1.json infra.requires details.disk_path)" = "$SCRATCH"
'

test_expect_success 'a command the remote does not have fails there, though this machine has it' '
	mlci-local-only-cmd >/dev/null &&
	spec "commands: [sh, mlci-local-only-cmd, no-such-cmd-xyz]" && commit_all repo "needs local-only" &&
	test_must_fail 1 mlci run --repo repo -o json >r2.json &&
	test "$(verdict r2.json infra.requires status)" = fail &&
	verdict r2.json infra.requires summary >sum &&
	test_grep "^on $TARGET: 2 of 3 unmet" sum &&
	test_grep "command mlci-local-only-cmd: required on PATH, found not found (unmet)" sum &&
	test_grep "command no-such-cmd-xyz: required on PATH, found not found (unmet)" sum
'

test_expect_success 'a branch that matches no ssh environment is probed on this machine' '
	git -C repo switch -q -c feature/b && spec "commands: [sh, mlci-local-only-cmd]" &&
	commit_all repo "local probe" &&
	mlci run --repo repo -o json >r3.json &&
	test "$(verdict r3.json infra.requires status)" = pass &&
	verdict r3.json infra.requires summary >sum &&
	test_grep "^on this machine: command sh: required on PATH" sum &&
	test_grep "mlci-local-only-cmd: required on PATH, found $SCRATCH/local-bin/mlci-local-only-cmd" sum
'

test_expect_success 'an unknown or changed host key fails the infra check, nothing is probed' '
	git -C repo switch -q dev/a && spec "commands: [sh]" && commit_all repo "host keys" &&
	: >empty_known_hosts &&
	MLCI_DEPLOY_KNOWN_HOSTS="$SCRATCH/empty_known_hosts" test_must_fail 1 mlci run --repo repo -o json >r4.json &&
	test "$(verdict r4.json infra.requires status)" = fail &&
	verdict r4.json infra.requires summary >sum &&
	test_grep "^on $TARGET: could not probe the machine: .*host unknown" sum &&
	MLCI_DEPLOY_KNOWN_HOSTS="$WRONG_KNOWN_HOSTS" test_must_fail 1 mlci run --repo repo -o json >r5.json &&
	verdict r5.json infra.requires summary | grep "could not probe the machine: .*does NOT match"
'

test_expect_success 'an unreachable deploy target (policy.yaml of the server) fails the infra check' '
	port=$(sshd_free_port) &&
	cat >"$MLCI_HOME/policy.yaml" <<-YAML &&
	environments:
	  test: { promote: auto, branches: ["dev/*"], deploy: { ssh: "$(id -un)@127.0.0.1:$port", command: "true" } }
	YAML
	echo w5 >repo/train/w.txt && commit_all repo "nobody listens" &&
	test_must_fail 1 mlci run --repo repo -o json >r6.json &&
	rm "$MLCI_HOME/policy.yaml" &&
	verdict r6.json infra.requires summary >sum &&
	test_grep "could not probe the machine: ssh 127.0.0.1:$port: could not connect" sum
'

test_done

#!/bin/sh
# demo.sh - `make demo`: write the example pipeline with mlci init, then carry a commit on a dev branch
# through mlci run (CI, DAG, store, registry) and auto-promotion to test, re-run it from the cache,
# merge it with a Reviewed-by trailer and promote it to staging, then show status, registry, lineage;
# then production by hand: refused until min_staging_runs, checked with --dry-run, accepted for a
# release manager, rolled back.
set -eu
MLCI=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DEMO=${MLCI_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mlci-demo.XXXXXX")}
export MLCI_HOME="$DEMO/home"
export MLCI_DEPLOY_DIR="$DEMO/deployed" # where scripts/deploy.sh of the template puts what it deploys
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "mlci init $DEMO/pipeline"
"$MLCI" init "$DEMO/pipeline"
cd "$DEMO/pipeline"

step "mlci validate"
"$MLCI" validate

step "a developer commits a change on dev/faster-lr"
git -c user.name=dev -c user.email=dev@example.com switch -q -c dev/faster-lr
sed -i 's/learning_rate: 0.1/learning_rate: 0.2/' mlci.yaml
git -c user.name=dev -c user.email=dev@example.com commit -q -am "train: raise the learning rate to 0.2"
git log --oneline -n 2

step "mlci run on dev/faster-lr: CI, DAG, store, registry, then auto-promotion to test"
"$MLCI" run

step "mlci run again: nothing changed, so every step is reused from the cache"
"$MLCI" run

step "a maintainer merges to main; the merge commit names the reviewer's approval in a trailer"
git switch -q main
git -c user.name=mia -c user.email=mia@example.com merge -q --no-ff dev/faster-lr \
	-m "Merge dev/faster-lr" -m "Reviewed-by: Rita Reviewer <rita@example.com>"
git log -1 --format='%h %an: %s%n%n%b'

step "mlci run on main: semi-automatic promotion to staging (1 approval required, 1 given)"
"$MLCI" run

step "mlci status"
"$MLCI" status

step "the GitOps state repo: one commit per promotion"
git -C "$MLCI_HOME/state.git" log --format='%h %an: %s' main

step "mlci registry show bc-classifier"
"$MLCI" registry show bc-classifier

step "mlci lineage bc-classifier@1: the model back to the data it was trained on"
"$MLCI" lineage bc-classifier@1

step "the operator's policy: \$MLCI_HOME/policy.yaml (trusted side; wins over main's mlci.yaml)"
# The template deploys production over ssh (needs an sshd); this demo gives production a local command
# deploy instead, in the operator's policy file, and names the release managers as a group.
cat >"$MLCI_HOME/policy.yaml" <<'YAML'
groups: { release: [alice, bob] }
environments:
  test:       { promote: auto,   branches: ["dev/*", "feature/*"], deploy: { command: "sh scripts/deploy.sh test" } }
  staging:    { promote: semi,   branches: [main], approvals: 1, deploy: { command: "sh scripts/deploy.sh staging" } }
  production: { promote: manual, from: staging, min_staging_runs: 1, approvers: ["@release"],
                deploy: { command: "sh scripts/deploy.sh production" } }
YAML
cat "$MLCI_HOME/policy.yaml"
echo "(production deploys with a local command here, not over ssh: no sshd in this demo)"

step "alice (a release manager) asks for production: refused, no run of this version in staging since it got there"
MLCI_ACTOR=alice "$MLCI" promote breast-cancer --to production || echo "(exit $?)"

step "mallory is not a release manager: refused whatever the runs"
MLCI_ACTOR=mallory "$MLCI" promote breast-cancer --to production || echo "(exit $?)"

step "another run on main that executes every step (a nightly re-training would): a staging run that counts"
"$MLCI" -q run --no-cache >/dev/null
"$MLCI" runs --branch main

step "alice checks first: mlci promote --dry-run evaluates every gate and writes nothing"
MLCI_ACTOR=alice "$MLCI" promote breast-cancer --to production --dry-run

step "alice promotes to production: accepted"
MLCI_ACTOR=alice "$MLCI" promote breast-cancer --to production --reason "release 2026.11"

step "mlci status"
"$MLCI" status

step "a second change reaches staging (dev -> main with a review), then production"
git -c user.name=dev -c user.email=dev@example.com switch -q dev/faster-lr
sed -i 's/epochs: \([0-9]*\)/epochs: 250/' mlci.yaml
git -c user.name=dev -c user.email=dev@example.com commit -q -am "train: 250 epochs"
"$MLCI" -q run >/dev/null || true
git switch -q main
git -c user.name=mia -c user.email=mia@example.com merge -q --no-ff dev/faster-lr \
	-m "Merge dev/faster-lr" -m "Reviewed-by: Rita Reviewer <rita@example.com>"
"$MLCI" -q run >/dev/null
"$MLCI" -q run --no-cache >/dev/null
MLCI_ACTOR=bob "$MLCI" promote breast-cancer --to production --reason "release 2026.12"

step "mlci rollback production: the previous version back, as a new state commit, and a pin"
MLCI_ACTOR=bob "$MLCI" rollback production --reason "demo: roll back"

step "mlci status (production pinned until mlci unpin production)"
"$MLCI" status

step "mlci history production"
"$MLCI" history production

step "the GitOps state repo"
git -C "$MLCI_HOME/state.git" log --format='%h %an: %s' main

echo
echo "demo state kept in $DEMO (MLCI_HOME=$MLCI_HOME)"

#!/bin/sh
# demo.sh - `make demo`: write the example pipeline with mlci init, then carry a commit on a dev branch
# through mlci run (CI, DAG, store, registry) and auto-promotion to test, re-run it from the cache,
# merge it with a Reviewed-by trailer and promote it to staging, then show status, registry, lineage.
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

echo
echo "production is 'promote: manual' (approvers: alice, bob): a release manager will run"
echo "  mlci promote breast-cancer --to production --version N"
echo "once the version has passed min_staging_runs (3) runs in staging. That command is not"
echo "implemented yet (see the open issues); runs never promote to a manual environment."
echo "demo state kept in $DEMO (MLCI_HOME=$MLCI_HOME)"

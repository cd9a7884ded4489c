#!/bin/sh
# demo.sh - `make demo`: write the example pipeline with mlci init, then carry a commit on a dev branch
# through mlci run (CI phase + DAG + store + registry), re-run it from the cache, and show the registry
# and lineage. Later issues extend it to checks and promotion.
set -eu
MLCI=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DEMO=${MLCI_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mlci-demo.XXXXXX")}
export MLCI_HOME="$DEMO/home"
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

step "mlci run (build, unit tests, then the DAG)"
"$MLCI" run

step "mlci run again: nothing changed, so every step is reused from the cache"
"$MLCI" run

step "mlci runs"
"$MLCI" runs

step "mlci registry show bc-classifier (one version: the cached run registered nothing new)"
"$MLCI" registry show bc-classifier

step "mlci lineage bc-classifier@1: the model back to the data it was trained on"
"$MLCI" lineage bc-classifier@1

echo
echo "Promotion to test/staging/production is not implemented yet (see the open issues)."
echo "demo state kept in $DEMO (MLCI_HOME=$MLCI_HOME)"

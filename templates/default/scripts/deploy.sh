#!/bin/sh
# Deploy the trained model to a local directory: sh scripts/deploy.sh ENV
# Writes only under ${MLCI_DEPLOY_DIR:-$HOME/.mlci-deploy}/ENV/; each file is replaced atomically.
#
# Where the model comes from (first that is set):
#   MLCI_MODEL          path of model.json
#   MLCI_ARTIFACTS_DIR  directory of the run's artifacts: train/model.json or model.json in it
#   MLCI_IN_TRAIN       train's output directory (model.json in it)
# MLCI_STATE_JSON, if set, is the environment's state (a file path or the JSON text) and is
# kept next to the model as state.json.  serving/serve.py is copied too, so the directory
# can be served on its own:  python3 serve.py --model model.json --port 8080
set -eu

prog=deploy

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

if [ $# -ne 1 ]; then
	echo "usage: sh scripts/deploy.sh ENV" >&2
	exit 2
fi
env_name=$1
case $env_name in
'' | .* | *[!A-Za-z0-9._-]*)
	echo "$prog: error: bad environment name '$env_name' (letters, digits, '.', '_', '-')" >&2
	exit 2
	;;
esac

model=
if [ -n "${MLCI_MODEL:-}" ]; then
	model=$MLCI_MODEL
elif [ -n "${MLCI_ARTIFACTS_DIR:-}" ]; then
	model=$MLCI_ARTIFACTS_DIR/train/model.json
	if [ ! -f "$model" ] && [ -f "$MLCI_ARTIFACTS_DIR/model.json" ]; then
		model=$MLCI_ARTIFACTS_DIR/model.json
	fi
elif [ -n "${MLCI_IN_TRAIN:-}" ]; then
	model=$MLCI_IN_TRAIN/model.json
else
	die "no model to deploy: set MLCI_ARTIFACTS_DIR, MLCI_IN_TRAIN or MLCI_MODEL"
fi
if [ ! -f "$model" ]; then
	die "model file '$model' is missing"
fi
if [ ! -s "$model" ]; then
	die "model file '$model' is empty"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
base=${MLCI_DEPLOY_DIR:-${HOME:?HOME is not set}/.mlci-deploy}
dest=$base/$env_name
mkdir -p "$dest" || die "could not create '$dest'"

tmp_suffix=.tmp.$$
cleanup() {
	rm -f "$dest"/.*"$tmp_suffix"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# install SRC NAME: copy SRC to DEST/NAME via a temporary file in the same directory.
install_file() {
	cp "$1" "$dest/.$2$tmp_suffix" || die "could not copy '$1' to '$dest'"
	mv -f "$dest/.$2$tmp_suffix" "$dest/$2" || die "could not move '$2' into place in '$dest'"
}

# install_text TEXT NAME: like install_file for a string.
install_text() {
	printf '%s\n' "$1" >"$dest/.$2$tmp_suffix" || die "could not write '$dest/.$2$tmp_suffix'"
	mv -f "$dest/.$2$tmp_suffix" "$dest/$2" || die "could not move '$2' into place in '$dest'"
}

if [ -f "$root/serving/serve.py" ]; then
	install_file "$root/serving/serve.py" serve.py
fi
if [ -n "${MLCI_STATE_JSON:-}" ]; then
	if [ -f "$MLCI_STATE_JSON" ]; then
		install_file "$MLCI_STATE_JSON" state.json
	else
		install_text "$MLCI_STATE_JSON" state.json
	fi
fi
install_file "$model" model.json

digest=
if command -v sha256sum >/dev/null 2>&1; then
	digest=$(sha256sum "$dest/model.json" | cut -d' ' -f1)
fi
install_text "env=$env_name
model_sha256=$digest
source=$model
pipeline=${MLCI_PIPELINE:-}
run=${MLCI_RUN_ID:-}
commit=${MLCI_COMMIT:-}
branch=${MLCI_BRANCH:-}
deployed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)" DEPLOYED

echo "$prog: deployed model ${digest:+sha256:$digest }to $dest/model.json (env $env_name${MLCI_RUN_ID:+, run $MLCI_RUN_ID}${MLCI_COMMIT:+, commit $MLCI_COMMIT})"

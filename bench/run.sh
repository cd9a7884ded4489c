#!/bin/sh
# run.sh - `make bench`: every benchmark in bench/, each comparing mlci with a named baseline in the same run.
set -eu
MLCI=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export MLCI
for b in "$(dirname "$0")"/bench_*.sh; do
	echo "== $(basename "$b" .sh)"
	sh "$b"
done

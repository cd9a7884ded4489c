#!/bin/sh
# bench_cache.sh - the step cache and per-step overhead, each against a named baseline in the same run:
#  1. no-change re-run of the template pipeline vs its first run, and vs the no-op floor `mlci --version`;
#  2. a 50-component pipeline of `true` steps (--no-cache) vs `sh -c true` run 50 times.
set -eu
W=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export MLCI_HOME="$W/home"
N=${BENCH_ROUNDS:-5}
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

"$MLCI" -q init "$W/pipe" >/dev/null
cd "$W/pipe"
t0=$(now); "$MLCI" -q run >/dev/null; t1=$(now)
first=$(ms "$t0" "$t1")
total=0; floor=0; i=0
while [ $i -lt "$N" ]; do
	a=$(now); "$MLCI" -q run >/dev/null; b=$(now); "$MLCI" --version >/dev/null; c=$(now)
	total=$((total + ($(ms "$a" "$b")))); floor=$((floor + ($(ms "$b" "$c")))); i=$((i + 1))
done
cached=$("$MLCI" -q -o json run | python3 -c "import json,sys; d=json.load(sys.stdin); print('%d/%d' % (sum(s['status']=='cached' for s in d['steps']), len(d['steps'])))")
awk -v f="$first" -v t="$total" -v fl="$floor" -v n="$N" -v c="$cached" 'BEGIN {
	printf "no-change re-run of the template (%s steps cached), %d rounds\n", c, n
	printf "  first run                  %7.0f ms\n", f
	printf "  cached re-run              %7.1f ms   ratio %.3fx of the first run\n", t / n, t / n / f
	printf "  mlci --version (floor)     %7.1f ms   re-run minus floor %.1f ms\n", fl / n, (t - fl) / n
}'

# 50 independent `true` components
mkdir -p "$W/wide" && cd "$W/wide" && git init -q -b main .
{ echo "pipeline: wide"; echo "components:"; i=0; while [ $i -lt 50 ]; do echo "  c$i: { run: \"true\" }"; i=$((i + 1)); done; } >mlci.yaml
git add -A && git -c user.name=b -c user.email=b@e commit -qm wide
t0=$(now); "$MLCI" -q run -j 1 --no-cache >/dev/null; t1=$(now)
i=0; while [ $i -lt 50 ]; do sh -c true; i=$((i + 1)); done; t2=$(now)
awk -v m="$(ms "$t0" "$t1")" -v s="$(ms "$t1" "$t2")" 'BEGIN {
	printf "50 components of `true`, -j 1, --no-cache\n"
	printf "  sh -c true x 50 (baseline) %7.0f ms   %.2f ms/step\n", s, s / 50
	printf "  mlci run                   %7.0f ms   %.2f ms/step   overhead %.2f ms/step\n", m, m / 50, (m - s) / 50
}'

#!/bin/sh
# bench_watch.sh - `mlci watch`: (1) push-to-run-start latency with --interval 1s, median over N pushes
# (push done -> the run's started_ms in the store), against the baseline "half the poll interval" a
# poller cannot beat on average; (2) CPU time of idle watch cycles over R local repos with nothing new,
# per repo per cycle, against `git ls-remote` of the same repos (goal: <= 5 ms per repo per cycle).
set -eu
N=${BENCH_PUSHES:-20}
R=${BENCH_REPOS:-100}
CYCLES=${BENCH_CYCLES:-10}
W=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench.XXXXXX")
WPID=
trap '[ -z "$WPID" ] || kill "$WPID" 2>/dev/null; rm -rf "$W"' EXIT
export MLCI_HOME="$W/home"
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@x GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@x
nowms() { echo $(($(date +%s%N) / 1000000)); }
sql() { python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:]).fetchone(); print(r[0] if r else '')" "$MLCI_HOME/mlci.db" "$@"; }
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }

# ---- (1) latency
git init -q --bare "$W/origin.git"
git init -q -b main "$W/work"
cat >"$W/work/mlci.yaml" <<'YAML'
pipeline: bw
components:
  mark: { run: "echo $MLCI_COMMIT > $MLCI_OUT/m.txt", outputs: [m.txt] }
YAML
(cd "$W/work" && git add -A && git commit -qm first && git push -q "$W/origin.git" main:main)
"$MLCI" watch --interval 1s "file://$W/origin.git" >"$W/watch.out" 2>&1 &
WPID=$!
lat="$W/lat.txt"
: >"$lat"
i=0
while [ $i -lt "$N" ]; do
	(cd "$W/work" && echo $i >n.txt && git add n.txt && git commit -qm "push $i")
	c=$(git -C "$W/work" rev-parse HEAD)
	git -C "$W/work" push -q "$W/origin.git" main:main
	t=$(nowms)
	s=""
	k=0
	while [ -z "$s" ]; do
		s=$(sql "SELECT started_ms FROM runs WHERE commit_id=?" "$c")
		k=$((k + 1))
		[ $k -lt 600 ] || { echo "no run for $c" >&2; cat "$W/watch.out" >&2; exit 1; }
		[ -n "$s" ] || sleep 0.05
	done
	echo $((s - t)) >>"$lat"
	# the next push only once this run finished
	while [ "$(sql "SELECT status FROM branch_heads WHERE commit_id=?" "$c")" != done ]; do sleep 0.05; done
	i=$((i + 1))
done
kill "$WPID" && wait "$WPID" || true
WPID=
sort -n "$lat" | awk -v n="$N" '{ v[NR] = $1 } END {
	m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	printf "push-to-run-start latency, --interval 1s, %d pushes: median %d ms (min %d, max %d)\n", n, m, v[1], v[n]
	printf "  baseline: mean wait of a 1 s poller = 500 ms\n"
}'

# ---- (2) idle cycles over R repos
git init -q -b main "$W/r0" && (cd "$W/r0" && echo x >f && git add f && git commit -qm x)
urls=""
i=1
while [ $i -le "$R" ]; do
	cp -r "$W/r0" "$W/r$i"
	urls="$urls $W/r$i"
	i=$((i + 1))
done
rm -rf "$MLCI_HOME"
# first cycle: every head is new (the repos have no mlci.yaml: each run fails at once); then idle
# shellcheck disable=SC2086
"$MLCI" -q watch --once -j 2 $urls >/dev/null 2>&1 || true
# shellcheck disable=SC2086
"$MLCI" -q watch --interval 1s $urls >/dev/null 2>"$W/idle.err" &
WPID=$!
sleep 1.5 # lets startup and the first (idle) cycle pass before the measured window
c0=$(cpu_ms "$WPID")
sleep "$CYCLES"
c1=$(cpu_ms "$WPID")
kill "$WPID" && wait "$WPID" || true
WPID=
runs=$(sql "SELECT count(*) FROM runs")
base=$(python3 - "$W" "$R" <<'PY'
import resource, subprocess, sys
w, r = sys.argv[1], int(sys.argv[2])
b = resource.getrusage(resource.RUSAGE_CHILDREN)
for i in range(1, r + 1):
    subprocess.run(["git", "ls-remote", "--heads", "file://%s/r%d" % (w, i)], stdout=subprocess.DEVNULL, check=True)
a = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f" % (((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime)) * 1000 / r))
PY
)
awk -v c0="$c0" -v c1="$c1" -v r="$R" -v n="$CYCLES" -v runs="$runs" -v base="$base" 'BEGIN {
	per = (c1 - c0) / n / r
	printf "idle watch over %d local repos, %d cycles of 1 s: %.0f ms CPU (user+sys), %.3f ms per repo per cycle (goal <= 5 ms)%s\n", r, n, c1 - c0, per, runs == r ? "" : "  [runs: " runs "]"
	printf "  baseline: git ls-remote --heads, one process per repo: %s ms CPU per repo\n", base
}'

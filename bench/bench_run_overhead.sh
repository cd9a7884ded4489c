#!/bin/sh
# bench_run_overhead.sh - wall time of `mlci run` on the example pipeline against the baseline "plain sh
# running the same commands in the same order" (build, tests, then ingest -> train -> evaluate), N rounds.
# mlci's extra work: libgit2 checkout, spec parsing, logs, output checks, parallel CI phase.
set -eu
N=${BENCH_ROUNDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export MLCI_HOME="$W/home"
"$MLCI" -q init "$W/pipe" >/dev/null
now() { date +%s%N; }

# the baseline: the same commands, the same environment variables, sequentially, in a plain checkout
cat >"$W/baseline.sh" <<'SH'
set -eu
R=$1; O=$2
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 MLCI_PARAM_LEARNING_RATE=0.1 MLCI_PARAM_EPOCHS=300 MLCI_PARAM_SEED=42
rm -rf "$O" && mkdir -p "$O/ingest" "$O/train" "$O/evaluate"
(cd "$R/components/ingest" && python3 -m unittest -q 2>/dev/null)
(cd "$R/components/train" && true && python3 -m unittest -q 2>/dev/null)
(cd "$R" && python3 -m unittest discover -q -s components/evaluate 2>/dev/null && python3 -m unittest discover -q -s serving 2>/dev/null)
(cd "$R/components/ingest" && MLCI_OUT="$O/ingest" python3 main.py --src ../../data/breast_cancer.csv --out "$O/ingest/dataset.csv")
(cd "$R/components/train" && MLCI_OUT="$O/train" MLCI_IN_INGEST="$O/ingest" python3 train.py --data "$O/ingest/dataset.csv" --out "$O/train")
(cd "$R" && python3 components/evaluate/evaluate.py --data "$O/ingest/dataset.csv" --model "$O/train/model.json" --out "$O/evaluate")
SH

total_sh=0
total_j1=0
total_jn=0
i=0
while [ $i -lt "$N" ]; do
	t0=$(now); sh "$W/baseline.sh" "$W/pipe" "$W/out" >/dev/null 2>&1; t1=$(now)
	(cd "$W/pipe" && "$MLCI" -q run -j 1 --no-cache >/dev/null); t2=$(now)
	(cd "$W/pipe" && "$MLCI" -q run --no-cache >/dev/null); t3=$(now)
	total_sh=$((total_sh + (t1 - t0) / 1000000))
	total_j1=$((total_j1 + (t2 - t1) / 1000000))
	total_jn=$((total_jn + (t3 - t2) / 1000000))
	i=$((i + 1))
done
awk -v n="$N" -v s="$total_sh" -v a="$total_j1" -v b="$total_jn" -v cpus="$(nproc)" 'BEGIN {
	printf "template pipeline, %d rounds, %d CPUs (mean wall time)\n", n, cpus
	printf "  sh baseline (sequential)   %7.0f ms\n", s / n
	printf "  mlci run -j 1              %7.0f ms   ratio %.2fx   overhead %+.0f ms\n", a / n, a / s, (a - s) / n
	printf "  mlci run (-j %d)            %7.0f ms   ratio %.2fx\n", cpus, b / n, b / s
}'

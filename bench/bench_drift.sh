#!/bin/sh
# bench_drift.sh - `mlci data drift` on a generated ROWS x COLS CSV (default 3 M x 100: 99 numeric columns
# and one categorical, one numeric column scaled by 1.3 in the current copy), against `wc -l` (the I/O
# floor) and pandas (read_csv + describe + value_counts of the categorical column) in the same run,
# alternating, BENCH_DRIFT_ROUNDS rounds (default 3): medians.
set -eu
MLCI=${MLCI:-$(cd "$(dirname "$0")/.." && pwd)/mlci}
ROWS=${BENCH_DRIFT_ROWS:-3000000}
COLS=${BENCH_DRIFT_COLS:-100}
ROUNDS=${BENCH_DRIFT_ROUNDS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
now() { date +%s%N; }

# 10 000 random rows, repeated: generating 300 M values one by one would take longer than the benchmark
python3 - "$W" "$ROWS" "$COLS" <<'PY'
import os, random, sys
w, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
block = min(rows, 10000)
head = ",".join(["cat"] + ["f%d" % i for i in range(cols - 1)]) + "\n"
for name, scale in (("ref.csv", 1.0), ("cur.csv", 1.3)):
    lines = []
    for _ in range(block):
        v = [random.choice("abcdefgh")] + ["%.4f" % (random.gauss(20 + i, 5) * (scale if i == 0 else 1)) for i in range(cols - 1)]
        lines.append(",".join(v))
    chunk = ("\n".join(lines) + "\n").encode()
    with open(os.path.join(w, name), "wb") as f:
        f.write(head.encode())
        for _ in range(rows // block):
            f.write(chunk)
        f.write(("\n".join(lines[: rows % block]) + ("\n" if rows % block else "")).encode())
PY
MB=$(du -m "$W/cur.csv" | cut -f1)
cat "$W/ref.csv" "$W/cur.csv" >/dev/null # warm the page cache for everyone

# Debian's python3-pandas lives in /usr/bin/python3's packages, which a pyenv python3 does not see
PY=python3
python3 -c "import pandas" 2>/dev/null || PY=/usr/bin/python3
$PY -c "import pandas" 2>/dev/null || PY=
ms() { echo $((($2 - $1) / 1000000)); }
: >"$W/times"
r=1
while [ $r -le "$ROUNDS" ]; do
	t0=$(now); wc -l "$W/cur.csv" >/dev/null; t1=$(now)
	"$MLCI" -q data drift "$W/cur.csv" --reference "$W/ref.csv" --save-stats "$W/cur.json" >"$W/out" 2>&1 || true
	t2=$(now)
	grep -q "^1 of $COLS features drifted" "$W/out" || { echo "unexpected drift result:"; cat "$W/out"; exit 1; }
	"$MLCI" -q data drift "$W/cur.csv" --reference "$W/cur.json" >/dev/null 2>&1 || true
	t3=$(now)
	pd=0
	if [ -n "$PY" ]; then
		t4=$(now)
		$PY -c "
import pandas as pd, sys
d = pd.read_csv(sys.argv[1])
d.describe()
d['cat'].value_counts()
" "$W/cur.csv"
		t5=$(now)
		pd=$(ms "$t4" "$t5")
	fi
	echo "$(ms "$t0" "$t1") $(ms "$t1" "$t2") $(ms "$t2" "$t3") $pd" >>"$W/times"
	printf '  round %d: wc -l %d ms, two files %d ms, file vs statistics %d ms, pandas %d ms\n' $r $(tail -n 1 "$W/times")
	r=$((r + 1))
done
python3 - "$W/times" "$MB" "$ROWS" "$COLS" <<'PY2'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
mb, n, cols = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wc, two, one, pd = (statistics.median(c) / 1000 for c in zip(*rows))
print("data drift, %d rows x %d columns, %d MB per file, median of %d alternating rounds" % (n, cols, mb, len(rows)))
print("  wc -l (I/O floor)               %8.2f s  %7.0f MB/s" % (wc, mb / wc))
print("  mlci: CSV vs saved statistics   %8.2f s  %7.0f MB/s  %.0f%% of wc -l throughput" % (one, mb / one, 100 * wc / one))
print("  mlci: CSV vs CSV (2 files)      %8.2f s  %7.0f MB/s  (goal: under 30 s)" % (two, 2 * mb / two))
if pd > 0:
    print("  pandas read_csv+describe+value_counts %5.2f s  %7.0f MB/s  mlci (one file) is %.1fx faster (goal >= 10x)"
          % (pd, mb / pd, pd / one))
else:
    print("  pandas: not installed (apt-get install python3-pandas)")
PY2

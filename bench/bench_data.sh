#!/bin/sh
# bench_data.sh - `mlci data check` (schema validation) and `mlci data drift` (statistics of one file vs
# saved statistics) on one generated numeric+categorical CSV, against `wc -l` (the I/O floor) and pandas
# (read_csv + describe + value_counts) on the same file, alternating, BENCH_DATA_ROUNDS rounds (default
# 3): medians and ratios. Size: BENCH_DATA_ROWS rows (default 8 M, about 1 GB; 14 columns).
set -eu
MLCI=${MLCI:-$(cd "$(dirname "$0")/.." && pwd)/mlci}
ROWS=${BENCH_DATA_ROWS:-8000000}
ROUNDS=${BENCH_DATA_ROUNDS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench-data.XXXXXX")
trap 'rm -rf "$W"' EXIT
now() { date +%s%N; }

# 20 000 random rows repeated: id, 8 floats, 2 ints, 2 categorical strings, a bool
python3 - "$W/data.csv" "$ROWS" <<'PY'
import random, sys
path, rows = sys.argv[1], int(sys.argv[2])
random.seed(1)
block = min(rows, 20000)
cats = ["alpha", "beta", "gamma", "delta", "epsilon"]
cities = ["paris", "london", "berlin", "madrid", "rome", "vienna", "oslo", "lisbon"]
lines = []
for r in range(block):
    v = [str(r)] + ["%.4f" % random.gauss(20 + i * 10, 5) for i in range(8)]
    v += [str(random.randint(18, 90)), str(random.randint(0, 100000)), random.choice(cities), random.choice(cats),
          random.choice(["true", "false"])]
    lines.append(",".join(v))
chunk = ("\n".join(lines) + "\n").encode()
with open(path, "wb") as f:
    f.write(("id," + ",".join("f%d" % i for i in range(8)) + ",age,count,city,grade,flag\n").encode())
    for _ in range(rows // block):
        f.write(chunk)
    if rows % block:
        f.write(("\n".join(lines[: rows % block]) + "\n").encode())
PY
head -n 100001 "$W/data.csv" >"$W/head.csv"
"$MLCI" schema infer "$W/head.csv" >"$W/schema.yaml"
"$MLCI" -q data drift "$W/head.csv" --reference "$W/head.csv" --save-stats "$W/ref.json" >/dev/null 2>&1 || true
MB=$(du -m "$W/data.csv" | cut -f1)
cat "$W/data.csv" >/dev/null # warm the page cache for everyone

PY=python3
python3 -c "import pandas" 2>/dev/null || PY=/usr/bin/python3
$PY -c "import pandas" 2>/dev/null || PY=

ms() { echo $((($2 - $1) / 1000000)); }
: >"$W/times"
r=1
while [ $r -le "$ROUNDS" ]; do
	t0=$(now); wc -l "$W/data.csv" >/dev/null; t1=$(now)
	"$MLCI" data check "$W/data.csv" --schema "$W/schema.yaml" >"$W/check.out" ||
		{ echo "unexpected data check result:"; cat "$W/check.out"; exit 1; }
	t2=$(now)
	"$MLCI" -q data drift "$W/data.csv" --reference "$W/ref.json" >"$W/drift.out" 2>&1 || true
	t3=$(now)
	grep -q "features drifted" "$W/drift.out" || { echo "unexpected drift result:"; cat "$W/drift.out"; exit 1; }
	pd=0
	if [ -n "$PY" ]; then
		t4=$(now)
		$PY -c "
import pandas as pd, sys
d = pd.read_csv(sys.argv[1])
d.describe()
for c in ('city', 'grade', 'flag'):
    d[c].value_counts()
" "$W/data.csv"
		t5=$(now)
		pd=$(ms "$t4" "$t5")
	fi
	echo "$(ms "$t0" "$t1") $(ms "$t1" "$t2") $(ms "$t2" "$t3") $pd" >>"$W/times"
	printf '  round %d: wc -l %d ms, data check %d ms, data drift %d ms, pandas %d ms\n' $r $(tail -n 1 "$W/times")
	r=$((r + 1))
done
python3 - "$W/times" "$MB" "$ROWS" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
mb, n = int(sys.argv[2]), int(sys.argv[3])
wc, check, drift, pd = (statistics.median(c) / 1000 for c in zip(*rows))
print("data check / drift, %d rows x 14 columns, %d MB, median of %d alternating rounds" % (n, mb, len(rows)))
print("  wc -l (I/O floor)                      %7.2f s %7.0f MB/s" % (wc, mb / wc))
print("  mlci data check (schema validation)    %7.2f s %7.0f MB/s  %.0f%% of wc -l throughput (goal >= 50%%)"
      % (check, mb / check, 100 * wc / check))
print("  mlci data drift (vs saved statistics)  %7.2f s %7.0f MB/s  %.0f%% of wc -l throughput" % (drift, mb / drift, 100 * wc / drift))
if pd > 0:
    print("  pandas read_csv+describe+value_counts  %7.2f s %7.0f MB/s" % (pd, mb / pd))
    print("  mlci vs pandas: data check %.1fx faster, data drift %.1fx faster (goal >= 10x)" % (pd / check, pd / drift))
else:
    print("  pandas: not installed (apt-get install python3-pandas)")
PY

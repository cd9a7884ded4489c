#!/bin/sh
# t0721-watch-lock.sh - one watcher per repository and MLCI_HOME: a second `mlci watch` of the same
# repository exits 3 naming the holder's pid (another repository is fine; the lock goes with its holder,
# also on SIGKILL); `mlci watch --once -o json` lists the heads it handled and their runs.
. "$(dirname "$0")/lib.sh"

# background watchers write their pid to $SCRATCH/*.pid so that the EXIT trap can stop them
stop_all() {
	for f in "$SCRATCH"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	cleanup
}
trap stop_all EXIT
ORIGIN="file://$SCRATCH/origin.git"

test_expect_success 'setup: two origin repos' '
	for r in origin other; do
		git init -q --bare $r.git &&
		git clone -q $r.git w-$r 2>/dev/null && mkdir -p w-$r/train &&
		cat >w-$r/mlci.yaml <<-\YAML &&
		pipeline: wl
		model: wl-model
		model_artifact: train/model.txt
		components:
		  train: { path: train, run: "cat w.txt > $MLCI_OUT/model.txt", outputs: [model.txt] }
		environments:
		  test: { promote: auto, branches: ["dev/*"] }
		YAML
		echo w1 >w-$r/train/w.txt && commit_all w-$r first && git -C w-$r push -q origin main || return 1
	done
'

test_expect_success 'a second watcher of the same repository exits 3 and names the first one' '
	"$MLCI_BIN" watch --interval 200ms "$ORIGIN" >w1.out 2>w1.err &
	WPID=$! && echo $WPID >w1.pid &&
	wait_for "$MLCI_HOME/locks/watch-*.lock" "pid $WPID" &&
	test_must_fail 3 mlci watch --once "$ORIGIN" >w2.out 2>w2.err &&
	test_grep "already watched with this MLCI_HOME by another mlci watch (pid $WPID; lock .*/locks/watch-[0-9a-f]*\.lock)" w2.err &&
	test_grep "$ORIGIN" w2.err &&
	test_must_fail 3 mlci watch --once "file://$SCRATCH/other.git" "$ORIGIN" 2>w3.err &&
	test_grep "pid $WPID" w3.err &&
	alive $WPID
'

test_expect_success 'another repository with the same MLCI_HOME is not blocked' '
	mlci watch --once "file://$SCRATCH/other.git" >o.out &&
	test_grep "1 run: 1 passed" o.out
'

test_expect_success 'the lock goes with its holder: after SIGTERM, and after SIGKILL' '
	WPID=$(cat w1.pid) && kill -TERM $WPID && gone $WPID && rm w1.pid &&
	mlci watch --once "$ORIGIN" >a.out &&
	"$MLCI_BIN" watch --interval 200ms "$ORIGIN" >w4.out 2>&1 &
	WPID=$! && echo $WPID >w4.pid &&
	wait_for "$MLCI_HOME/locks/watch-*.lock" "pid $WPID" &&
	test_must_fail 3 mlci watch --once "$ORIGIN" 2>b.err && test_grep "pid $WPID" b.err &&
	kill -KILL $WPID && gone $WPID && rm w4.pid &&
	mlci watch --once "$ORIGIN" >c.out
'

test_expect_success 'watch --once -o json: the heads handled, their runs, deleted branches' '
	git -C w-origin switch -q -c dev/x && echo w2 >w-origin/train/w.txt && commit_all w-origin dev &&
	git -C w-origin push -q origin dev/x &&
	mlci watch --once -o json "$ORIGIN" >j1.json &&
	head=$(git -C w-origin rev-parse HEAD) &&
	python3 - "$head" "$ORIGIN" <<-\PY &&
	import json, sys
	d = json.load(open("j1.json"))
	assert d["runs"] == 1 and d["passed"] == 1 and d["failed"] == 0 and d["fetch_failures"] == 0, d
	assert len(d["heads"]) == 1, d
	h = d["heads"][0]
	assert h["repo"] == sys.argv[2] and h["branch"] == "dev/x" and h["commit"] == sys.argv[1], h
	assert h["event"] == "new branch" and h["status"] == "passed" and h["exit_code"] == 0, h
	assert h["run"], h
	assert d["deleted"] == [], d
	open("run.id", "w").write(h["run"])
	PY
	test "$(sql "SELECT status, branch FROM runs WHERE id=?" "$(cat run.id)")" = "passed|dev/x" &&
	mlci watch --once -o json "$ORIGIN" >j2.json &&
	python3 -c "import json; d=json.load(open(\"j2.json\")); assert d[\"runs\"] == 0 and d[\"heads\"] == [], d" &&
	git -C w-origin push -q origin --delete dev/x &&
	mlci watch --once -o json "$ORIGIN" >j3.json &&
	python3 -c "import json; d=json.load(open(\"j3.json\")); assert d[\"deleted\"] == [{\"repo\": \"$ORIGIN\", \"branch\": \"dev/x\", \"cancelled_promotions\": 0}], d"
'

test_expect_success '-o json without --once, or a repository given twice, is a usage error' '
	test_must_fail 2 mlci watch -o json "$ORIGIN" 2>u.err && test_grep "needs --once" u.err &&
	test_must_fail 2 mlci watch --once "$ORIGIN" "$ORIGIN" 2>t.err && test_grep "is given twice" t.err
'

test_done

#!/bin/sh
# t0300-store-cache.sh - the metadata store, artifact store, step cache and resume, on real repos:
# unchanged re-runs are fully cached, a change re-runs exactly what depends on it, a SIGKILLed run is
# detected and resumed, concurrent runs both land. Assertions read the SQLite store directly.
. "$(dirname "$0")/lib.sh"

jq_get() {
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1])); v=eval(sys.argv[2])
if isinstance(v, dict): print(' '.join('%s=%s' % kv for kv in v.items()))
elif isinstance(v, (list, tuple)): print(' '.join(map(str, v)))
else: print(v)" "$1" "$2"
}
# sql QUERY [ARGS...]: rows of the store, columns separated by "|"
sql() {
	python3 -c "
import sqlite3,sys
db=sqlite3.connect(sys.argv[1]); db.execute('PRAGMA busy_timeout=5000')
for row in db.execute(sys.argv[2], sys.argv[3:]): print('|'.join('' if c is None else str(c) for c in row))" \
		"$MLCI_HOME/mlci.db" "$@"
}
statuses() { jq_get "$1" "{s[\"component\"]+\".\"+s[\"phase\"]: s[\"status\"] for s in d[\"steps\"]}"; }

setup_repo() {
	rm -rf repo && make_repo repo && mkdir -p repo/a repo/b repo/c &&
	cat >repo/mlci.yaml <<-\YAML
	pipeline: cachey
	model: cachey-model
	model_artifact: c/model.txt
	components:
	  a:
	    path: a
	    test: test -f a.sh
	    run: sh a.sh > "$MLCI_OUT/a.txt"
	    outputs: [a.txt]
	  b:
	    path: b
	    run: cat "$MLCI_IN_A/a.txt" b.txt > "$MLCI_OUT/b.txt"
	    outputs: [b.txt]
	    needs: [a]
	  c:
	    path: c
	    needs: [b]
	    run: |
	      sh c.sh && cat "$MLCI_IN_B/b.txt" > "$MLCI_OUT/model.txt" && echo '{"accuracy": 0.5}' > "$MLCI_OUT/m.json"
	    outputs: [model.txt, m.json]
	checks:
	  model: { metrics: c/m.json }
	YAML
	echo "echo from-a" >repo/a/a.sh && echo "from-b" >repo/b/b.txt && echo "true" >repo/c/c.sh &&
	commit_all repo first
}

test_expect_success 'a first run executes everything and records it in the store' '
	setup_repo &&
	mlci run --repo repo -o json >r1.json &&
	test "$(statuses r1.json)" = "a.test=passed a.run=passed b.run=passed c.run=passed" &&
	id1=$(jq_get r1.json "d[\"id\"]") &&
	test "$(sql "SELECT status, pipeline, branch FROM runs WHERE id=?" "$id1")" = "passed|cachey|main" &&
	test "$(sql "SELECT count(*) FROM steps WHERE run=? AND status=\"passed\"" "$id1")" = 4 &&
	test "$(sql "SELECT count(*) FROM events WHERE run=? AND kind=\"output\"" "$id1")" = 4 &&
	test "$(sql "SELECT name FROM events WHERE run=? AND component=\"b\" AND kind=\"input\"" "$id1")" = a/a.txt &&
	test "$(sql "SELECT value FROM metrics WHERE run=? AND name=\"accuracy\"" "$id1")" = 0.5 &&
	test "$(sql "SELECT model, version, run FROM model_versions")" = "cachey-model|1|$id1"
'

test_expect_success 'artifacts are content-addressed, read-only and match their digest' '
	for d in $(sql "SELECT digest FROM artifacts"); do
		f="$MLCI_HOME/artifacts/sha256/$(echo $d | cut -c1-2)/$d" &&
		test "$(sha256sum "$f" | cut -d" " -f1)" = "$d" &&
		! test -w "$f" || [ "$(id -u)" = 0 ] || exit 1
		test "$(stat -c %a "$f")" = 444 || exit 1
	done &&
	test "$(sql "SELECT count(*) FROM artifacts")" = 3 &&
	# b.txt and c'"'"'s model.txt have the same bytes: one artifact, two output events
	test "$(sql "SELECT count(DISTINCT artifact) FROM events WHERE name IN (\"b.txt\", \"model.txt\")")" = 1
'

test_expect_success 'a second run of the unchanged commit executes nothing and registers no new version' '
	mlci run --repo repo -o json >r2.json &&
	test "$(statuses r2.json)" = "a.test=cached a.run=cached b.run=cached c.run=cached" &&
	test "$(jq_get r2.json "\" \".join(set(s[\"cached_from\"] for s in d[\"steps\"]))")" = "$(jq_get r1.json "d[\"id\"]")" &&
	test "$(jq_get r2.json "d[\"model\"][\"version\"]")" = 1 &&
	test "$(jq_get r2.json "d[\"model\"][\"new\"]")" = False &&
	test "$(jq_get r2.json "d[\"model\"][\"artifact\"]")" = "$(jq_get r1.json "d[\"model\"][\"artifact\"]")" &&
	out=$(jq_get r2.json "d[\"outputs\"]") &&
	test "$(cat "$out/c/model.txt")" = "$(printf "from-a\nfrom-b")" &&
	test "$(sql "SELECT count(*) FROM model_versions")" = 1
'

test_expect_success 'editing one component re-runs it and its downstream only' '
	echo "from-b2" >repo/b/b.txt && commit_all repo "change b" &&
	mlci run --repo repo -o json >r3.json &&
	test "$(statuses r3.json)" = "a.test=cached a.run=cached b.run=passed c.run=passed" &&
	test "$(jq_get r3.json "d[\"model\"][\"version\"]")" = 2 &&
	test "$(sql "SELECT previous FROM model_versions WHERE version=2")" = 1
'

test_expect_success 'a change that leaves an output identical stops the re-runs there' '
	echo "true # a comment" >repo/c/c.sh && commit_all repo "touch c" &&
	printf "echo from-a\n" >repo/a/a.sh && echo "# note" >repo/a/README && commit_all repo "touch a" &&
	mlci run --repo repo -o json >r4.json &&
	test "$(statuses r4.json)" = "a.test=passed a.run=passed b.run=cached c.run=passed"
'

test_expect_success 'a cached build runs again before a run step that must execute' '
	rm -rf brepo && make_repo brepo && mkdir -p brepo/up brepo/tool &&
	cat >brepo/mlci.yaml <<-\YAML &&
	pipeline: rebuild
	components:
	  up: { path: up, run: "cat v.txt > $MLCI_OUT/v.txt", outputs: [v.txt] }
	  tool:
	    path: tool
	    needs: [up]
	    build: echo built > built.txt
	    test: test -f built.txt
	    run: test -f built.txt && cat "$MLCI_IN_UP/v.txt" > "$MLCI_OUT/r.txt"
	    outputs: [r.txt]
	YAML
	echo 1 >brepo/up/v.txt && echo x >brepo/tool/keep && commit_all brepo one &&
	mlci run --repo brepo -o json >b1.json &&
	echo 2 >brepo/up/v.txt && commit_all brepo two &&
	mlci run --repo brepo -o json >b2.json &&
	test "$(statuses b2.json)" = "tool.build=cached tool.test=cached up.run=passed tool.run=passed" &&
	test "$(cat "$(jq_get b2.json "d[\"outputs\"]")/tool/r.txt")" = 2 &&
	test_grep "build was reused from the cache" "$(jq_get b2.json "d[\"logs\"]")/tool.log"
'

test_expect_success '--no-cache executes every step' '
	mlci run --repo repo --no-cache -o json >r5.json &&
	test "$(statuses r5.json)" = "a.test=passed a.run=passed b.run=passed c.run=passed"
'

test_expect_success 'a run killed with SIGKILL is marked interrupted; --resume re-runs only what did not finish' '
	cat >extra.yaml <<-\YAML &&
	  slow:
	    needs: [b]
	    run: touch "$MLCI_WORKSPACE/../slow.started"; while [ ! -e "$MLCI_WORKSPACE/../slow.release" ]; do sleep 0.05; done
	  after:
	    needs: [slow]
	    run: "true"
	YAML
	awk "/^checks:/ { while ((getline l < \"extra.yaml\") > 0) print l } { print }" repo/mlci.yaml >new.yaml &&
	mv new.yaml repo/mlci.yaml &&
	commit_all repo "add slow" &&
	"$MLCI_BIN" run --repo repo -o json >killed.json 2>killed.err &
	mpid=$! &&
	i=0 && while [ ! -e "$MLCI_HOME/workspaces/slow.started" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done &&
	test -e "$MLCI_HOME/workspaces/slow.started" &&
	kid=$(sql "SELECT id FROM runs WHERE status=\"running\"") && test -n "$kid" &&
	kill -KILL $mpid && { wait $mpid; true; } &&
	touch "$MLCI_HOME/workspaces/slow.release" &&
	test "$(sql "PRAGMA integrity_check")" = ok &&
	test "$(sql "SELECT status FROM steps WHERE run=? AND component=\"slow\"" "$kid")" = running &&
	mlci run --resume "$(echo "$kid" | cut -c1-18)" -o json >res.json &&
	test "$(sql "SELECT status FROM runs WHERE id=?" "$kid")" = interrupted &&
	test "$(sql "SELECT status FROM steps WHERE run=? AND component=\"slow\"" "$kid")" = interrupted &&
	test "$(jq_get res.json "d[\"resumed_from\"]")" = "$kid" &&
	test "$(jq_get res.json "d[\"commit\"][\"id\"]")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(statuses res.json)" = "a.test=cached a.run=cached b.run=cached c.run=cached slow.run=passed after.run=passed" &&
	test "$(sql "SELECT resumed_from FROM runs WHERE id=?" "$(jq_get res.json "d[\"id\"]")")" = "$kid"
'

test_expect_success '--resume of an unknown run exits 2' '
	test_must_fail 2 mlci run --resume 1999 2>err &&
	test_grep "unknown run .1999." err
'

test_expect_success 'two concurrent runs against one MLCI_HOME both land' '
	setup_repo &&
	echo "from-b-concurrent" >repo/b/b.txt && commit_all repo "concurrent" &&
	before=$(sql "SELECT count(*) FROM runs") &&
	{ "$MLCI_BIN" run --repo repo --no-cache -o json >c1.json 2>c1.err & p1=$!; } &&
	{ "$MLCI_BIN" run --repo repo --no-cache -o json >c2.json 2>c2.err & p2=$!; } &&
	wait $p1 && wait $p2 &&
	test "$(jq_get c1.json "d[\"status\"]")" = passed &&
	test "$(jq_get c2.json "d[\"status\"]")" = passed &&
	test "$(sql "SELECT count(*) FROM runs")" = $((before + 2)) &&
	test "$(sql "SELECT count(*) FROM steps WHERE run IN (?, ?)" "$(jq_get c1.json "d[\"id\"]")" "$(jq_get c2.json "d[\"id\"]")")" = 8 &&
	test "$(sql "PRAGMA integrity_check")" = ok
'

test_done

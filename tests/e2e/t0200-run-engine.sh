#!/bin/sh
# t0200-run-engine.sh - the run engine on small sh-only pipelines in real git repos: CI phase, DAG,
# environment, outputs, failures, timeouts, revisions, file:// URLs, cancellation.
. "$(dirname "$0")/lib.sh"

# a three-component pipeline: a -> b, a -> c; c runs from its own path
setup_repo() {
	rm -rf repo && make_repo repo && mkdir -p repo/comp_c &&
	cat >repo/mlci.yaml <<-\YAML
	pipeline: demo
	params: { alpha: 0.5, features-list: "x y" }
	env: { GREETING: "hello world" }
	components:
	  a:
	    test: test -f mlci.yaml
	    run: echo "version=$(cat version.txt)" > "$MLCI_OUT/a.txt" && env > "$MLCI_OUT/env.txt"
	    outputs: [a.txt, env.txt]
	  b:
	    needs: [a]
	    run: cat "$MLCI_IN_A/a.txt" > "$MLCI_OUT/b.txt"
	    outputs: [b.txt]
	  comp_c:
	    needs: [a]
	    path: comp_c
	    build: echo built > built.txt
	    test: test -f built.txt
	    run: pwd > "$MLCI_OUT/where.txt"
	    outputs: [where.txt]
	YAML
	echo v1 >repo/version.txt && echo x >repo/comp_c/keep &&
	commit_all repo "first"
}

outdir() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"outputs\"])" "$1"; }
# jq_get FILE EXPR: evaluate a Python expression over the JSON "d"; lists print space-separated, dicts as k=v
jq_get() {
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1])); v=eval(sys.argv[2])
if isinstance(v, dict): print(' '.join('%s=%s' % kv for kv in v.items()))
elif isinstance(v, (list, tuple)): print(' '.join(map(str, v)))
else: print(v)" "$1" "$2"
}

test_expect_success 'a passing pipeline: every step passes, outputs flow downstream' '
	setup_repo &&
	mlci run --repo repo -o json >run.json &&
	test "$(jq_get run.json "d[\"status\"]")" = passed &&
	out=$(outdir run.json) &&
	grep -q "version=v1" "$out/b/b.txt" &&
	test "$(jq_get run.json "len(d[\"steps\"])")" = 6
'

test_expect_success 'CI steps come before any run step and builds before tests' '
	test "$(jq_get run.json "[s[\"phase\"] for s in d[\"steps\"]]")" = "test build test run run run" &&
	python3 -c "
import json; d=json.load(open(\"run.json\")); s=d[\"steps\"]
ci_end=max(x[\"started_at_ms\"]+x[\"duration_ms\"] for x in s if x[\"phase\"]!=\"run\")
assert all(x[\"started_at_ms\"]+2>=ci_end for x in s if x[\"phase\"]==\"run\"), s
b=[i for i,x in enumerate(s) if x[\"component\"]==\"comp_c\"]
assert s[b[0]][\"phase\"]==\"build\" and s[b[1]][\"phase\"]==\"test\"
assert s[b[1]][\"started_at_ms\"]+2>=s[b[0]][\"started_at_ms\"]+s[b[0]][\"duration_ms\"], s"
'

test_expect_success 'the step environment is exactly the declared one' '
	out=$(outdir run.json) &&
	env_file="$out/a/env.txt" &&
	grep -q "^MLCI_PARAM_ALPHA=0.5$" "$env_file" &&
	grep -q "^MLCI_PARAM_FEATURES_LIST=x y$" "$env_file" &&
	grep -q "^GREETING=hello world$" "$env_file" &&
	grep -q "^MLCI_PIPELINE=demo$" "$env_file" &&
	grep -q "^MLCI_BRANCH=main$" "$env_file" &&
	grep -q "^MLCI_COMMIT=$(git -C repo rev-parse HEAD)$" "$env_file" &&
	grep -q "^MLCI_RUN_ID=$(jq_get run.json "d[\"id\"]")$" "$env_file" &&
	grep -q "^MLCI_OUT=$out/a$" "$env_file" &&
	SECRET_LEAK=oops mlci run --repo repo --no-cache -o json >run2.json &&
	! grep -q SECRET_LEAK "$(outdir run2.json)/a/env.txt" &&
	cut -d= -f1 "$(outdir run2.json)/a/env.txt" | sort >names &&
	printf "%s\n" GREETING HOME MLCI_BRANCH MLCI_COMMIT MLCI_COMPONENT MLCI_OUT MLCI_PARAM_ALPHA \
		MLCI_PARAM_FEATURES_LIST MLCI_PHASE MLCI_PIPELINE MLCI_RUN_ID MLCI_WORKSPACE PATH PWD TMPDIR | sort >want &&
	grep -v -e "^LANG$" -e "^LC_ALL$" -e "^TZ$" -e "^SHLVL$" -e "^_$" -e "^OLDPWD$" names >got &&
	diff want got
'

test_expect_success 'a component with a path runs there; build output is visible to its test' '
	out=$(outdir run.json) &&
	grep -q "/workspaces/.*/comp_c$" "$out/comp_c/where.txt"
'

test_expect_success 'logs hold each phase of a component' '
	log=$(jq_get run.json "d[\"logs\"]")/comp_c.log &&
	test_grep "comp_c build" "$log" &&
	test_grep "comp_c test" "$log" &&
	test_grep "comp_c run" "$log"
'

test_expect_success 'a failing unit test fails the run in the CI phase and names it; no run step starts' '
	setup_repo &&
	sed -i "s/test: test -f built.txt/test: echo boom; exit 4/" repo/mlci.yaml && commit_all repo "break test" &&
	test_must_fail 1 mlci run --repo repo -o json >run.json &&
	test "$(jq_get run.json "d[\"status\"]")" = failed &&
	jq_get run.json "d[\"reason\"]" | grep -q "^comp_c test exited with status 4" &&
	test "$(jq_get run.json "sorted(set(s[\"status\"] for s in d[\"steps\"] if s[\"phase\"]==\"run\"))")" = skipped &&
	jq_get run.json "d[\"steps\"][3][\"reason\"]" | grep -q "CI phase failed (comp_c test failed)"
'

test_expect_success '--junit writes the steps as JUnit XML with the failure' '
	test_must_fail 1 mlci run --repo repo --no-cache --junit junit.xml >/dev/null &&
	python3 -c "
import xml.etree.ElementTree as ET
s=ET.parse(\"junit.xml\").getroot().find(\"testsuite\")
assert s.get(\"name\")==\"demo\" and s.get(\"tests\")==\"6\" and s.get(\"failures\")==\"1\" and s.get(\"skipped\")==\"3\", s.attrib
f=[c for c in s.findall(\"testcase\") if c.find(\"failure\") is not None]
assert [(c.get(\"classname\"), c.get(\"name\")) for c in f]==[(\"comp_c\",\"test\")], f
assert \"exited with status 4\" in f[0].find(\"failure\").get(\"message\")
"
'

test_expect_success 'the text summary names the failing component and phase' '
	test_must_fail 1 mlci run --repo repo >out 2>err &&
	test_grep "comp_c  *test  *failed" out &&
	test_grep "run .* failed" out &&
	test_grep "comp_c test exited with status 4" out
'

test_expect_success 'a component that exits 0 without its declared output fails; downstream is skipped' '
	setup_repo &&
	sed -i "s|run: echo \"version=|run: true \\&\\& echo \"version=|; s|> \"\$MLCI_OUT/a.txt\"|> /dev/null|" repo/mlci.yaml &&
	commit_all repo "no output" &&
	test_must_fail 1 mlci run --repo repo -o json >run.json &&
	jq_get run.json "d[\"reason\"]" | grep -q "did not write declared output .a.txt." &&
	test "$(jq_get run.json "[s[\"status\"] for s in d[\"steps\"] if s[\"phase\"]==\"run\"]")" = "failed skipped skipped"
'

test_expect_success 'when one component fails, its running sibling finishes and nothing downstream starts' '
	rm -rf repo && make_repo repo &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: sib
	components:
	  root: { run: "true" }
	  slow: { needs: [root], run: "i=0; while [ ! -e $MLCI_WORKSPACE/../bad.$MLCI_RUN_ID ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo done > $MLCI_OUT/s", outputs: [s] }
	  bad: { needs: [root], run: "touch $MLCI_WORKSPACE/../bad.$MLCI_RUN_ID; exit 3" }
	  after_bad: { needs: [bad], run: "true" }
	  after_slow: { needs: [slow], run: "true" }
	YAML
	commit_all repo sib &&
	test_must_fail 1 mlci run --repo repo -j 4 -o json >run.json &&
	test "$(jq_get run.json "{s[\"component\"]: s[\"status\"] for s in d[\"steps\"]}")" = \
		"root=passed slow=passed bad=failed after_bad=skipped after_slow=passed"
'

test_expect_success 'independent components run in parallel with -j 2 and one at a time with -j 1' '
	rm -rf repo && make_repo repo &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: par
	components:
	  p1: { run: "touch $MLCI_WORKSPACE/../p1.$MLCI_RUN_ID; i=0; while [ ! -e $MLCI_WORKSPACE/../p2.$MLCI_RUN_ID ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; test -e $MLCI_WORKSPACE/../p2.$MLCI_RUN_ID" }
	  p2: { run: "touch $MLCI_WORKSPACE/../p2.$MLCI_RUN_ID; i=0; while [ ! -e $MLCI_WORKSPACE/../p1.$MLCI_RUN_ID ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; test -e $MLCI_WORKSPACE/../p1.$MLCI_RUN_ID" }
	YAML
	commit_all repo par &&
	mlci run --repo repo -j 2 --no-cache -o json >run.json &&
	test "$(jq_get run.json "d[\"status\"]")" = passed &&
	test_must_fail 1 mlci run --repo repo -j 1 --no-cache -o json >run1.json
'

test_expect_success 'a timeout fails the step and leaves no process behind' '
	rm -rf repo && make_repo repo &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: slowpoke
	components:
	  hang:
	    run: "sleep 300 & echo $! > $MLCI_OUT/../../grandchild.pid; echo $$ > $MLCI_OUT/../../shell.pid; sleep 301"
	    timeout: 1s
	YAML
	commit_all repo hang &&
	test_must_fail 1 mlci run --repo repo -o json >run.json &&
	jq_get run.json "d[\"reason\"]" | grep -q "hang run timed out after 1.0s" &&
	test "$(jq_get run.json "d[\"steps\"][0][\"timed_out\"]")" = True &&
	! alive "$(cat "$(outdir run.json)/../grandchild.pid")" &&
	! alive "$(cat "$(outdir run.json)/../shell.pid")"
'

test_expect_success 'a spec error exits 2 with mlci.yaml:LINE:COL and runs nothing' '
	rm -rf repo && make_repo repo &&
	printf "pipeline: p\ncomponents:\n  a:\n    run: \"true\"\n    neds: [b]\n" >repo/mlci.yaml &&
	commit_all repo bad &&
	test_must_fail 2 mlci run --repo repo -o json >run.json 2>err &&
	test_grep "^mlci.yaml:5:5: components.a: unknown key \"neds\" (did you mean \"needs\"?)" err &&
	test "$(jq_get run.json "d[\"status\"]")" = error &&
	test "$(jq_get run.json "len(d[\"steps\"])")" = 0 &&
	jq_get run.json "d[\"spec_errors\"]" | grep -q "mlci.yaml:5:5"
'

test_expect_success '--rev of an older commit runs that commit'"'"'s code' '
	setup_repo &&
	first=$(git -C repo rev-parse HEAD) &&
	echo v2 >repo/version.txt && commit_all repo "v2" &&
	mlci run --repo repo -o json >new.json &&
	grep -q "version=v2" "$(outdir new.json)/a/a.txt" &&
	mlci run --repo repo --rev "$first" -o json >old.json &&
	grep -q "version=v1" "$(outdir old.json)/a/a.txt" &&
	test "$(jq_get old.json "d[\"commit\"][\"id\"]")" = "$first" &&
	git -C repo tag v1.0 "$first" &&
	mlci run --repo repo --rev v1.0 -o json >tag.json &&
	grep -q "version=v1" "$(outdir tag.json)/a/a.txt"
'

test_expect_success 'the branch comes from --branch, else from --rev, else from HEAD' '
	git -C repo branch dev/x &&
	mlci run --repo repo --rev dev/x -o json >b1.json &&
	test "$(jq_get b1.json "d[\"branch\"]")" = dev/x &&
	mlci run --repo repo --rev dev/x --branch feature/y --no-cache -o json >b2.json &&
	test "$(jq_get b2.json "d[\"branch\"]")" = feature/y &&
	grep -q "^MLCI_BRANCH=feature/y$" "$(outdir b2.json)/a/env.txt"
'

test_expect_success 'a branch name with shell syntax reaches steps only as data' '
	mlci run --repo repo --no-cache --branch "x\$(touch pwned)\`touch pwned2\`" -o json >inj.json &&
	test "$(jq_get inj.json "d[\"status\"]")" = passed &&
	! test -e pwned && ! test -e "$(jq_get inj.json "d[\"workspace\"]")/pwned" &&
	! test -e "$(jq_get inj.json "d[\"workspace\"]")/pwned2"
'

test_expect_success 'a file:// URL works the same as a path (mirrored under MLCI_HOME/repos)' '
	mlci run --repo "file://$SCRATCH/repo" -o json >url.json &&
	test "$(jq_get url.json "d[\"status\"]")" = passed &&
	test "$(jq_get url.json "d[\"commit\"][\"id\"]")" = "$(git -C repo rev-parse HEAD)" &&
	test "$(jq_get url.json "d[\"branch\"]")" = main &&
	grep -q "version=v2" "$(outdir url.json)/a/a.txt" &&
	ls -d "$MLCI_HOME"/repos/repo-*.git &&
	echo v3 >repo/version.txt && commit_all repo "v3" &&
	mlci run --repo "file://$SCRATCH/repo" -o json >url2.json &&
	grep -q "version=v3" "$(outdir url2.json)/a/a.txt" &&
	mlci run --repo "file://$SCRATCH/repo" --rev v1.0 -o json >url3.json &&
	grep -q "version=v1" "$(outdir url3.json)/a/a.txt"
'

test_expect_success 'a relative --home is made absolute, so steps in other directories get usable paths' '
	(cd repo && mlci --home ../relhome run -o json >../rel.json) &&
	test "$(jq_get rel.json "d[\"status\"]")" = passed &&
	case "$(jq_get rel.json "d[\"outputs\"]")" in "$SCRATCH"/relhome/*) ;; *) exit 1 ;; esac &&
	test -s "$SCRATCH/relhome/mlci.db"
'

test_expect_success 'an unknown revision and a missing repo exit 2 and 3' '
	test_must_fail 2 mlci run --repo repo --rev no-such-branch 2>err &&
	test_grep "no-such-branch" err &&
	test_must_fail 3 mlci run --repo "$SCRATCH/nope" 2>err &&
	test_grep "not a git repository" err
'

test_expect_success 'secret-looking env values are masked in logs but reach the step' '
	rm -rf repo && make_repo repo &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: masked
	env: { API_TOKEN: "s3cr3t-value-42", PLAIN: "visible-value" }
	components:
	  leak: { run: "echo token=$API_TOKEN plain=$PLAIN; echo $API_TOKEN > $MLCI_OUT/t", outputs: [t] }
	YAML
	commit_all repo masked &&
	mlci run --repo repo -o json >run.json &&
	log=$(jq_get run.json "d[\"logs\"]")/leak.log &&
	test_grep "token=\*\*\* plain=visible-value" "$log" &&
	! grep -q "s3cr3t-value-42" "$log" &&
	grep -q "^s3cr3t-value-42$" "$(outdir run.json)/leak/t"
'

test_expect_success 'SIGTERM cancels the run, stops every child and exits 143' '
	rm -rf repo && make_repo repo &&
	cat >repo/mlci.yaml <<-\YAML &&
	pipeline: cancel
	components:
	  long: { run: "echo $$ > $MLCI_WORKSPACE/../long.pid; sleep 300" }
	YAML
	commit_all repo cancel &&
	"$MLCI_BIN" run --repo repo -o json >run.json 2>err &
	mpid=$! &&
	i=0 && while [ -z "$(ls "$MLCI_HOME"/workspaces/long.pid 2>/dev/null)" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done &&
	test -s "$MLCI_HOME/workspaces/long.pid" &&
	kill -TERM $mpid &&
	{ wait $mpid; rc=$?; } ; test "$rc" = 143 &&
	test "$(jq_get run.json "d[\"status\"]")" = cancelled &&
	! alive "$(cat "$MLCI_HOME/workspaces/long.pid")"
'

test_done

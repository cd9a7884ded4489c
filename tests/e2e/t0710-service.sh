#!/bin/sh
# t0710-service.sh - the service check against real servers on 127.0.0.1: the template's serving/serve.py
# passes protocol, contract, parity and load; broken_server.py fails the matching check for each fault;
# a server that never becomes ready or exits early fails with its log and leaves no process behind;
# `mlci check contract` and `mlci check protocol` against a running server.
. "$(dirname "$0")/lib.sh"

SERVE_PID=
stop_serve() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}
trap 'stop_serve; cleanup' EXIT

# The template repo and its pipeline outputs (ingest -> train -> evaluate), made without mlci run.
REPO="$SCRATCH/repo"
OUT="$SCRATCH/out"
BROKEN="$TOP/tests/e2e/broken_server.py"
cp -r "$TOP/templates/default" "$REPO"
mkdir -p "$OUT/ingest" "$OUT/train" "$OUT/evaluate"
(cd "$REPO/components/ingest" && python3 main.py --src ../../data/breast_cancer.csv --out "$OUT/ingest/dataset.csv") >/dev/null &&
(cd "$REPO/components/train" && python3 train.py --data "$OUT/ingest/dataset.csv" --out "$OUT/train") >/dev/null &&
(cd "$REPO" && python3 components/evaluate/evaluate.py --data "$OUT/ingest/dataset.csv" \
	--model "$OUT/train/model.json" --out "$OUT/evaluate") >/dev/null || { echo "could not build the outputs"; exit 1; }

# spec_with START [extra sed]: the template's mlci.yaml with another start command and a short load test
spec_with() {
	sed -e "s|start: python3 serving/serve.py|start: $1|" \
	    -e 's|ready: /v2/health/ready,|ready: /v2/health/ready, ready_timeout: 5s,|' \
	    -e 's|rate: 200, duration: 5s|rate: 100, duration: 1s|' -e 's|p99_ms: 50,|p99_ms: 1000,|' \
	    "$REPO/mlci.yaml" >"$REPO/t.yaml"
}

# status_of FILE NAME: the status of verdict NAME in the JSON of `mlci -o json check service`
status_of() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print([c['status'] for c in d['checks'] if c['name']==sys.argv[2]][0])" "$1" "$2"
}

expect_statuses() { # FILE start protocol contract parity load
	f=$1
	shift
	for n in start protocol contract parity load; do
		got=$(status_of "$f" "service.$n")
		if [ "$got" != "$1" ]; then
			echo "service.$n: expected $1, got $got" >&2
			cat "$f" >&2
			return 1
		fi
		shift
	done
}

test_expect_success 'the template service passes start, protocol, contract, parity and load' '
	spec_with "python3 serving/serve.py" &&
	(cd repo && mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "^service.start *pass *ready in" out.txt &&
	test_grep "^service.protocol *pass *kserve-v2: 11 of 11 items passed" out.txt &&
	test_grep "^service.contract *pass *13 cases passed" out.txt &&
	test_grep "^service.parity *pass *113 rows match the offline predictions" out.txt &&
	test_grep "^service.load *pass *100 requests" out.txt &&
	! pgrep -f "serving/serve.py --model $OUT" >/dev/null
'

test_expect_success '-o json lists every verdict with details' '
	(cd repo && mlci -o json check service --spec t.yaml --outputs ../out --log ../svc.log >../out.json) &&
	expect_statuses out.json pass pass pass pass pass &&
	python3 - out.json <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["status"] == "pass", d
	c = {x["name"]: x for x in d["checks"]}
	assert c["service.parity"]["details"]["rows"] == 113 and c["service.parity"]["details"]["max_abs_diff"] == 0
	assert c["service.load"]["details"]["requests"] == 100 and c["service.load"]["details"]["ok"] == 100
	assert len(c["service.contract"]["details"]["cases"]) == 13
	assert [i["status"] for i in c["service.protocol"]["details"]["items"]] == ["pass"] * 11
	PY
'

test_expect_success 'tfserving-v1: model status, predict, errors and parity through :predict' '
	spec_with "python3 $BROKEN --serve serving/serve.py --mode tfserving" &&
	sed -i -e "s|protocol: kserve-v2, contract: contracts/,|protocol: tfserving-v1,|" repo/t.yaml &&
	(cd repo && mlci -o json check service --spec t.yaml --outputs ../out --log ../svc.log >../out.json) &&
	expect_statuses out.json pass pass skipped pass pass
'

# mode protocol contract parity load (the statuses broken_server.py --mode MODE must get)
while read -r mode p c q l; do
	test_expect_success "a server with fault '$mode' fails: protocol $p, contract $c, parity $q, load $l" "
		spec_with 'python3 $BROKEN --serve serving/serve.py --mode $mode' &&
		(cd repo && test_must_fail 1 mlci -o json check service --spec t.yaml --outputs ../out --log ../svc.log >../out.json) &&
		expect_statuses out.json pass $p $c $q $l &&
		! pgrep -f '$BROKEN --serve serving/serve.py --mode $mode --model $OUT' >/dev/null
	"
done <<EOF_MODES
wrong-shape fail pass pass pass
wrong-datatype fail pass pass pass
500-on-bad-input fail fail pass pass
ready-before-loaded fail fail fail fail
slow pass fail pass fail
drop-connections fail fail fail fail
one-class pass fail fail pass
EOF_MODES

test_expect_success 'a server that hangs on bad input fails the protocol check within the request timeout' '
	spec_with "python3 $BROKEN --serve serving/serve.py --mode hang-on-bad-input" &&
	sed -i -e "s|contract: contracts/,||" repo/t.yaml &&
	start=$(date +%s) &&
	(cd repo && test_must_fail 1 mlci -o json check service --spec t.yaml --outputs ../out --log ../svc.log --timeout 1s >../out.json) &&
	end=$(date +%s) &&
	test $((end - start)) -lt 20 &&
	expect_statuses out.json pass fail skipped pass pass &&
	python3 - out.json <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	items = [c for c in d["checks"] if c["name"] == "service.protocol"][0]["details"]["items"]
	bad = [i for i in items if i["name"].startswith("bad request:")]
	assert len(bad) == 5 and all(i["status"] == "fail" and "no answer: timed out after 1000 ms" in i["detail"] for i in bad), bad
	PY
'

test_expect_success 'the failures name what was expected and what came' '
	spec_with "python3 $BROKEN --serve serving/serve.py --mode wrong-datatype" &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "output \"probability\": datatype \"FP64\", but the metadata says FP32" out.txt &&
	spec_with "python3 $BROKEN --serve serving/serve.py --mode one-class" &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "rows differ from the offline predictions (tolerance 1e-06)" out.txt &&
	test_grep "parity.csv:2 (row 0): probability: offline 0.99[0-9]*, service 0.1" out.txt &&
	test_grep "outputs\[1\].data\[0\]: expected \"malignant\", got \"benign\"" out.txt &&
	spec_with "python3 $BROKEN --serve serving/serve.py --mode ready-before-loaded" &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "readiness was claimed before the model could answer" out.txt &&
	spec_with "python3 $BROKEN --serve serving/serve.py --mode 500-on-bad-input" &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "answered 500 .*a client error must not be a server error" out.txt
'

test_expect_success 'a server that never becomes ready fails within the timeout and leaves no process' '
	# the shell records its process group; a background sleep that ignores SIGTERM must die too
	cat >never.sh <<-SH &&
	echo \$\$ >../pgid
	trap "" TERM
	sleep 300 &
	exec python3 "$BROKEN" --serve serving/serve.py --mode never-ready "\$@"
	SH
	spec_with "sh ../never.sh" &&
	sed -i "s|ready_timeout: 5s|ready_timeout: 4s|" repo/t.yaml &&
	start=$(date +%s) &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	end=$(date +%s) &&
	test $((end - start)) -lt 12 &&
	test_grep "^service.start *fail *not ready after 4.0 s: GET /v2/health/ready: answered 503" out.txt &&
	test_grep "^service.load *skipped *the service did not start" out.txt &&
	pgid=$(cat pgid) && test -n "$pgid" &&
	# no live process of the group (an orphan killed a moment ago may still be a zombie for init to reap)
	test -z "$(ps -e -o pgid=,stat= | awk -v g="$pgid" '"'"'$1 == g && $2 !~ /^Z/'"'"')"
'

test_expect_success 'a server that exits early reports its status and the tail of its log' '
	spec_with "python3 $BROKEN --serve serving/serve.py --mode exit-early" &&
	start=$(date +%s) &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	end=$(date +%s) &&
	test $((end - start)) -lt 4 &&
	test_grep "^service.start *fail *the service exited with status 3 .* before GET /v2/health/ready answered 2xx; last log line: broken: error: cannot load the model (deliberate)" out.txt &&
	test_grep "    | broken: starting, step 29" out.txt &&
	! grep -q "step 9$" out.txt &&
	test_grep "broken: starting, step 0" svc.log
'

test_expect_success 'a chatty service (2 MB of output before it listens) does not block; its log has it all' '
	cat >chatty.py <<-\PY &&
	import sys
	sys.stdout.write(("x" * 99 + "\n") * 20000)
	PY
	cat >chatty.sh <<-\SH &&
	python3 ../chatty.py
	exec python3 serving/serve.py "$@"
	SH
	spec_with "sh ../chatty.sh" &&
	sed -i -e "s|contract: contracts/,||" repo/t.yaml &&
	(cd repo && mlci -o json check service --spec t.yaml --outputs ../out --log ../chatty.log >../out.json) &&
	expect_statuses out.json pass pass skipped pass pass &&
	test "$(grep -c "^x*$" chatty.log)" -eq 20000
'

test_expect_success 'a start command that is not found fails with status 127' '
	spec_with "no-such-command-xyz" &&
	(cd repo && test_must_fail 1 mlci check service --spec t.yaml --outputs ../out --log ../svc.log >../out.txt) &&
	test_grep "exited with status 127" out.txt
'

test_expect_success 'parity without --outputs is a usage error; an unknown parity output a spec error' '
	spec_with "python3 serving/serve.py" &&
	(cd repo && test_must_fail 2 mlci check service --spec t.yaml 2>../err.txt) &&
	test_grep "needs --outputs" err.txt &&
	sed -i "s|predictions: evaluate/predictions.csv|predictions: evaluate/predictons.csv|" repo/t.yaml &&
	(cd repo && test_must_fail 2 mlci validate t.yaml >../err.txt 2>&1) &&
	test_grep "checks.service.parity.predictions: component \"evaluate\" declares no output \"predictons.csv\" (did you mean \"predictions.csv\"?)" err.txt
'

# A running serve.py for the standalone subcommands.
python3 "$REPO/serving/serve.py" --model "$OUT/train/model.json" --port 0 2>"$SCRATCH/serve.log" &
SERVE_PID=$!
PORT=
i=0
while [ $i -lt 100 ]; do
	PORT=$(sed -n 's/.*ready on http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$SCRATCH/serve.log")
	[ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break
	PORT=
	alive "$SERVE_PID" || break
	sleep 0.1
	i=$((i + 1))
done
BASE="http://127.0.0.1:$PORT"

test_expect_success 'check contract: the template cases pass against serve.py' '
	test -n "$PORT" &&
	mlci check contract "$BASE" repo/contracts >out.txt &&
	test_grep "^13 cases: 13 passed, 0 failed" out.txt &&
	test_grep "^ok   server is live  (repo/contracts/predict.yaml:" out.txt
'

test_expect_success 'check contract: each mismatch with its path, expected and actual value; exit 1' '
	cat >bad.yaml <<-YAML &&
	cases:
	  - name: wrong expectations
	    request: { method: GET, path: /v2/models/bc-classifier }
	    expect:
	      status: [200, 201]
	      json:
	        name: other
	        "inputs[0].shape": { len: 3 }
	        "inputs[0].shape[1]": { min: 31, max: 40 }
	        "outputs[*].datatype": { one_of: [FP32] }
	        "outputs[0].name": { type: number }
	        platform: { contains: tensorflow }
	        versions: { exists: false }
	        "nope.deeper": 1
	  - name: right expectations
	    request: { path: /v2/models/bc-classifier }
	    expect:
	      status: 2xx
	      json:
	        "outputs[*].shape": { len: 1 }
	        "inputs[0].shape[1]": { type: integer, min: 30, max: 30 }
	        "outputs": { min_len: 2, max_len: 2 }
	        "[\"name\"]": bc-classifier
	        "\$.versions[0]": "1"
	YAML
	test_must_fail 1 mlci check contract "$BASE/" bad.yaml >out.txt &&
	test_grep "^FAIL wrong expectations  (bad.yaml:2; GET /v2/models/bc-classifier -> 200" out.txt &&
	test_grep "^     name: expected \"other\", got \"bc-classifier\"" out.txt &&
	test_grep "^     inputs\[0\].shape: expected length 3, got length 2" out.txt &&
	test_grep "^     inputs\[0\].shape\[1\]: expected >= 31, got 30" out.txt &&
	test_grep "^     outputs\[1\].datatype: expected one of \[\"FP32\"\], got \"BYTES\"" out.txt &&
	test_grep "^     outputs\[0\].name: expected type number, got string \"probability\"" out.txt &&
	test_grep "^     platform: expected a string containing \"tensorflow\", got \"python_logistic_regression\"" out.txt &&
	test_grep "^     versions: expected no such value, got \[\"1\"\]" out.txt &&
	test_grep "^     nope.deeper: missing (expected 1)" out.txt &&
	test_grep "^ok   right expectations" out.txt &&
	test_grep "^2 cases: 1 passed, 1 failed" out.txt
'

test_expect_success 'check contract -o json' '
	test_must_fail 1 mlci -o json check contract "$BASE" bad.yaml >out.json &&
	python3 - out.json <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["passed"] == 1 and d["failed"] == 1, d
	c = d["cases"][0]
	assert c["name"] == "wrong expectations" and c["status"] == 200 and c["passed"] is False
	assert c["file"] == "bad.yaml" and c["line"] == 2 and c["method"] == "GET"
	assert len(c["problems"]) == 8, c["problems"]
	assert d["cases"][1]["passed"] is True
	PY
'

test_expect_success 'check contract: a bad case file is exit 2 with file:line:col' '
	cat >broken.yaml <<-YAML &&
	cases:
	  - name: x
	    request: { path: nope, colour: red }
	    expect: { status: 99, json: { "a[": 1, b: { between: 1 } } }
	YAML
	test_must_fail 2 mlci check contract "$BASE" broken.yaml 2>err.txt &&
	test_grep "^broken.yaml:3:28: request: unknown key \"colour\"" err.txt &&
	test_grep "^broken.yaml:3:22: request.path: expected an HTTP path starting with" err.txt &&
	test_grep "^broken.yaml:4:23: expect.status: expected an HTTP status" err.txt &&
	test_grep "^broken.yaml:4:35: expect.json: expected an index" err.txt &&
	test_grep "^broken.yaml:4:49: expect.json.\"b\": unknown key \"between\"" err.txt &&
	test_must_fail 2 mlci check contract "$BASE" no-such.yaml 2>err.txt &&
	test_grep "no-such.yaml: could not read" err.txt &&
	test_must_fail 2 mlci check contract nope bad.yaml
'

test_expect_success 'check contract: a dead service fails every case, quickly' '
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
	test_must_fail 1 mlci check contract "http://127.0.0.1:$port" repo/contracts/predict.yaml >out.txt &&
	test_grep "no answer: " out.txt &&
	test_grep "^7 cases: 0 passed, 7 failed" out.txt
'

test_expect_success 'check protocol: serve.py conforms to kserve-v2; a wrong model name does not' '
	mlci check protocol "$BASE" --model bc-classifier >out.txt &&
	test_grep "^kserve-v2: 11 items, 0 failed" out.txt &&
	test_grep "^pass    infer right after ready" out.txt &&
	test_must_fail 1 mlci -o json check protocol "$BASE" --model other >out.json &&
	python3 -c "import json; d=json.load(open(\"out.json\")); assert d[\"failed\"] >= 2, d" &&
	test_must_fail 2 mlci check protocol "$BASE" &&
	test_must_fail 2 mlci check protocol "$BASE" --model m --protocol grpc
'

stop_serve
test_done

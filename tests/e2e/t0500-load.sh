#!/bin/sh
# t0500-load.sh - `mlci load` against the template's prediction service (serving/serve.py) on 127.0.0.1:
# a V2 infer POST with no errors, the JSON fields, thresholds deciding the exit code, usage errors.
. "$(dirname "$0")/lib.sh"

SERVE_PID=
stop_serve() {
	[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}
trap 'stop_serve; cleanup' EXIT

# A model.json in train.py's format (30 features) and a V2 infer body for it.
python3 "$TOP/tests/e2e/linear_model.py" "$SCRATCH"

# --port 0: the server picks a free port and names it on stderr once the model is loaded.
python3 "$TOP/templates/default/serving/serve.py" --model "$SCRATCH/model.json" --port 0 2>"$SCRATCH/serve.log" &
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
INFER="$BASE/v2/models/bc-classifier/infer"

test_expect_success 'the service became ready' '
	test -n "$PORT" || { cat "$SCRATCH/serve.log"; exit 1; }
'

test_expect_success 'open loop POST of a V2 infer body: requests, no errors, JSON fields' '
	mlci -o json load "$INFER" --rate 100 --duration 1s --connections 4 --body @body.json \
		-H "Content-Type: application/json" --header "X-Load: 1" >out &&
	python3 - out <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["mode"] == "open" and d["target_qps"] == 100, d
	assert d["requests"] > 0 and d["requests"] + d["unsent"] == 100, d
	assert d["ok"] == d["requests"], d
	assert d["errors"]["total"] == 0 and d["error_rate"] == 0, d
	for k in ("connect", "timeout", "4xx", "5xx", "closed", "other"):
	    assert d["errors"][k] == 0, k
	lat = d["latency_ms"]
	assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"], lat
	assert d["qps"] > 50 and d["duration_s"] >= 1, d
	assert d["bytes"]["sent"] > 100 * d["requests"] and d["bytes"]["received"] > 0, d
	assert d["connections"] == 4 and d["threads"] == 1 and "thresholds" not in d, d
	PY
'

test_expect_success 'closed loop (--max) with two threads prints the text summary' '
	mlci load "$INFER" --max --duration 1s --connections 2 --threads 2 --body @body.json >out &&
	test_grep "closed loop (max)" out &&
	test_grep "^  requests  *[1-9][0-9]* in" out &&
	test_grep "p99.9 " out &&
	test_grep "errors     0 " out
'

test_expect_success 'GET of a missing path counts 4xx' '
	mlci -o json load "$BASE/nope" --rate 50 --duration 300ms --connections 1 >out &&
	python3 -c "import json; d=json.load(open(\"out\")); assert d[\"requests\"] > 0 and d[\"errors\"][\"4xx\"] == d[\"requests\"], d"
'

test_expect_success 'thresholds that hold exit 0, a p99 of 0.001 ms exits 1' '
	mlci -o json load "$INFER" --rate 50 --duration 500ms --connections 2 --body @body.json \
		--p99-ms 5000 --max-error-rate 0 --min-qps 1 >out &&
	python3 -c "import json; d=json.load(open(\"out\")); assert d[\"thresholds\"][\"passed\"] is True, d" &&
	test_must_fail 1 mlci load "$INFER" --rate 50 --duration 500ms --connections 2 --body @body.json \
		--p99-ms 0.001 >out &&
	test_grep "thresholds failed: p99 .* > 0.001 ms" out
'

# stopped here, in the script's shell (a test body runs in a subshell, which cannot wait for it)
stop_serve
test_expect_success 'a port without a listener counts connect errors' '
	mlci -o json load "$BASE/v2/health/ready" --rate 20 --duration 300ms --connections 1 \
		--max-error-rate 0.5 >out; test $? -eq 1 &&
	python3 -c "import json; d=json.load(open(\"out\")); assert d[\"errors\"][\"connect\"] == d[\"requests\"] > 0, d"
'

test_expect_success 'usage errors exit 2' '
	test_must_fail 2 mlci load http://127.0.0.1:1/ --duration 1s 2>err &&
	test_grep "exactly one of --rate R and --max" err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max --rate 5 2>err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --rate 0 2>err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max --duration soon 2>err &&
	test_grep "invalid --duration" err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max --connections 2 --threads 3 2>err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max -H nocolon 2>err &&
	test_grep "invalid --header" err &&
	test_must_fail 2 mlci load ftp://127.0.0.1:1/ --max 2>err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max --body @missing.json 2>err &&
	test_grep "could not read .missing.json." err &&
	test_must_fail 2 mlci load http://127.0.0.1:1/ --max -H "$(printf "X-A: 1\r\nX-B: 2")" 2>err &&
	test_grep "invalid header" err
'

# https: libcurl makes the TLS connection (certificate verified), the requests go over it
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SCRATCH/tls.key" -out "$SCRATCH/tls.crt" -days 2 \
		-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null
	python3 "$TOP/tests/e2e/tls_json_server.py" "$SCRATCH/tls.port" "$SCRATCH/tls.crt" "$SCRATCH/tls.key" &
	TLS_PID=$!

	test_expect_success 'https with --cacert: keep-alive requests over TLS, counts match the server' '
		wait_file tls.port &&
		TLS="https://localhost:$(cat tls.port)" &&
		mlci -o json load "$TLS/x" --max --duration 500ms --connections 2 --cacert tls.crt >out &&
		test "$(js "d[\"errors\"][\"total\"]" <out)" = 0 &&
		n=$(js "d[\"requests\"]" <out) && test "$n" -gt 0 &&
		test "$(curl -s --cacert tls.crt "$TLS/count")" = "$n"
	'

	test_expect_success 'https without the CA: every request is a connect error (certificate not trusted)' '
		TLS="https://localhost:$(cat tls.port)" &&
		mlci -o json load "$TLS/x" --rate 20 --duration 300ms --connections 1 >out &&
		python3 -c "import json; d=json.load(open(\"out\")); assert d[\"errors\"][\"connect\"] == d[\"requests\"] > 0, d"
	'
	kill "$TLS_PID" 2>/dev/null
	wait "$TLS_PID" 2>/dev/null
else
	echo "# skipping https tests: no openssl command (make deps)"
fi

stop_serve
test_done

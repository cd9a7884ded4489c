#!/bin/sh
# bench_load.sh - `mlci load --max` against wrk (the baseline), both closed loop with 1 thread and 8
# connections for 5 s, alternating BENCH_LOAD_ROUNDS times (default 3), against nginx serving a static JSON
# on 127.0.0.1, then twice against the template's serve.py (a V2 infer POST); medians and ratios.
# Goal (issue 5): mlci >= 90% of wrk's req/s and >= 20 000 req/s. Needs wrk and nginx (Debian packages
# wrk, nginx-light): installed with apt-get when missing and run as root, else the bench is skipped.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
MLCI=${MLCI:-$TOP/mlci}
DURATION=${BENCH_LOAD_DURATION:-5}
ROUNDS=${BENCH_LOAD_ROUNDS:-3}
CONNS=8

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! have wrk || ! have nginx; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing wrk and nginx-light (apt-get)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk nginx-light >/dev/null 2>&1 ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk nginx >/dev/null 2>&1
	fi
fi
if ! have wrk || ! have nginx; then
	echo "skipped: bench_load needs wrk and nginx (apt-get install wrk nginx-light) and could not install them"
	exit 0
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlci-bench-load.XXXXXX")
NGINX_PID=
stop() {
	[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null
		i=0
		while kill -0 "$NGINX_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	rm -rf "$DIR"
}
trap stop EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DIR/www" "$DIR/tmp"
chmod 755 "$DIR" "$DIR/www" # run as root, nginx's worker drops to an unprivileged user
printf '{"model_name":"bc-classifier","outputs":[{"name":"probability","datatype":"FP32","shape":[1],"data":[0.93]}]}\n' \
	>"$DIR/www/predict.json"
# one worker: the same single core budget the 1-thread clients get; no logs
cat >"$DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $DIR/tmp; proxy_temp_path $DIR/tmp; fastcgi_temp_path $DIR/tmp;
	uwsgi_temp_path $DIR/tmp; scgi_temp_path $DIR/tmp;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$PORT;
		root $DIR/www;
		default_type application/json;
	}
}
CONF
"$NGINX" -c "$DIR/nginx.conf" -p "$DIR" 2>"$DIR/nginx.out" &
NGINX_PID=$!
URL="http://127.0.0.1:$PORT/predict.json"
i=0
until curl -sf "$URL" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
		echo "error: nginx did not start:"
		tail -n 5 "$DIR/nginx.out" "$DIR/error.log" 2>/dev/null
		exit 1
	fi
	sleep 0.1
done

# wrk: "Requests/sec: N" and, with --latency, "99% X(us|ms|s)"; $1 = URL, $2 = optional lua script
wrk_run() {
	wrk -t1 -c$CONNS -d${DURATION}s --latency ${2:+-s "$2"} "$1" >"$DIR/wrk.out" 2>&1 || { cat "$DIR/wrk.out"; return 1; }
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$DIR/wrk.out")
	p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }' "$DIR/wrk.out")
	echo "$rps $p99"
}
# $1 = URL, then extra mlci load arguments
mlci_run() {
	u=$1
	shift
	"$MLCI" -o json load "$u" --max --connections $CONNS --threads 1 --duration ${DURATION}s "$@" >"$DIR/mlci.out" ||
		{ cat "$DIR/mlci.out"; return 1; }
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["qps"], d["latency_ms"]["p99"], d["errors"]["total"])' \
		"$DIR/mlci.out"
}

# compare NAME ROUNDS URL [LUA [MLCI_ARGS]]: wrk and mlci alternating, medians and ratios (MLCI_ARGS is
# split on blanks)
compare() {
	name=$1 rounds=$2 url=$3 lua=${4:-} extra=${5:-}
	: >"$DIR/times"
	round=1
	while [ $round -le "$rounds" ]; do
		w=$(wrk_run "$url" "$lua") || { echo "$w"; exit 1; }
		echo "$w" | { read -r q p; printf '  round %d  wrk   %10.0f req/s  p99 %7.3f ms\n' "$round" "$q" "$p"; }
		# shellcheck disable=SC2086
		m=$(mlci_run "$url" $extra) || { echo "$m"; exit 1; }
		echo "$m" | { read -r q p e; printf '  round %d  mlci  %10.0f req/s  p99 %7.3f ms  (%s errors)\n' "$round" "$q" "$p" "$e"; }
		echo "$w $m" >>"$DIR/times"
		round=$((round + 1))
	done
	python3 - "$DIR/times" "$name" <<'PY'
import statistics, sys
rows = [list(map(float, l.split()[:4])) for l in open(sys.argv[1]) if l.strip()]
w, wp99, m, mp99 = (statistics.median(c) for c in zip(*rows))
ratios = [r[2] / r[0] for r in rows if r[0]]
print("  median (%s)  wrk %.0f req/s (p99 %.3f ms), mlci %.0f req/s (p99 %.3f ms): mlci/wrk = %.2f, per-round ratios %s"
      % (sys.argv[2], w, wp99, m, mp99, m / w if w else 0, " ".join("%.2f" % r for r in ratios)))
if sys.argv[2] == "nginx":
    print("  goals: mlci/wrk >= 0.90: %s; mlci >= 20000 req/s: %s" % ("yes" if m / w >= 0.9 else "no", "yes" if m >= 20000 else "no"))
PY
}

echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), static JSON on $URL; $CONNS connections, 1 thread, ${DURATION}s, alternating"
compare nginx "$ROUNDS" "$URL"

# the template's prediction service (serving/serve.py, Python): a V2 infer POST, as the service check sends
python3 "$TOP/tests/e2e/linear_model.py" "$DIR"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = io.open("%s/body.json"):read("*a")\n' \
	"$DIR" >"$DIR/post.lua"
SERVE=$TOP/templates/default/serving/serve.py
python3 "$SERVE" --model "$DIR/model.json" --port 0 2>"$DIR/serve.log" &
SERVE_PID=$!
SPORT=
i=0
while [ -z "$SPORT" ] && [ $i -lt 100 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
	SPORT=$(sed -n 's/.*ready on http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$DIR/serve.log")
	[ -n "$SPORT" ] || sleep 0.1
	i=$((i + 1))
done
if [ -z "$SPORT" ]; then
	echo "error: the template's serve.py did not start:"
	tail -n 5 "$DIR/serve.log"
	exit 1
fi
INFER="http://127.0.0.1:$SPORT/v2/models/bc-classifier/infer"
echo "template serve.py, V2 infer POST on $INFER; $CONNS connections, 1 thread, ${DURATION}s, alternating"
compare serve.py 2 "$INFER" "$DIR/post.lua" "--body @$DIR/body.json"
kill "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null

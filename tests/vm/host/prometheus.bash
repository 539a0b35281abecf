# A real Prometheus on the host's loopback for the lab's host-side checks (sourced by
# tests/vm/host/metrics-scrape.sh and tests/vm/fleet.sh). The caller defines fail() and
# tmp (a directory of its own), and calls prometheus_stop when it ends.

prom_pid=""
prom_port=""

# prometheus_start CONFIG: Prometheus on a free port of 127.0.0.1 with CONFIG (YAML on
# stdin), its data and log in $tmp; returns once it is ready.
prometheus_start() {
	local i
	command -v prometheus >/dev/null && command -v promtool >/dev/null ||
		fail "prometheus and promtool are missing (Debian package 'prometheus'; scripts/deps.sh)"
	cat > "$tmp/prometheus.yml"
	promtool check config "$tmp/prometheus.yml" > "$tmp/check-config.out" 2>&1 ||
		fail "promtool check config: $(tail -n 5 "$tmp/check-config.out")"
	prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
		--web.listen-address="127.0.0.1:$prom_port" --log.level=warn \
		> "$tmp/prometheus.log" 2>&1 &
	prom_pid=$!
	for i in $(seq 1 300); do
		curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && return 0
		kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited: $(tail -n 5 "$tmp/prometheus.log")"
		sleep 0.1
	done
	fail "prometheus did not become ready in 30 s"
}

prometheus_stop() {
	[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	prom_pid=""
}

# query EXPR: the value of an instant query (one series), "none" when empty.
query() {
	python3 - "$prom_port" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(url, timeout=5))
if r["status"] != "success":
    sys.exit(f"query failed: {r}")
res = r["data"]["result"]
if len(res) > 1:
    sys.exit(f"{len(res)} series, wanted one: {res}")
print(res[0]["value"][1] if res else "none")
PY
}

# assert NAME EXPR PYTHON-CONDITION-ON-v: v is the query's value (nan when it is empty).
assert() {
	local v
	v=$(query "$2") || fail "$1: query failed: $2"
	if python3 -c "import math,sys; v = float('nan') if sys.argv[1] == 'none' else float(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$v"; then
		echo "ok: $1: $2 = $v"
	else
		fail "$1: $2 = $v, wanted $3"
	fi
}

# wait_for_query EXPR WANT SECONDS: until the query's value is WANT; false if it never is.
wait_for_query() {
	local i
	for ((i = 0; i < $3; i++)); do
		[ "$(query "$1")" = "$2" ] && return 0
		sleep 1
	done
	return 1
}

#!/usr/bin/env bash
# Smoke validation (docs/RUNBOOK.md section 4, `make smoke`): start `bizra run` on free
# loopback ports over a temporary state folder and data lake, run the runbook's checks
# against it (health, status, metrics key signals, a query that returns evidence, the
# bridge ping, the ledger), stop it with SIGINT and require a clean exit.
# Exits non-zero with a clear message on the first failure.
#
# Needs bash, curl and jq (.ci/run installs them). BIZRA_BIN overrides the binary
# (default bin/bizra, built when missing); SMOKE_KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

BIZRA=${BIZRA_BIN:-$root/bin/bizra}
say() { printf 'smoke: %s\n' "$*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bizra-smoke.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${SMOKE_KEEP:-}" = 1 ]; then say "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  printf 'smoke: FAIL: %s\n' "$*" >&2
  if [ -s "$work/node.log" ]; then
    printf -- '--- last lines of the node log (%s):\n' "$work/node.log" >&2
    tail -n 15 "$work/node.log" >&2
  fi
  exit 1
}
passed=0
ok() { passed=$((passed + 1)); say "ok   $*"; }

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (apt-get install $tool, or run .ci/run)"
done
if [ ! -x "$BIZRA" ]; then
  say "building $BIZRA"
  go build -o "$BIZRA" ./cmd/bizra || fail "go build ./cmd/bizra failed"
fi

# The node sees only its own state: no secrets or ports from the caller's environment.
unset BIZRA_BRIDGE_TOKEN BIZRA_RECEIPT_PRIVATE_KEY_HEX BIZRA_API_KEYS BIZRA_API_HOST BIZRA_API_PORT \
  BIZRA_BRIDGE_PORT BIZRA_NODE_ROLE BIZRA_LLM_URL OLLAMA_HOST LMSTUDIO_URL
export BIZRA_STATE_DIR="$work/state" BIZRA_DATA_LAKE_ROOT="$work/lake"

"$BIZRA" init >"$work/init.out" 2>&1 || fail "bizra init failed: $(cat "$work/init.out")"
[ "$(stat -c %a "$work/state/.env")" = 600 ] || fail "bizra init wrote $work/state/.env with mode $(stat -c %a "$work/state/.env"), want 600"
ok "bizra init (state 0700, .env 0600, data lake seeded)"

"$BIZRA" run --port 0 --bridge-port 0 --log-format json >"$work/node.out" 2>"$work/node.log" &
pid=$!

# The kernel picks the ports; the node logs them.
addr_of() {
  { grep -F "\"msg\":\"$1 listening\"" "$work/node.log" 2>/dev/null || true; } | head -n 1 | sed -E 's/.*"addr":"([^"]+)".*/\1/'
}
api="" bridge=""
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || fail "bizra run exited during start"
  api=$(addr_of api) bridge=$(addr_of bridge)
  if [ -n "$api" ] && [ -n "$bridge" ] && curl -fsS -o /dev/null "http://$api/v1/health" 2>/dev/null; then break; fi
  sleep 0.1
done
[ -n "$api" ] && [ -n "$bridge" ] || fail "the node did not log its API and bridge addresses within 30 s"
curl -fsS -o /dev/null "http://$api/v1/health" || fail "GET http://$api/v1/health did not answer 200 within 30 s"
base="http://$api"
ok "bizra run is up: API $api, bridge $bridge"

# 3.1 health and status.
code=$(curl -s -o "$work/health.json" -w '%{http_code}' "$base/v1/health")
[ "$code" = 200 ] || fail "GET /v1/health: HTTP $code"
jq -e '.status == "healthy" or .status == "degraded"' "$work/health.json" >/dev/null ||
  fail "GET /v1/health: status is not healthy or degraded: $(cat "$work/health.json")"
ok "GET /v1/health: $(jq -c '{status, checks}' "$work/health.json")"
"$BIZRA" health --api "$base" >"$work/health.cli" 2>&1 || fail "bizra health: $(cat "$work/health.cli")"
ok "bizra health"
curl -fsS "$base/v1/status" >"$work/status.json" || fail "GET /v1/status failed"
jq -e '.state.running == true and (.identity.node_id | length > 0) and (.identity.signer_key_id | length == 16)' "$work/status.json" >/dev/null ||
  fail "GET /v1/status: not running or no identity: $(head -c 400 "$work/status.json")"
ok "GET /v1/status: running, node $(jq -r .identity.node_id "$work/status.json")"
"$BIZRA" status --api "$base" >"$work/status.cli" 2>&1 || fail "bizra status: $(cat "$work/status.cli")"
ok "bizra status"

# A query that returns evidence from the seeded data lake.
curl -fsS -H 'Content-Type: application/json' -d '{"query":"what does the bridge answer to a stale timestamp"}' \
  "$base/v1/query" >"$work/query.json" || fail "POST /v1/query failed"
jq -e '.success == true and (.evidence | length > 0) and (.quality.snr | type == "number") and (.receipt.receipt_id | length > 0)' \
  "$work/query.json" >/dev/null || fail "POST /v1/query: no successful answer with evidence: $(head -c 600 "$work/query.json")"
ok "POST /v1/query: success, $(jq '.evidence | length' "$work/query.json") evidence passages, snr $(jq .quality.snr "$work/query.json")"

# 3.2 metrics: the key signals of the runbook, and the query counted.
curl -fsS "$base/v1/metrics" >"$work/metrics.txt" || fail "GET /v1/metrics failed"
for s in sovereign_queries_total sovereign_query_success_rate sovereign_snr_score sovereign_ihsan_score \
  sovereign_health_score sovereign_reasoning_calls_total sovereign_reasoning_avg_depth \
  sovereign_autonomous_cycles_total sovereign_autonomous_decisions_total sovereign_autonomous_actions_total \
  sovereign_cache_hits_total sovereign_cache_misses_total sovereign_cache_hit_rate \
  sovereign_query_duration_seconds sovereign_query_overhead_seconds; do
  grep -q "^# TYPE $s " "$work/metrics.txt" || fail "GET /v1/metrics: no # TYPE line for $s"
done
q=$(awk '$1 == "sovereign_queries_total" {print $2}' "$work/metrics.txt")
awk -v q="$q" 'BEGIN { exit !(q + 0 >= 1) }' || fail "sovereign_queries_total is '$q' after a query, want >= 1"
ok "GET /v1/metrics: key signals present, sovereign_queries_total $q"
"$BIZRA" metrics --api "$base" >"$work/metrics.cli" 2>&1 || fail "bizra metrics: $(head -c 300 "$work/metrics.cli")"
ok "bizra metrics"
curl -fsS "$base/metrics" >"$work/metrics-alias.txt" || fail "GET /metrics failed"
grep -q '^# TYPE sovereign_queries_total counter' "$work/metrics-alias.txt" || fail "GET /metrics does not serve the exposition"
inflight=$(awk '$1 == "sovereign_query_in_flight" {print $2}' "$work/metrics-alias.txt")
[ "$inflight" = "0" ] || fail "sovereign_query_in_flight is '$inflight' with no query running, want 0"
ok "GET /metrics: the same exposition, sovereign_query_in_flight 0"
# 7. the access log: one JSON line for the query, with its route pattern and duration in ms
jq -R -s -e '[split("\n")[] | fromjson? | select(.msg == "access" and .route == "/v1/query" and .status == 200 and (.duration_ms | type) == "number")] | length >= 1' \
  "$work/node.log" >/dev/null || fail "no access-log line for POST /v1/query in the node log"
ok "access log: POST /v1/query logged with route, status and duration_ms"
if command -v promtool >/dev/null 2>&1; then
  # api.md allows exactly one lint finding: the compatibility name sovereign_avg_query_time_ms.
  findings=$(promtool check metrics <"$work/metrics.txt" 2>&1 | grep -v '^sovereign_avg_query_time_ms ' || true)
  [ -z "$findings" ] || fail "promtool check metrics: $findings"
  ok "promtool check metrics (only the allowed sovereign_avg_query_time_ms finding)"
fi

# 3.3 the bridge ping (token from the state folder's .env).
bport=${bridge##*:}
"$BIZRA" ping --bridge-port "$bport" >"$work/ping.out" 2>"$work/ping.err" ||
  fail "bizra ping --bridge-port $bport: $(cat "$work/ping.err") $(cat "$work/ping.out")"
jq -e '.jsonrpc == "2.0" and .result.status == "alive" and (.result.receipt.receipt_id | length > 0)' "$work/ping.out" >/dev/null ||
  fail "bizra ping: unexpected answer: $(cat "$work/ping.out")"
ok "bizra ping: $(jq -c '{status: .result.status, request_count: .result.request_count}' "$work/ping.out")"

# 5.B the experience ledger verifies (the query was committed).
"$BIZRA" sel verify >"$work/sel.out" 2>&1 || fail "bizra sel verify: $(cat "$work/sel.out")"
ok "bizra sel verify"

# Stop as an operator does (Ctrl-C) and require a clean, prompt exit.
kill -INT "$pid"
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "bizra run still running 15 s after SIGINT"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "bizra run exited $rc after SIGINT, want 0"
ok "bizra run stopped cleanly on SIGINT"
say "PASS: $passed checks"

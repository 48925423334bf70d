#!/usr/bin/env bash
# HTTP benchmarks, one invocation, side by side on a noisy two-core machine:
#   - our cached dashboard query vs Floor A (pre-serialised bytes) and Floor B (A + one Redis GET),
#     max rps (wrk, closed loop) and server CPU-µs per request, each server pinned to core 0 and
#     the load generator on core 1;
#   - our latency curve at 25/50/75/90 % of our max (oha, open loop, latency-corrected);
#   - the specification's check: 1000 connections at a fixed 5,000 req/s, with the cache hit rate;
#   - progress mutations (badge evaluation included) alone, and 10 % inside the dashboard load.
# Every response body is checked: a 200 carrying GraphQL "errors" is a failure. Loopback only.
#   bash bench/http.sh            # the reference run (about 4 minutes)
#   bash bench/http.sh --smoke    # under two minutes
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false; [ "${1:-}" = "--smoke" ] && smoke=true
dur=15; spec_dur=60; curve_dur=10
$smoke && { dur=4; spec_dur=8; curve_dur=3; }

bash scripts/ensure-postgres.sh
bash scripts/ensure-redis.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v oha >/dev/null || cargo install oha --locked
ulimit -n 65536 2>/dev/null || true

port=18080; floor_port=18090
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pd_bench}
db="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
cargo build --release --quiet --bin progress-dashboard --example floor
./target/release/progress-dashboard seed-demo --count 200 >/dev/null

out=bench/out; mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

example=550e8400-e29b-41d4-a716-446655440000
query='{ dashboard(analysisId: \"'$example'\") { id url identity { companyName sector } opportunities { id opportunityId category hoursPerWeek hoursPerYear complexityLevel status implementedAt } progressSummary { totalOpportunities notStarted inProgress implemented completionPercentage } badges { id badgeType name icon rarity points earnedAt } achievements { badge { slug } unlocked progressPercentage nextMilestone } metrics { timeSaved { potentialWeekly implementedWeekly potentialAnnual implementedAnnual } moneySaved { hourlyRate potentialAnnual implementedAnnual currency } } recommendations { opportunity { opportunityId } priorityScore reason } } }'
export QUERY_BODY="{\"query\":\"$query\"}"
mutation_ids=$(psql "$DATABASE_URL" -tAc "SELECT string_agg(analysis_id::text, ',') FROM (SELECT analysis_id FROM user_progress WHERE opportunity_id = 'business_management' AND status <> 'IMPLEMENTED' ORDER BY analysis_id LIMIT 50) a")

# $1 label, $2 pid, $3 port, extra env for the lua script after
run_wrk() {
    local label=$1 pid=$2 p=$3
    local before after line
    before=$(cpu_ticks "$pid")
    line=$(taskset -c 1 wrk -t1 -c64 -d"${dur}s" --latency -s bench/dashboard.lua "http://127.0.0.1:$p/graphql" | grep '^WRKJSON' | cut -d' ' -f2-)
    after=$(cpu_ticks "$pid")
    python3 - "$label" "$line" "$before" "$after" <<'PY'
import json, sys
label, line, before, after = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
line["target"] = label
line["cpu_us_per_request"] = round((after - before) * 10_000 / max(line["requests"], 1), 1)
print(json.dumps(line))
PY
}

start_server() { # extra env as args
    env "$@" PORT=$port HOST=127.0.0.1 LOG_LEVEL=warn REPORTS_SCHEDULER=false CACHE_WARM_COUNT=200 \
        taskset -c 0 ./target/release/progress-dashboard serve >"$out/server.log" 2>&1 &
    server=$!; pids+=("$server"); wait_port $port
    # warm: pool, cache
    for _ in $(seq 1 50); do curl -s -o /dev/null -H 'content-type: application/json' -d "$QUERY_BODY" "http://127.0.0.1:$port/graphql"; done
}

echo "== our cached dashboard (Redis cache)"
start_server REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX=pdbench:
curl -s -H 'content-type: application/json' -d "$QUERY_BODY" "http://127.0.0.1:$port/graphql" >"$out/dashboard.json"
grep -q '"errors"' "$out/dashboard.json" && { echo "the dashboard query failed: $(cat "$out/dashboard.json")"; exit 1; }
ours_redis=$(run_wrk "ours (Redis cache)" "$server" $port)
echo "$ours_redis"
kill "$server"; wait "$server" 2>/dev/null || true

echo "== our cached dashboard (in-process cache)"
start_server
ours_memory=$(run_wrk "ours (in-process cache)" "$server" $port)
echo "$ours_memory"

echo "== latency curve (oha, open loop) at 25/50/75/90 % of our max"
max=$(python3 -c "import json,sys; print(int(json.loads(sys.argv[1])['rps']))" "$ours_memory")
curve="[]"
for pct in 25 50 75 90; do
    rate=$(( max * pct / 100 ))
    res=$(taskset -c 1 oha --no-tui --output-format json -z "${curve_dur}s" -q "$rate" --latency-correction -c 64 -m POST \
        -H 'content-type: application/json' -d "$QUERY_BODY" "http://127.0.0.1:$port/graphql")
    curve=$(python3 - "$curve" "$pct" "$rate" "$res" <<'PY'
import json, sys
curve, pct, rate, res = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
p = res["latencyPercentiles"]
codes = res.get("statusCodeDistribution", {})
curve.append({"pct_of_max": pct, "rate": rate, "rps": round(res["summary"]["requestsPerSec"], 1),
              "p50_ms": round(p["p50"] * 1000, 3), "p95_ms": round(p["p95"] * 1000, 3), "p99_ms": round(p["p99"] * 1000, 3),
              "non200": sum(v for k, v in codes.items() if k != "200")})
print(json.dumps(curve))
PY
)
done
echo "$curve"

echo "== the specification's check: 1000 connections, 5,000 req/s fixed, ${spec_dur}s"
stats='{"query":"{ serviceStats { cache { hits misses } } }"}'
h0=$(curl -s -H 'content-type: application/json' -d "$stats" "http://127.0.0.1:$port/graphql")
spec=$(taskset -c 1 oha --no-tui --output-format json -z "${spec_dur}s" -q 5000 --latency-correction -c 1000 -m POST \
    -H 'content-type: application/json' -d "$QUERY_BODY" "http://127.0.0.1:$port/graphql")
h1=$(curl -s -H 'content-type: application/json' -d "$stats" "http://127.0.0.1:$port/graphql")
spec=$(python3 - "$spec" "$h0" "$h1" <<'PY'
import json, sys
res, h0, h1 = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
c0, c1 = h0["data"]["serviceStats"]["cache"], h1["data"]["serviceStats"]["cache"]
hits, misses = c1["hits"] - c0["hits"], c1["misses"] - c0["misses"]
p = res["latencyPercentiles"]
codes = res.get("statusCodeDistribution", {})
total = sum(codes.values()) or 1
print(json.dumps({"rps": round(res["summary"]["requestsPerSec"], 1), "p50_ms": round(p["p50"] * 1000, 3),
    "p95_ms": round(p["p95"] * 1000, 3), "p99_ms": round(p["p99"] * 1000, 3),
    "error_pct": round(100 * (total - codes.get("200", 0)) / total, 3), "hit_rate": round(hits / max(hits + misses, 1), 4)}))
PY
)
echo "$spec"

echo "== progress mutations (badge evaluation), alone and 10 % inside the dashboard load"
mut_alone=$(MUTATE_EVERY=1 MUTATION_IDS=$mutation_ids run_wrk "mutations alone" "$server" $port)
echo "$mut_alone"
mixed=$(MUTATE_EVERY=10 MUTATION_IDS=$mutation_ids run_wrk "dashboard + 10 % mutations" "$server" $port)
echo "$mixed"
kill "$server"; wait "$server" 2>/dev/null || true

echo "== floors"
taskset -c 0 ./target/release/examples/floor --mode a --port $floor_port --body "$out/dashboard.json" & fa=$!; pids+=("$fa")
sleep 0.5
floor_a=$(run_wrk "floor A (bytes)" "$fa" $floor_port); echo "$floor_a"
kill "$fa"; wait "$fa" 2>/dev/null || true
taskset -c 0 ./target/release/examples/floor --mode b --port $floor_port --body "$out/dashboard.json" & fb=$!; pids+=("$fb")
sleep 0.5
floor_b=$(run_wrk "floor B (bytes + Redis GET)" "$fb" $floor_port); echo "$floor_b"

python3 - "$ours_redis" "$ours_memory" "$floor_a" "$floor_b" "$curve" "$spec" "$mut_alone" "$mixed" "$out/http.json" <<'PY'
import json, sys
ours_r, ours_m, fa, fb, curve, spec, mut, mixed = (json.loads(a) for a in sys.argv[1:9])
print("\n| target | rps | p50 ms | p99 ms | failures | CPU-µs/req | vs floor A | vs floor B |")
print("|---|---|---|---|---|---|---|---|")
for r in (ours_r, ours_m, fa, fb, mut, mixed):
    print(f"| {r['target']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['failures'] + r['non2xx'] + r['socket_errors']} | {r['cpu_us_per_request']} | {r['rps'] / fa['rps']:.2f} | {r['rps'] / fb['rps']:.2f} |")
print("\n| latency curve: % of max | rate | achieved rps | p50 ms | p95 ms | p99 ms | non-200 |")
print("|---|---|---|---|---|---|---|")
for c in curve:
    print(f"| {c['pct_of_max']} | {c['rate']} | {c['rps']} | {c['p50_ms']} | {c['p95_ms']} | {c['p99_ms']} | {c['non200']} |")
print(f"\nspec check (1000 connections, 5000 req/s): {spec}")
result = {"ours_redis": ours_r, "ours_memory": ours_m, "floor_a": fa, "floor_b": fb, "curve": curve, "spec": spec, "mutations": mut, "mixed": mixed}
json.dump(result, open(sys.argv[9], "w"), indent=2)
print(f"\nJSON written to {sys.argv[9]}")
PY

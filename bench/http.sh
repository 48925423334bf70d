#!/usr/bin/env bash
# HTTP benchmarks, one invocation, side by side on a noisy two-core machine:
#   - our cached dashboard query vs Floor A (pre-serialised bytes) and Floor B (A + one Redis GET),
#     max rps (wrk, closed loop) and server CPU-µs per request, each server pinned to core 0 and
#     the load generator on core 1;
#   - our latency curve at 25/50/75/90 % of our max (oha, open loop, latency-corrected);
#   - the specification's check: 1000 connections at a fixed 5,000 req/s, with the cache hit rate;
#   - progress mutations (badge evaluation included) alone, and 10 % inside the dashboard load.
# Every wrk response body is checked: a 200 carrying GraphQL "errors" is a failure; oha cannot see
# bodies, so a sample is checked before and after each of its runs. Loopback only.
#   bash bench/http.sh            # the reference run (about 4 minutes)
#   bash bench/http.sh --smoke    # under a minute
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false; [ "${1:-}" = "--smoke" ] && smoke=true
dur=15; spec_dur=60; curve_dur=10
$smoke && { dur=3; spec_dur=5; curve_dur=2; }

source bench/lib.sh
bench_database
bash scripts/ensure-redis.sh
bench_load_tools

port=$bench_port; floor_port=18090
bench_build
./target/release/progress-dashboard seed-demo --count 200 >/dev/null

out=$bench_out
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
mutation_ids=$(psql "$DATABASE_URL" -tAc "SELECT string_agg(analysis_id::text, ',') FROM (SELECT analysis_id FROM user_progress WHERE opportunity_id = 'business_management' AND status <> 'IMPLEMENTED' ORDER BY analysis_id LIMIT 50) a")

start_server() { # extra env as args
    start_pinned ./target/release/progress-dashboard "$@"
    pids+=("$server")
    check_bodies $port 50 # and warms the pool and the cache
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
    res=$(run_oha $(( max * pct / 100 )) 64 "$curve_dur" $port)
    curve=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); r=json.loads(sys.argv[3]); r["pct_of_max"]=int(sys.argv[2]); c.append(r); print(json.dumps(c))' "$curve" "$pct" "$res")
done
check_bodies $port
echo "$curve"

echo "== the specification's check: 1000 connections, 5,000 req/s fixed, ${spec_dur}s"
stats='{"query":"{ serviceStats { cache { hits misses } } }"}'
h0=$(curl -s -H 'content-type: application/json' -d "$stats" "http://127.0.0.1:$port/graphql")
spec=$(run_oha 5000 1000 "$spec_dur" $port)
h1=$(curl -s -H 'content-type: application/json' -d "$stats" "http://127.0.0.1:$port/graphql")
check_bodies $port
spec=$(python3 - "$spec" "$h0" "$h1" <<'PY'
import json, sys
res, h0, h1 = (json.loads(a) for a in sys.argv[1:4])
c0, c1 = h0["data"]["serviceStats"]["cache"], h1["data"]["serviceStats"]["cache"]
hits, misses = c1["hits"] - c0["hits"], c1["misses"] - c0["misses"]
res["hit_rate"] = round(hits / max(hits + misses, 1), 4)
print(json.dumps(res))
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

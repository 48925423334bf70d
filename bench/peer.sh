#!/usr/bin/env bash
# Side by side with a peer: PostGraphile 4.14 over the same PostgreSQL database, answering the
# equivalent dashboard query (the analysis, its opportunities with their progress, its badges),
# against our `dashboard` query with our cache on and off, each request for the next of the ~200
# seeded analyses. For each: the closed-loop max (wrk),
# the highest fixed rate held with a p95 under 200 ms (oha, open loop, latency-corrected), and the
# CPU-µs per request of the server (pinned to core 0) and of PostgreSQL. Loopback only.
#   bash bench/peer.sh            # about 4 minutes
#   bash bench/peer.sh --smoke    # under a minute
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

smoke=false; [ "${1:-}" = "--smoke" ] && smoke=true
dur=15; step_dur=8
$smoke && { dur=3; step_dur=2; }

bench_database
bench_load_tools
command -v node >/dev/null || bash scripts/ensure-node.sh
[ -x bench/peer/node_modules/.bin/postgraphile ] \
    || (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
bench_build
./target/release/progress-dashboard seed-demo --count 200 >/dev/null

port=$bench_port; peer_port=18095
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Every seeded analysis in turn, one request body per line, for each server's query.
ids=$(psql "$DATABASE_URL" -tAc "SELECT id FROM analyses ORDER BY id")
ours_bodies="$bench_out/peer-ours-bodies.txt"; peer_bodies="$bench_out/peer-postgraphile-bodies.txt"
: >"$ours_bodies"; : >"$peer_bodies"
for id in $ids; do
    echo '{"query":"{ dashboard(analysisId: \"'$id'\") { id url identity { companyName sector } opportunities { id opportunityId category hoursPerWeek hoursPerYear complexityLevel status implementedAt } badges { id badgeType name icon rarity points earnedAt } } }"}' >>"$ours_bodies"
    # PostGraphile's names: relations by foreign key, the progress row by its composite key.
    echo '{"query":"{ analysisById(id: \"'$id'\") { id url companyName sector opportunitiesByAnalysisId(orderBy: POSITION_ASC) { nodes { id opportunityId category hoursPerWeek hoursPerYear complexityLevel userProgressByAnalysisIdAndOpportunityId { status implementedAt } } } userBadgesByAnalysisId(orderBy: EARNED_AT_ASC) { nodes { id earnedAt badgeMetadatumByBadgeId { slug name icon rarity points } } } } }"}' >>"$peer_bodies"
done
analyses=$(wc -l <"$ours_bodies")

# $1 label, $2 pid, $3 port: max (wrk) then the rate at p95 < 200 ms (oha).
measure() {
    local label=$1 pid=$2 p=$3 max_run max rate
    echo "  [${SECONDS}s] checking every analysis' body" >&2
    check_bodies "$p" "$analyses"
    echo "  [${SECONDS}s] max (wrk, ${dur}s)" >&2
    max_run=$(run_wrk "$label" "$pid" "$p")
    echo "  [${SECONDS}s] the rate held at p95 < 200 ms (oha, ${step_dur}s steps)" >&2
    max=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["rps"]))' "$max_run")
    rate=$(rate_at_p95 "$max" "$p")
    check_bodies "$p" 20
    python3 -c 'import json,sys; m=json.loads(sys.argv[1]); m["at_p95_200"]=json.loads(sys.argv[2]); print(json.dumps(m))' "$max_run" "$rate"
}

start_ours() { # extra env as args
    start_pinned ./target/release/progress-dashboard "$@"
    pids+=("$server")
}

export BODIES_FILE=$ours_bodies
echo "== ours, cache on (in-process)"
start_ours
ours_on=$(measure "ours, cache on" "$server" $port); echo "$ours_on"
kill "$server"; wait "$server" 2>/dev/null || true

echo "== ours, cache off"
start_ours CACHE_ENABLED=false
ours_off=$(measure "ours, cache off" "$server" $port); echo "$ours_off"
kill "$server"; wait "$server" 2>/dev/null || true

echo "== PostGraphile 4.14 (cache: none of its own)"
NODE_ENV=production taskset -c 0 node bench/peer/node_modules/postgraphile/cli.js \
    -c "$DATABASE_URL" --schema public --host 127.0.0.1 --port $peer_port --disable-query-log \
    >"$bench_out/peer.log" 2>&1 &
peer=$!; pids+=("$peer")
for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$peer_port/graphql" && break; sleep 0.2; done
export BODIES_FILE=$peer_bodies
head -1 "$peer_bodies" | curl -s -H 'content-type: application/json' -d @- "http://127.0.0.1:$peer_port/graphql" >"$bench_out/peer-dashboard.json"
python3 - "$bench_out/peer-dashboard.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["data"]["analysisById"]
assert a["opportunitiesByAnalysisId"]["nodes"], a
PY
peer_run=$(measure "PostGraphile 4.14" "$peer" $peer_port); echo "$peer_run"

python3 - "$ours_on" "$ours_off" "$peer_run" "$bench_out/peer.json" <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:4]]
print("\n| target | max rps (closed loop) | p99 ms at max | rps held at p95 < 200 ms | its p95 ms | server CPU-µs/req | PostgreSQL CPU-µs/req | failures |")
print("|---|---|---|---|---|---|---|---|")
for r in runs:
    a = r["at_p95_200"]
    print(f"| {r['target']} | {r['rps']:,.0f} | {r['p99_ms']:.2f} | {a['rps']:,.0f} | {a['p95_ms']:.2f} | {r['cpu_us_per_request']} | {r['pg_cpu_us_per_request']} | {r['failures'] + r['non2xx'] + r['socket_errors'] + a['non200']} |")
json.dump({"ours_cache_on": runs[0], "ours_cache_off": runs[1], "postgraphile": runs[2]}, open(sys.argv[4], "w"), indent=2)
print(f"\nJSON written to {sys.argv[4]}")
PY

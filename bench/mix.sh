#!/usr/bin/env bash
# Writes inside a read load, open loop (bench/mix.rs): updateProgress at a tenth of the requests,
# the rest dashboard reads, sent on a fixed schedule (latency counted from when each was due).
# The server is pinned to core 0 and the load to core 1, with the in-process cache; the writes go
# to 50 analyses, the reads to all of them.
#   bash bench/mix.sh            # 2,000 req/s (200 updates/s) for 20 s after a 5 s warm-up, then the highest rate
#                                # held with the updates' p99 under 10 ms (steps of 10 s)
#   bash bench/mix.sh --smoke    # 5 s at 2,000 req/s, and two steps
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

bin=${BIN:-./target/release/progress-dashboard}  # BIN=path: another server binary (an A/B)
secs=20; step_secs=10; warm_secs=5; steps=(1000 2000 3000 4000 6000 8000)
[ "${1:-}" = "--smoke" ] && { secs=5; step_secs=3; warm_secs=1; steps=(1000 2000); }
bench_database
bench_build
"$bin" seed-demo --count 200 >/dev/null
port=$bench_port
trap 'kill ${server:-} 2>/dev/null || true' EXIT
start_pinned "$bin"
QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
check_bodies $port 20

reads=$(psql "$DATABASE_URL" -tAc "SELECT string_agg(id::text, ',') FROM analyses")
writes=$(psql "$DATABASE_URL" -tAc "SELECT string_agg(analysis_id::text, ',') FROM (SELECT analysis_id FROM user_progress WHERE opportunity_id = 'business_management' AND status <> 'IMPLEMENTED' ORDER BY analysis_id LIMIT 50) a")
# every write moves business_management between NOT_STARTED and IN_PROGRESS: start them all at
# NOT_STARTED so that the first move is one
psql "$DATABASE_URL" -qc "UPDATE user_progress SET status = 'NOT_STARTED', implemented_at = NULL WHERE opportunity_id = 'business_management' AND analysis_id = ANY(string_to_array('$writes', ',')::uuid[])"
kill $server; wait $server 2>/dev/null || true
start_pinned "$bin"

mix() { # RATE SECONDS -> one JSON line, with PostgreSQL's CPU per write
    local before after pg_before pg_after line
    before=$(cpu_ticks "$server"); pg_before=$(pg_ticks)
    line=$(taskset -c 1 ./target/release/examples/mix --url "http://127.0.0.1:$port/graphql" \
        --rate "$1" --share 0.1 --seconds "$2" --reads "$reads" --writes "$writes")
    after=$(cpu_ticks "$server"); pg_after=$(pg_ticks)
    python3 - "$line" "$before" "$after" "$pg_before" "$pg_after" <<'PY'
import json, sys
line = json.loads(sys.argv[1])
before, after, pg_before, pg_after = (int(a) for a in sys.argv[2:6])
n = line["reads"]["requests"] + line["writes"]["requests"]
line["server_cpu_us_per_request"] = round((after - before) * 10_000 / max(n, 1), 1)
line["pg_cpu_us_per_write"] = round((pg_after - pg_before) * 10_000 / max(line["writes"]["requests"], 1), 1)
print(json.dumps(line))
PY
}

# The server just started: its pool, prepared statements and caches fill during a first, unmeasured
# run at the same rate (a cold start is not what the measured run is about).
echo "== warm-up: 2,000 req/s for ${warm_secs} s, not measured"
mix 2000 "$warm_secs" >/dev/null
echo "== 2,000 req/s, a tenth updateProgress (200/s), ${secs} s"
main=$(mix 2000 "$secs")
echo "$main"
echo "== steps of ${step_secs} s, until the updates' p99 passes 10 ms"
results=()
for rate in "${steps[@]}"; do
    r=$(mix "$rate" "$step_secs")
    echo "$r"
    results+=("$r")
    python3 -c "import json,sys; w=json.loads(sys.argv[1])['writes']; sys.exit(0 if w['p99_ms'] < 10 and w['failures'] == 0 else 1)" "$r" || break
done
mkdir -p bench/out
python3 - "$main" "${results[@]}" >bench/out/mix.json <<'PY'
import json, sys
main, *steps = (json.loads(a) for a in sys.argv[1:])
held = [s for s in steps if s["writes"]["p99_ms"] < 10 and s["writes"]["failures"] == 0]
print(json.dumps({"main": main, "steps": steps, "held_rate": held[-1]["rate"] if held else 0}))
PY
echo "JSON written to bench/out/mix.json"

#!/usr/bin/env bash
# The uncached path: SQL statements per request, as PostgreSQL itself counts them
# (pg_stat_statements), for the dashboard of analyses with 3 and with 30 opportunities, for
# `dashboards` with 1, 10 and 100 ids, and for the daily history of an analysis with a year of
# activity (three changes a day; the rule: one prepared statement under 5 ms). Our cache is off, background sweeps are slowed out of the
# way, and each case is run N times between two reads of the statistics of the bench database.
#   bash bench/sql.sh            # N = 200
#   bash bench/sql.sh --smoke    # N = 20
# pg_stat_statements must be preloaded: when it is not, this script adds it to
# shared_preload_libraries (ALTER SYSTEM) and restarts the local PostgreSQL cluster once.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

n=200; [ "${1:-}" = "--smoke" ] && n=20
bench_database
admin="${DATABASE_URL%/*}/postgres"
db="${DATABASE_URL##*/}"

if ! psql "$admin" -tAc "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
    echo "== preloading pg_stat_statements (restarts the local PostgreSQL cluster)"
    current=$(psql "$admin" -tAc "SHOW shared_preload_libraries")
    psql "$admin" -qc "ALTER SYSTEM SET shared_preload_libraries = '${current:+$current,}pg_stat_statements'"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
    bash scripts/ensure-postgres.sh
fi
# Planning counted too (a reload is enough): it shows which statements are planned per request.
if [ "$(psql "$admin" -tAc "SHOW pg_stat_statements.track_planning")" != on ]; then
    psql "$admin" -qc "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" >/dev/null
fi
# The statistics are read from the admin database, about the bench database only.
psql "$admin" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
dbid=$(psql "$admin" -tAc "SELECT oid FROM pg_database WHERE datname = '$db'")

bench_build
./target/release/progress-dashboard seed-demo --count 200 >/dev/null

port=$bench_port
trap 'kill ${server:-} 2>/dev/null || true' EXIT
start_pinned ./target/release/progress-dashboard CACHE_ENABLED=false CACHE_WARM_COUNT=0 OUTBOX_RELAY_MS=3600000

gql() { curl -s -H 'content-type: application/json' -d "$1" "http://127.0.0.1:$port/graphql"; }

# An analysis with $1 opportunities, recorded through the API (a repeat run finds the same one).
record() {
    local count=$1 opps
    opps=$(python3 -c 'import json,sys; print(json.dumps([{"opportunityId": f"o{i}", "category": "VALUE_CREATION", "hoursPerWeek": 1 + i % 7, "hoursPerYear": 52 * (1 + i % 7), "complexityLevel": 1 + i % 10} for i in range(int(sys.argv[1]))]))' "$count")
    gql '{"query":"mutation($i: RecordAnalysisInput!) { recordAnalysis(input: $i) { dashboard { id opportunities { id } } } }","variables":{"i":{"url":"https://sql-bench-'"$count"'.example.com","identity":{"companyName":"SQL bench '"$count"'"},"opportunities":'"$opps"'}}}' \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); d=r["data"]["recordAnalysis"]["dashboard"]; assert len(d["opportunities"]) == int(sys.argv[1]), r; print(d["id"])' "$count"
}
dashboard_body() {
    echo '{"query":"{ dashboard(analysisId: \"'"$1"'\") { id opportunities { id status } progressSummary { implemented } badges { id } achievements { progressPercentage } metrics { timeSaved { implementedAnnual } } recommendations { priorityScore } } }"}'
}
dashboards_body() {
    local ids; ids=$(psql "$DATABASE_URL" -tAc "SELECT string_agg('\\\"' || id || '\\\"', ',') FROM (SELECT id FROM analyses ORDER BY id LIMIT $1) a")
    echo '{"query":"{ dashboards(analysisIds: ['"$ids"']) { id opportunities { id status } badges { id } achievements { progressPercentage } metrics { timeSaved { implementedAnnual } } } }"}'
}

# Runs $2 (a request body) N times; prints JSON: statements per request, and each statement's share.
count_case() {
    local label=$1 body=$2 expect=$3 out
    out=$(gql "$body")
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); d=r["data"]; n=len(d.get("dashboards") or [1]); assert "errors" not in r and n == int(sys.argv[2]), r' "$out" "$expect"
    sleep 0.2
    psql "$admin" -qtAc "SELECT pg_stat_statements_reset(0, $dbid, 0)" >/dev/null
    for _ in $(seq 1 "$n"); do
        out=$(gql "$body")
        grep -q '"errors"' <<<"$out" && { echo "$label failed: $out" >&2; exit 1; }
    done
    psql "$admin" -tAc "SELECT coalesce(json_agg(json_build_object('calls', calls, 'plans', plans, 'plan_ms', total_plan_time, 'exec_ms', total_exec_time, 'query', left(regexp_replace(query, '\s+', ' ', 'g'), 160)) ORDER BY calls DESC), '[]') FROM pg_stat_statements WHERE dbid = $dbid AND query NOT ILIKE '%pg_stat_statements%'" \
        | python3 -c 'import json,sys; rows=json.load(sys.stdin); n=int(sys.argv[2]); total=sum(r["calls"] for r in rows); print(json.dumps({"case": sys.argv[1], "requests": n, "statements": total, "per_request": round(total / n, 2), "exec_ms_per_request": round(sum(r["exec_ms"] for r in rows) / n, 3), "plans_per_request": round(sum(r["plans"] for r in rows) / n, 2), "plan_ms_per_request": round(sum(r["plan_ms"] for r in rows) / n, 3), "by_statement": [{"per_request": round(r["calls"] / n, 2), "plans_per_request": round(r["plans"] / n, 2), "plan_ms_per_request": round(r["plan_ms"] / n, 3), "exec_ms_per_request": round(r["exec_ms"] / n, 3), "query": r["query"]} for r in rows]}))' "$label" "$n"
}

# An analysis made a year ago with a change every eight hours since (three a day), written
# straight into the log (a repeat run finds it), and an hourly rate set half way.
record_year() {
    local id created
    created=$(date -u -d '-365 days' +%Y-%m-%dT%H:%M:%SZ)
    id=$(gql '{"query":"mutation($i: RecordAnalysisInput!) { recordAnalysis(input: $i) { dashboard { id } } }","variables":{"i":{"url":"https://sql-bench-history.example.com","identity":{"companyName":"SQL bench history"},"createdAt":"'"$created"'","opportunities":[{"opportunityId":"o0","category":"VALUE_CREATION","hoursPerWeek":2,"hoursPerYear":104,"complexityLevel":2},{"opportunityId":"o1","category":"VALUE_CREATION","hoursPerWeek":3,"hoursPerYear":156,"complexityLevel":3},{"opportunityId":"o2","category":"VALUE_CREATION","hoursPerWeek":4,"hoursPerYear":208,"complexityLevel":4}]}}}' \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["recordAnalysis"]["dashboard"]["id"])')
    psql "$DATABASE_URL" -qc "
        INSERT INTO progress_activity (analysis_id, opportunity_id, kind, from_status, to_status, occurred_at)
        SELECT '$id', 'o' || (g % 3), 'status_change',
               CASE WHEN (g / 3) % 2 = 0 THEN 'NOT_STARTED' ELSE 'IMPLEMENTED' END,
               CASE WHEN (g / 3) % 2 = 0 THEN 'IMPLEMENTED' ELSE 'NOT_STARTED' END,
               a.created_at + g * interval '8 hours'
          FROM analyses a, generate_series(1, 1090) g
         WHERE a.id = '$id' AND NOT EXISTS (SELECT 1 FROM progress_activity WHERE analysis_id = '$id');
        INSERT INTO hourly_rates (analysis_id, set_at, rate)
        SELECT id, created_at + interval '180 days', 60 FROM analyses WHERE id = '$id'
        ON CONFLICT DO NOTHING" >/dev/null
    echo "$id"
}
history_body() {
    echo '{"query":"{ dashboard(analysisId: \"'"$1"'\") { history(granularity: DAY) { at implemented hoursSavedWeekly moneySavedAnnual badgesEarned changes } } }"}'
}

three=$(record 3)
thirty=$(record 30)
year=$(record_year)
cases=()
cases+=("$(count_case "dashboard, 3 opportunities" "$(dashboard_body "$three")" 1)")
cases+=("$(count_case "dashboard, 30 opportunities" "$(dashboard_body "$thirty")" 1)")
for k in 1 10 100; do
    label="dashboards, $k ids"; [ $k = 1 ] && label="dashboards, 1 id"
    cases+=("$(count_case "$label" "$(dashboards_body $k)" $k)")
done
cases+=("$(count_case "history, a year of daily activity (366 points)" "$(history_body "$year")" 1)")

python3 - "$bench_out/sql.json" "${cases[@]}" <<'PY'
import json, sys
cases = [json.loads(c) for c in sys.argv[2:]]
print("\n| uncached request | statements per request (pg_stat_statements) | plans per request | planning ms | execution ms | requests counted |")
print("|---|---|---|---|---|---|")
for c in cases:
    print(f"| {c['case']} | {c['per_request']:g} | {c['plans_per_request']:g} | {c['plan_ms_per_request']:.3f} | {c['exec_ms_per_request']:.3f} | {c['requests']} |")
for c in (cases[0], cases[-2], cases[-1]):
    print(f"\nThe statements of '{c['case']}', per request (calls, plans, planning ms, execution ms):")
    for s in c["by_statement"]:
        print(f"  {s['per_request']:g}  {s['plans_per_request']:g}  {s['plan_ms_per_request']:.3f}  {s['exec_ms_per_request']:.3f}  {s['query'][:100]}")
json.dump(cases, open(sys.argv[1], "w"), indent=2)
print(f"\nJSON written to {sys.argv[1]}")
PY

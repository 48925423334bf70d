#!/usr/bin/env bash
# A streaming read replica under the uncached dashboard (about 1 minute): a primary and a replica
# of the bench's own (initdb, then `pg_basebackup -R`, ports 5497 and 5498, in a scratch folder,
# as the postgres user), 200 seeded analyses, the cache off so that every read is an uncached
# one; wrk (closed loop, one dashboard after another, the server on core 0) without and with
# DATABASE_REPLICA_URL: rps, and the CPU per request of the server, of the primary and of the
# replica; then where the reads went (database_replica_reads_total) and the lag read meanwhile.
# Prints one JSON object per run, then a Markdown table.
#   bash bench/replica.sh
#   bash bench/replica.sh --smoke     # shorter runs
set -euo pipefail
cd "$(dirname "$0")/.."

case ${1:-} in
    "") dur=15 ;;
    --smoke) dur=3 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "replica.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

source bench/lib.sh
bash scripts/ensure-postgres.sh
bench_load_tools
bench_build
bin=./target/release/progress-dashboard
port=$bench_port
primary_port=5497 replica_port=5498
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d)
chown postgres: "$dir"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() { # data port
    as_pg "$pgbin/pg_ctl" -D "$1" -l "$dir/$2.log" -w -o "-p $2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null
}
cleanup() {
    kill "${server:-}" 2>/dev/null || true
    for d in replica primary; do [ -f "$dir/$d/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$dir/$d" -m fast stop >/dev/null 2>&1; done
    rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$dir/primary" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
pg_start "$dir/primary" $primary_port
psql -h 127.0.0.1 -p $primary_port -U postgres -qc "CREATE DATABASE pd_bench"
export DATABASE_URL=postgres://postgres@127.0.0.1:$primary_port/pd_bench
"$bin" migrate >/dev/null
"$bin" seed-demo --count 200 >/dev/null
as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p $primary_port -U postgres -D "$dir/replica" -R -X stream -c fast
pg_start "$dir/replica" $replica_port
replica_url=postgres://postgres@127.0.0.1:$replica_port/pd_bench
postmaster() { head -1 "$dir/$1/postmaster.pid"; }

# one uncached dashboard after another, over every analysis
BODIES_FILE=$dir/bodies
psql "$DATABASE_URL" -tAc "SELECT id FROM analyses ORDER BY id" | while read -r id; do dashboard_query_body "$id"; done >"$BODIES_FILE"
export BODIES_FILE

run() { # label, then the server's env
    local label=$1; shift
    start_pinned "$bin" CACHE_ENABLED=false "$@"
    # in use once its first probe has read the lag
    [ $# -gt 0 ] && for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$port/ready" | grep -q '"replica":"ok"' && break; sleep 0.1; done
    check_bodies $port 50
    local p0 r0 p1 r1 line metrics
    p0=$(pg_ticks "$(postmaster primary)"); r0=$(pg_ticks "$(postmaster replica)")
    line=$(run_wrk "$label" "$server" $port)
    p1=$(pg_ticks "$(postmaster primary)"); r1=$(pg_ticks "$(postmaster replica)")
    metrics=$(curl -s "http://127.0.0.1:$port/metrics" | grep -E '^database_replica_(reads_total|lag_seconds)' | tr '\n' ';' || true)
    check_bodies $port 20
    kill "$server"; wait "$server" 2>/dev/null || true
    python3 - "$line" "$p0" "$p1" "$r0" "$r1" "$metrics" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
p0, p1, r0, r1 = (int(a) for a in sys.argv[2:6])
n = max(r["requests"], 1)
r["primary_cpu_us_per_request"] = round((p1 - p0) * 10_000 / n, 1)
r["replica_cpu_us_per_request"] = round((r1 - r0) * 10_000 / n, 1)
r["metrics"] = sys.argv[6]
del r["pg_cpu_us_per_request"]
print(json.dumps(r))
PY
}

echo "== uncached dashboards, the primary alone" >&2
alone=$(run "primary alone")
echo "$alone"
echo "== uncached dashboards, with the replica" >&2
with=$(run "primary + replica" DATABASE_REPLICA_URL="$replica_url")
echo "$with"

python3 - "$alone" "$with" <<'PY'
import json, sys
print("\n| reads | rps | p50 ms | p99 ms | failures | server CPU-µs/req | primary CPU-µs/req | replica CPU-µs/req | replica series at the end |")
print("|---|---|---|---|---|---|---|---|---|")
for a in sys.argv[1:]:
    r = json.loads(a)
    print(f"| {r['target']} | {r['rps']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['failures']} | {r['cpu_us_per_request']} "
          f"| {r['primary_cpu_us_per_request']} | {r['replica_cpu_us_per_request']} | {r['metrics'] or '-'} |")
PY

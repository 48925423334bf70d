#!/usr/bin/env bash
# Redis Cluster beside one Redis, loopback only (about 2 minutes):
#   - the cached dashboard (wrk, closed loop, the server on core 0) through one Redis and through a
#     cluster of three masters with a replica each (six redis-server of the bench's own, ports
#     7301-7306), with the Redis commands each request costs (INFO commandstats over the masters);
#   - the Redis commands one updateProgress costs, each way;
#   - a master killed (SIGKILL) under a fixed 2,000 req/s (oha, open loop): failed requests (the
#     goal is none: reads fall back to PostgreSQL), the p99, and how long until the cluster is ok.
# Prints one JSON object per measure, then Markdown tables.
#   bash bench/cluster.sh
#   bash bench/cluster.sh --smoke     # shorter runs
set -euo pipefail
cd "$(dirname "$0")/.."

case ${1:-} in
    "") dur=15; failover_dur=20 ;;
    --smoke) dur=3; failover_dur=8 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

source bench/lib.sh
bench_database
bash scripts/ensure-redis.sh
bench_load_tools
bench_build
bin=./target/release/progress-dashboard
"$bin" migrate >/dev/null
"$bin" seed-demo --count 200 >/dev/null
port=$bench_port

dir=$(mktemp -d)
ports=(7301 7302 7303 7304 7305 7306)
node_pids=()
cleanup() {
    kill "${server:-}" "${node_pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
start_node() { # port
    redis-server --port "$1" --bind 127.0.0.1 --cluster-enabled yes --cluster-node-timeout 1000 \
        --cluster-config-file "$dir/nodes-$1.conf" --save "" --appendonly no --repl-diskless-sync-delay 0 \
        --dir "$dir" >"$dir/$1.log" 2>&1 &
    node_pids+=($!)
}
for p in "${ports[@]}"; do start_node "$p"; done
for p in "${ports[@]}"; do for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done; done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 --cluster-yes >/dev/null
cluster_ok() {
    for p in "${ports[@]}"; do
        redis-cli -p "$p" ping >/dev/null 2>&1 || continue
        redis-cli -p "$p" cluster info | grep -q cluster_state:ok || return 1
        redis-cli -p "$p" info replication | grep -Eq 'role:master|master_link_status:up' || return 1
    done
}
for _ in $(seq 1 300); do cluster_ok && break; sleep 0.1; done
cluster_ok || { echo "cluster.sh: the cluster did not come up" >&2; exit 1; }
masters() { redis-cli -p "${ports[0]}" cluster nodes | awk '/master/ && !/fail/ {split($2, a, "[:@]"); print a[2]}'; }

QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
update_body() { # status
    echo '{"query":"mutation($i: UpdateProgressInput!) { updateProgress(input: $i) { opportunity { status } } }","variables":{"i":{"analysisId":"550e8400-e29b-41d4-a716-446655440000","opportunityId":"business_management","status":"'"$1"'"}}}'
}

# one measure: the cached dashboard's max rps and its Redis commands, then an update's
measure() { # label, redis ports..., then the server's env after --
    local label=$1; shift
    local -a rports=()
    while [ "$1" != -- ]; do rports+=("$1"); shift; done; shift
    start_pinned "$bin" "$@"
    check_bodies $port 50
    local before after line reads writes n=200 i
    before=$(redis_calls "${rports[@]}")
    line=$(run_wrk "$label" "$server" $port)
    after=$(redis_calls "${rports[@]}")
    reads=$(redis_per_request "$before" "$after" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$line")")
    before=$(redis_calls "${rports[@]}")
    for i in $(seq 1 $n); do
        curl -sf -H 'content-type: application/json' -d "$(update_body $([ $((i % 2)) = 0 ] && echo IN_PROGRESS || echo NOT_STARTED))" \
            "http://127.0.0.1:$port/graphql" | grep -q '"status"' || { echo "cluster.sh: an update failed" >&2; exit 1; }
    done
    after=$(redis_calls "${rports[@]}")
    writes=$(redis_per_request "$before" "$after" $n)
    kill "$server"; wait "$server" 2>/dev/null || true
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["redis_per_read"]=json.loads(sys.argv[2]); r["redis_per_update"]=json.loads(sys.argv[3]); print(json.dumps(r))' "$line" "$reads" "$writes"
}

echo "== one Redis" >&2
single=$(measure "one Redis" 6379 -- REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX="pdbench-$$:")
echo "$single"
echo "== Redis Cluster, 3 masters + 3 replicas" >&2
nodes=$(printf 'redis://127.0.0.1:%s,' "${ports[@]}"); nodes=${nodes%,}
cluster=$(measure "Redis Cluster (3 masters)" $(masters) -- REDIS_CLUSTER_NODES="$nodes" REDIS_PREFIX="pdbench-$$:")
echo "$cluster"

echo "== a master killed under 2,000 req/s, ${failover_dur} s" >&2
start_pinned "$bin" REDIS_CLUSTER_NODES="$nodes" REDIS_PREFIX="pdbench-$$:"
check_bodies $port 50
res_file=$dir/failover.json
( run_oha 2000 64 "$failover_dur" $port >"$res_file" ) &
load=$!
sleep "$(python3 -c "print($failover_dur / 4)")"
victim=$(masters | head -1)
killed_at=$(date +%s.%N)
for i in "${!ports[@]}"; do [ "${ports[$i]}" = "$victim" ] && kill -9 "${node_pids[$i]}"; done
for _ in $(seq 1 600); do cluster_ok && break; sleep 0.1; done
ok_after=$(python3 -c "import time; print(round(time.time() - $killed_at, 2))")
wait "$load"
check_bodies $port 50
failover=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); r["cluster_ok_after_s"]=float(sys.argv[2]); r["killed_port"]=int(sys.argv[3]); print(json.dumps(r))' "$res_file" "$ok_after" "$victim")
echo "$failover"

python3 - "$single" "$cluster" "$failover" <<'PY'
import json, sys
single, cluster, failover = (json.loads(a) for a in sys.argv[1:4])
print("\n| Redis | rps | p50 ms | p99 ms | failures | server CPU-µs/req | Redis commands per cached read | per updateProgress |")
print("|---|---|---|---|---|---|---|---|")
for r in (single, cluster):
    def fmt(d): return f"{d['total']} (" + ", ".join(f"{k} {v}" for k, v in d.items() if k != "total") + ")"
    print(f"| {r['target']} | {r['rps']:,.0f} | {r['p50_ms']} | {r['p99_ms']} | {r['failures']} | {r['cpu_us_per_request']} | {fmt(r['redis_per_read'])} | {fmt(r['redis_per_update'])} |")
print("\n| master killed at 2,000 req/s | achieved rps | requests | failed | p50 ms | p99 ms | cluster ok after |")
print("|---|---|---|---|---|---|---|")
f = failover
print(f"| port {f['killed_port']} | {f['rps']:,.0f} | {f['requests']:,} | {f['non200']} | {f['p50_ms']} | {f['p99_ms']} | {f['cluster_ok_after_s']} s |")
PY

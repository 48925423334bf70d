#!/usr/bin/env bash
# Where a request's CPU goes: perf samples our release server (pinned to core 0) under wrk's load
# (core 1), then inferno folds them into a flame graph and a table of the biggest costs.
#   bash bench/profile.sh                # the cached dashboard (in-process cache), 15 s
#   bash bench/profile.sh --redis        # the cached dashboard through the Redis cache
#   bash bench/profile.sh --uncached     # the cache off: every request goes to PostgreSQL
#   bash bench/profile.sh --smoke        # 4 s
# Writes bench/out/flame-<scenario>.svg, bench/out/profile-<scenario>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

scenario=memory; dur=15
for arg in "$@"; do
    case $arg in
        --redis) scenario=redis ;;
        --uncached) scenario=uncached ;;
        --smoke) dur=4 ;;
        *) echo "unknown option $arg" >&2; exit 2 ;;
    esac
done

bench_database
bench_load_tools
command -v perf >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null; }
command -v inferno-flamegraph >/dev/null || cargo install inferno --locked
bench_build
./target/release/progress-dashboard seed-demo --count 200 >/dev/null

extra=()
case $scenario in
    redis) bash scripts/ensure-redis.sh; extra=(REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX=pdbench:) ;;
    uncached) extra=(CACHE_ENABLED=false) ;;
esac
port=$bench_port
trap 'kill ${server:-} 2>/dev/null || true' EXIT
start_pinned ./target/release/progress-dashboard "${extra[@]}"

QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
check_bodies $port 50

data="$bench_out/perf-$scenario.data"
taskset -c 1 wrk -t1 -c64 -d"$((dur + 2))s" -s bench/dashboard.lua "http://127.0.0.1:$port/graphql" >"$bench_out/profile-wrk.txt" &
load=$!
sleep 1
# DWARF unwinding: the release build keeps its symbols and unwind tables, no special build needed.
perf record -q -F 499 --call-graph dwarf,16384 -p "$server" -o "$data" -- sleep "$dur" 2>/dev/null
wait $load
grep -q 'WRKJSON' "$bench_out/profile-wrk.txt"

folded="$bench_out/profile-$scenario.folded"
perf script --no-inline -i "$data" 2>/dev/null | inferno-collapse-perf --all >"$folded"
inferno-flamegraph --title "progress-dashboard: $scenario dashboard under load" <"$folded" >"$bench_out/flame-$scenario.svg"
rm -f "$data"

python3 bench/costs.py "$folded" "$scenario" "$bench_out/profile-$scenario.json"
echo "flame graph: $bench_out/flame-$scenario.svg"

#!/usr/bin/env bash
# A/B of two server binaries on the cached dashboard: each pinned to core 0 in turn, wrk on
# core 1, alternated ROUNDS times (default 2) so that the machine's drift hits both alike.
#   cp target/release/progress-dashboard /tmp/old    # before the change
#   ...change, cargo build --release...
#   bash bench/ab.sh /tmp/old target/release/progress-dashboard [ROUNDS]
# AB_AUTH=1: both servers in AUTH_MODE=jwt and every request with a viewer's bearer token (a binary
# from before authentication ignores both), to measure what checking tokens costs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

[ $# -ge 2 ] || { echo "usage: bash bench/ab.sh OLD_BINARY NEW_BINARY [ROUNDS]" >&2; exit 2; }
old=$1; new=$2; rounds=${3:-2}; dur=${DUR:-10}
bench_database
bench_load_tools
"$new" seed-demo --count 200 >/dev/null

QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
if [ -n "${AB_AUTH:-}" ]; then
    export AUTH_MODE=jwt AUTH_JWT_SECRET=bench-secret
    # whichever of the two knows mint-token (a binary from before authentication does not)
    mint=(mint-token --role viewer --analysis 550e8400-e29b-41d4-a716-446655440000 --ttl 1h)
    AUTHORIZATION="Bearer $("$new" "${mint[@]}" 2>/dev/null || "$old" "${mint[@]}")"
    export AUTHORIZATION
fi

port=$bench_port
runs=()
for _ in $(seq 1 "$rounds"); do
    for which in old new; do
        bin=$old; [ $which = new ] && bin=$new
        start_pinned "$bin"
        check_bodies $port 50
        r=$(run_wrk "$which" $server $port)
        kill $server; wait $server 2>/dev/null || true
        echo "$r"
        runs+=("$r")
    done
done
python3 - "${runs[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
print("\n| binary | req/s (mean) | CPU-µs/req (mean) | p99 ms (mean) | failures |")
print("|---|---|---|---|---|")
for which in ("old", "new"):
    rs = [r for r in runs if r["target"] == which]
    fails = sum(r["failures"] + r["non2xx"] + r["socket_errors"] for r in rs)
    print(f"| {which} | {statistics.mean(r['rps'] for r in rs):,.0f} | {statistics.mean(r['cpu_us_per_request'] for r in rs):.1f} "
          f"| {statistics.mean(r['p99_ms'] for r in rs):.2f} | {fails} |")
PY

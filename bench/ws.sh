#!/usr/bin/env bash
# WebSocket fan-out and idle memory: 1,000 subscribers of one analysis, then 10,000 spread over
# 100 analyses, against a release server on its own database. Prints a table and JSON per run.
#   bash bench/ws.sh            # the full runs
#   bash bench/ws.sh --smoke    # 200 connections, under a minute
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
bench_database
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port=${BENCH_PORT:-18080}

bench_build
# Every bench connection comes from one address: lift the per-client cap (256 by default).
PORT=$port HOST=127.0.0.1 LOG_LEVEL=warn AUTH_MODE=open RATE_LIMIT_PER_MINUTE=0 CACHE_WARM_COUNT=0 SHUTDOWN_DRAIN_MS=0 WS_MAX_CONNECTIONS_PER_CLIENT=100000 \
    ./target/release/progress-dashboard serve >"$bench_out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done

if [ "${1:-}" = "--smoke" ]; then
    runs=("200 1 10")
else
    runs=("1000 1 20" "10000 100 200")
fi
: >"$bench_out/ws.jsonl"
for run in "${runs[@]}"; do
    read -r connections analyses events <<<"$run"
    echo "== $connections connections over $analyses analyses, $events events"
    ./target/release/examples/ws_fanout --url "http://127.0.0.1:$port" --pid "$server" \
        --connections "$connections" --analyses "$analyses" --events "$events" | tee "$bench_out/ws-last.txt"
    grep '^JSON ' "$bench_out/ws-last.txt" | cut -d' ' -f2- >>"$bench_out/ws.jsonl"
done

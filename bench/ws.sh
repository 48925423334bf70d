#!/usr/bin/env bash
# WebSocket fan-out and idle memory, against a release server on its own database:
# - 1,000 subscribers of one analysis; 10,000 spread over 100 analyses;
# - as many connections as this machine lets one process hold (up to 100,000; `ulimit -Hn`, raised
#   when root may), from several 127.0.0.x source addresses, events fanned out to 10,000 each;
# - 100,000 subscriptions, ten per connection over 10,000 connections, each event to 10,000.
# Prints a table and JSON per run.
#   bash bench/ws.sh            # the full runs
#   bash bench/ws.sh --smoke    # 200 connections, under a minute
#   BIN=/tmp/old-binary bash bench/ws.sh   # another server binary, for an A/B
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/lib.sh
bench_database
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port=${BENCH_PORT:-18080}

bench_build
# The most connections one process may hold here, less room for the server's own files.
most=$(( $(ulimit -n) - 1000 ))
[ "$most" -gt 100000 ] && most=100000
if [ "${1:-}" = "--smoke" ]; then
    runs=("200 1 1 10")
else
    # connections, subscriptions per connection, analyses, events
    runs=("1000 1 1 20" "10000 1 100 200" "$most 1 $(( (most + 9999) / 10000 )) 20" "10000 10 10 20")
fi
: >"$bench_out/ws.jsonl"
server=
trap 'kill $server 2>/dev/null || true' EXIT
for i in "${!runs[@]}"; do
    read -r connections per analyses events <<<"${runs[$i]}"
    # A server of its own per run: memory freed by an earlier run would hide what this one takes.
    # Bench connections come from few addresses: lift the per-client cap (256 by default).
    PORT=$port HOST=127.0.0.1 LOG_LEVEL=warn AUTH_MODE=open RATE_LIMIT_PER_MINUTE=0 CACHE_WARM_COUNT=0 \
        SHUTDOWN_DRAIN_MS=0 WS_MAX_CONNECTIONS_PER_CLIENT=100000 WS_MAX_CONNECTIONS=100000 \
        "${BIN:-./target/release/progress-dashboard}" serve >"$bench_out/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
    echo "== $connections connections × $per subscriptions over $analyses analyses, $events events"
    # one source address per 10,000 connections (each has about 28,000 ephemeral ports), a range
    # of the run's own, 127.<run>.0.1 on
    ./target/release/examples/ws_fanout --url "http://127.0.0.1:$port" --pid "$server" \
        --connections "$connections" --per-connection "$per" --analyses "$analyses" --events "$events" \
        --sources $(( connections / 10000 + 1 )) --first-source "127.$((i + 1)).0.1" --gap-ms 100 | tee "$bench_out/ws-last.txt"
    grep '^JSON ' "$bench_out/ws-last.txt" | cut -d' ' -f2- >>"$bench_out/ws.jsonl"
    kill "$server"; wait "$server" 2>/dev/null || true
done

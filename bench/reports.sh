#!/usr/bin/env bash
# 10,000 due email reports rendered and delivered to a local SMTP sink (in-process), one pass.
#   bash bench/reports.sh [--count N] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pd_bench}
db="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
count=10000
[ "${1:-}" = "--smoke" ] && count=500
[ "${1:-}" = "--count" ] && count=$2
cargo build --release --quiet --example reports_bench
LOG_LEVEL=warn ./target/release/examples/reports_bench --count "$count"

#!/usr/bin/env bash
# 10,000 due email reports rendered and delivered to a local SMTP sink (in-process), one pass.
#   bash bench/reports.sh [--count N] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_database
count=10000
[ "${1:-}" = "--smoke" ] && count=500
[ "${1:-}" = "--count" ] && count=$2
bench_build
LOG_LEVEL=warn ./target/release/examples/reports_bench --count "$count" | tee "$bench_out/reports-last.txt"
grep '^JSON ' "$bench_out/reports-last.txt" | cut -d' ' -f2- >"$bench_out/reports.json"

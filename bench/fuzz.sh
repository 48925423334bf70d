#!/usr/bin/env bash
# Fuzzes the release server through its real request path: 100,000 generated documents,
# variables and hostile text from the whole of Unicode (tests/api/fuzz_gen.rs) over POST, GET,
# WebSocket and the REST endpoints, 16 at a time. Fails on any crash (the process gone, or a
# panic in its log), 5xx, dropped connection, error without a code, INTERNAL, or a WebSocket
# closed as an internal error. The tests run a small fixed-seed share of the same generator.
#   bash bench/fuzz.sh [--cases N] [--seed S] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
cases=100000 seed=1
while [ $# -gt 0 ]; do
    case $1 in
        --cases) cases=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --smoke) cases=5000; shift ;;
        *) echo "usage: bench/fuzz.sh [--cases N] [--seed S] [--smoke]" >&2; exit 2 ;;
    esac
done
bench_database
bench_build
./target/release/progress-dashboard seed-demo --count 20 >/dev/null
start_pinned ./target/release/progress-dashboard LOG_LEVEL=error
trap 'kill $server 2>/dev/null || true' EXIT
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
taskset -c 1 ./target/release/examples/fuzz --url "http://127.0.0.1:$bench_port" --cases "$cases" --seed "$seed" \
    | tee "$bench_out/fuzz-last.txt"
alive=true; kill -0 "$server" 2>/dev/null || alive=false
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)
panics=$(grep -c 'panicked' "$bench_out/server.log" || true)
health=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bench_port/health" || true)
python3 - "$(grep '^JSON ' "$bench_out/fuzz-last.txt" | cut -d' ' -f2-)" "$alive" "$panics" "$health" "$rss_before" "$rss_after" <<'PY' | tee "$bench_out/fuzz.json"
import json, sys
r = json.loads(sys.argv[1])
r.update(alive=sys.argv[2] == "true", panics=int(sys.argv[3]), health=int(sys.argv[4] or 0),
         rss_kib_before=int(sys.argv[5]), rss_kib_after=int(sys.argv[6]))
print(json.dumps(r))
ok = r["alive"] and r["panics"] == 0 and r["health"] == 200 and r["failures"] == 0
sys.exit(0 if ok else 1)
PY

#!/usr/bin/env bash
# Soak: the cached dashboard at half the measured capacity for N minutes (open loop, oha, one run a
# minute), sampling each minute the server's RSS, open file descriptors, pool checkouts and the
# time spent waiting for them (from /metrics) and p99; prints the samples and each one's slope per minute (least squares). Flat is
# the goal. Loopback only; bounded by --minutes.
#   bash bench/soak.sh                 # 30 minutes, the reference run
#   bash bench/soak.sh --minutes 3     # a short look
#   BIN=/path/to/progress-dashboard bash bench/soak.sh   # a binary built elsewhere (no build)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30
while [ $# -gt 0 ]; do
    case $1 in
        --minutes) minutes=$2; shift 2 ;;
        *) echo "usage: bash bench/soak.sh [--minutes N]" >&2; exit 2 ;;
    esac
done
[ "$minutes" -ge 1 ] && [ "$minutes" -le 240 ] || { echo "--minutes: 1 to 240" >&2; exit 2; }

source bench/lib.sh
bench_database
bench_load_tools
bin=${BIN:-./target/release/progress-dashboard}
[ -n "${BIN:-}" ] || bench_build
"$bin" seed-demo --count 200 >/dev/null
QUERY_BODY=$(dashboard_query_body); export QUERY_BODY

start_pinned "$bin"
trap 'kill $server 2>/dev/null || true' EXIT
check_bodies $bench_port 50

# capacity: the closed-loop maximum over 10 s, then half of it
dur=10
capacity=$(run_wrk capacity $server $bench_port | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["rps"]))')
rate=$((capacity / 2))
echo "capacity ${capacity} req/s; soaking at ${rate} req/s for ${minutes} min" >&2

metric() { # the sum of a series' samples in /metrics
    curl -s "http://127.0.0.1:$bench_port/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}

samples=$bench_out/soak.jsonl
: >"$samples"
for minute in $(seq 1 "$minutes"); do
    gets_before=$(metric db_pool_wait_seconds_count); waited_before=$(metric db_pool_wait_seconds_sum)
    run=$(run_oha "$rate" 64 60 $bench_port)
    check_bodies $bench_port 5
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status")
    fds=$(ls "/proc/$server/fd" | wc -l)
    gets=$(metric db_pool_wait_seconds_count); waited=$(metric db_pool_wait_seconds_sum)
    python3 - "$minute" "$run" "$rss" "$fds" "$gets_before" "$gets" "$waited_before" "$waited" <<'PY' | tee -a "$samples"
import json, sys
minute, run, rss, fds = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
g0, g1, w0, w1 = (float(a) for a in sys.argv[5:9])
print(json.dumps({"minute": int(minute), "rps": run["rps"], "p99_ms": run["p99_ms"],
    "non200": run["non200"], "rss_kib": int(rss), "fds": int(fds),
    "pool_gets": int(g1 - g0), "pool_wait_ms": round((w1 - w0) * 1000, 3)}))
PY
done

python3 - "$samples" "$rate" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def slope(key):
    xs = [r["minute"] for r in rows]; ys = [r[key] for r in rows]
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
print(f"\nsoak at {sys.argv[2]} req/s, {len(rows)} min, {sum(r['non200'] for r in rows)} failures")
print("| series | first | last | slope per minute |")
print("|---|---|---|---|")
for key in ("rss_kib", "fds", "pool_gets", "pool_wait_ms", "p99_ms"):
    print(f"| {key} | {rows[0][key]} | {rows[-1][key]} | {slope(key):+.3f} |")
PY

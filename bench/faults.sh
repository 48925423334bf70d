#!/usr/bin/env bash
# Faults under load, with bookkeeping; loopback only, bounded in time (about 2 minutes):
#   - PostgreSQL restarted (a cluster of the bench's own, port 5499) while a writer records
#     analyses one after another and oha reads the cached dashboard: how the writes during the
#     outage fail (code, how fast), how soon after PostgreSQL is back they succeed again, and
#     whether every write the client saw acknowledged is in the database afterwards;
#   - Redis killed and restarted (a server of the bench's own, port 6499) under the same load:
#     failed reads (the goal is none), and the event bus back without a restart of ours.
# Prints one JSON object per scenario and a Markdown table.
#   bash bench/faults.sh
#   BIN=/path/to/progress-dashboard bash bench/faults.sh   # a binary built elsewhere (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_load_tools

pg_version=$(ls /etc/postgresql | sort -n | tail -1)
pg_port=5499; redis_port=6499
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/pd_faults
bin=${BIN:-./target/release/progress-dashboard}
[ -n "${BIN:-}" ] || bench_build

# the bench's own cluster: restarting it disturbs nothing else on the machine
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx faults; then
    pg_createcluster "$pg_version" faults -p $pg_port -- -A trust >/dev/null
fi
pg_ctlcluster --skip-systemctl-redirect "$pg_version" faults start 2>/dev/null || true
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p $pg_port && break; sleep 0.5; done
psql "postgres://postgres@127.0.0.1:$pg_port/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'pd_faults'" | grep -q 1 \
    || psql "postgres://postgres@127.0.0.1:$pg_port/postgres" -qc "CREATE DATABASE pd_faults"

# its pid in a file: the restart happens in a scenario's subshell
redis_pidfile=$bench_out/faults-redis.pid
start_redis() {
    redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
    echo $! >"$redis_pidfile"
    for _ in $(seq 1 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && return; sleep 0.1; done
}
start_redis
cleanup() {
    kill "${server:-}" "$(cat "$redis_pidfile")" 2>/dev/null || true
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" faults stop 2>/dev/null || true
}
trap cleanup EXIT

"$bin" migrate >/dev/null
"$bin" seed-demo --count 200 >/dev/null
QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
start_pinned "$bin" REDIS_URL=redis://127.0.0.1:$redis_port REDIS_PREFIX="pd-faults-$$:" DATABASE_CONNECT_TIMEOUT_MS=1000
check_bodies $bench_port 50

# One writer: recordAnalysis with a fresh URL, one after another, for $1 seconds; a JSON line per
# request (start offset, seconds taken, code or "ok", the URL).
writer() {
    python3 - "$1" "$bench_port" "$2" <<'PY'
import http.client, json, sys, time
secs, port, tag = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
query = "mutation($i: RecordAnalysisInput!) { recordAnalysis(input: $i) { dashboard { analysisId } } }"
opp = {"opportunityId": "digital_presence", "category": "DIGITAL_PRESENCE", "hoursPerWeek": 5, "hoursPerYear": 260,
       "complexityLevel": 7, "problemTeaser": "Slow work", "toolsHint": "A tool"}
identity = {"companyName": "Faults Inc.", "sector": "Services", "estimatedSize": "50-100", "tier": "Tier 2"}
t0 = time.monotonic(); n = 0
while time.monotonic() - t0 < secs:
    n += 1
    url = f"https://{tag}-{n}.faults.example.com"
    body = json.dumps({"query": query, "variables": {"i": {"url": url, "identity": identity, "opportunities": [opp]}}})
    start = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/graphql", body, {"content-type": "application/json"})
        r = json.loads(c.getresponse().read())
        errors = r.get("errors")
        code = errors[0]["extensions"]["code"] if errors else "ok"
    except Exception as e:
        code = type(e).__name__
    print(json.dumps({"at": round(start - t0, 3), "took": round(time.monotonic() - start, 3), "code": code, "url": url}), flush=True)
    if code != "ok":
        time.sleep(0.05)
PY
}

# Scenario: $1 name, $2 the fault (a shell command run 5 s in), $3 the repair (run 8 s in).
scenario() {
    local name=$1 fault=$2 repair=$3 log=$bench_out/faults-$1.jsonl reads
    writer 20 "$name-$$" >"$log" &
    local wpid=$!
    run_oha 500 16 20 $bench_port >"$bench_out/faults-$name-reads.json" &
    local rpid=$!
    sleep 5; local fault_at; fault_at=$(date +%s.%N); eval "$fault"
    sleep 3; local repair_at; repair_at=$(date +%s.%N); eval "$repair"
    wait $wpid; wait $rpid
    reads=$(cat "$bench_out/faults-$name-reads.json")
    python3 - "$name" "$log" "$reads" "$(python3 -c "print(float('$repair_at') - float('$fault_at'))")" <<'PY'
import json, os, subprocess, sys
name, log, reads, outage = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
rows = [json.loads(l) for l in open(log)]
acked = [r["url"] for r in rows if r["code"] == "ok"]
failed = [r for r in rows if r["code"] != "ok"]
urls = ",".join("'" + u + "'" for u in acked) or "''"
# on standard input: thousands of URLs are too long for an argument list
found = int(subprocess.run(["psql", os.environ["DATABASE_URL"], "-tA"],
    input=f"SELECT count(*) FROM analyses WHERE url IN ({urls})", capture_output=True, text=True).stdout.strip() or 0)
# the repair came 8 s in; the first success after the last failure, counted from then
last_fail = max((r["at"] for r in failed), default=None)
back = min((r["at"] for r in rows if r["code"] == "ok" and last_fail is not None and r["at"] > last_fail), default=None)
print(json.dumps({"scenario": name, "writes_tried": len(rows), "writes_acked": len(acked),
    "writes_failed": len(failed), "codes": sorted({r["code"] for r in failed}),
    "slowest_failure_s": max((r["took"] for r in failed), default=0),
    "acked_lost": len(acked) - found, "outage_s": round(outage, 1),
    "back_after_repair_s": None if back is None else round(max(back - 8.0, 0), 2),
    "reads": reads["requests"], "reads_failed": reads["non200"]}))
PY
}

results=()
results+=("$(scenario postgres \
    "pg_ctlcluster --skip-systemctl-redirect $pg_version faults stop" \
    "pg_ctlcluster --skip-systemctl-redirect $pg_version faults start")")
results+=("$(scenario redis "kill -9 \$(cat \$redis_pidfile)" "start_redis")")
check_bodies $bench_port 20
for r in "${results[@]}"; do echo "$r"; done
python3 - "${results[@]}" <<'PY'
import json, sys
print("\n| fault | writes tried | acked | failed (codes) | slowest failure | acked and lost | back after repair | reads | reads failed |")
print("|---|---|---|---|---|---|---|---|---|")
for r in map(json.loads, sys.argv[1:]):
    print(f"| {r['scenario']} | {r['writes_tried']} | {r['writes_acked']} | {r['writes_failed']} ({', '.join(r['codes']) or '-'}) "
          f"| {r['slowest_failure_s']} s | {r['acked_lost']} | {r['back_after_repair_s']} s | {r['reads']} | {r['reads_failed']} |")
PY

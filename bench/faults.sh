#!/usr/bin/env bash
# Faults under load, with bookkeeping; loopback only, bounded in time (about 4 minutes):
#   - PostgreSQL restarted (a cluster of the bench's own, port 5499) while a writer records
#     analyses one after another and oha reads the cached dashboard: how the writes during the
#     outage fail (code, how fast), how soon after PostgreSQL is back they succeed again, and
#     whether every write the client saw acknowledged is in the database afterwards;
#   - Redis killed and restarted (a server of the bench's own, port 6499) under the same load:
#     failed reads (the goal is none), and the event bus back without a restart of ours.
#   In both, a second client (bench/toasts.rs) moves the opportunities of analyses of its own
#   while listening to their badge toasts on a second instance (so they travel over the bus;
#   reconnecting with `since`, as a front end does): every award in the database must reach it
#   exactly once, and every acknowledged update must be there.
#   - SMTP away during a due run on two instances, then back: every due report delivered exactly
#     once (a Python sink on port 2599 counts them per address); then a sender killed with -9
#     mid-send: its reports are taken over after the lease, none lost.
# Prints one JSON object per scenario and Markdown tables.
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
toasts=${TOASTS:-./target/release/examples/toasts}
[ -n "${BIN:-}" ] || bench_build
[ -x "$toasts" ] || cargo build --release --quiet --example toasts

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
    kill "${server:-}" ${listener:-} "$(cat "$redis_pidfile")" ${reporters:-} ${sink:-} 2>/dev/null || true
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" faults stop 2>/dev/null || true
}
trap cleanup EXIT

"$bin" migrate >/dev/null
"$bin" seed-demo --count 200 >/dev/null
QUERY_BODY=$(dashboard_query_body); export QUERY_BODY
start_pinned "$bin" REDIS_URL=redis://127.0.0.1:$redis_port REDIS_PREFIX="pd-faults-$$:" DATABASE_CONNECT_TIMEOUT_MS=1000
check_bodies $bench_port 50
# a second instance, where the toasts are listened to: they reach it over the bus only
listener_port=$((bench_port + 1))
env PORT=$listener_port HOST=127.0.0.1 LOG_LEVEL=warn AUTH_MODE=open RATE_LIMIT_PER_MINUTE=0 REPORTS_SCHEDULER=false \
    SHUTDOWN_DRAIN_MS=0 REDIS_URL=redis://127.0.0.1:$redis_port REDIS_PREFIX="pd-faults-$$:" DATABASE_CONNECT_TIMEOUT_MS=1000 \
    "$bin" serve >"$bench_out/faults-listener.log" 2>&1 &
listener=$!
wait_port $listener_port

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
    "$toasts" --url "http://127.0.0.1:$bench_port" --listen-url "http://127.0.0.1:$listener_port" \
        --analyses 20 --opportunities 6 --seconds 20 --rate 25 \
        >"$bench_out/faults-$name-toasts.json" &
    local tpid=$!
    sleep 5; local fault_at; fault_at=$(date +%s.%N); eval "$fault"
    sleep 3; local repair_at; repair_at=$(date +%s.%N); eval "$repair"
    wait $wpid; wait $rpid; wait $tpid
    reads=$(cat "$bench_out/faults-$name-reads.json")
    python3 - "$name" "$log" "$reads" "$(python3 -c "print(float('$repair_at') - float('$fault_at'))")" \
        "$bench_out/faults-$name-toasts.json" <<'PY'
import json, os, subprocess, sys
name, log, reads, outage = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4])
toasts = json.load(open(sys.argv[5]))
def sql(statement):
    # on standard input: thousands of URLs are too long for an argument list
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-tAF", " "], input=statement,
        capture_output=True, text=True, check=True).stdout
    return [l.split(" ") for l in out.splitlines() if l.strip()]
rows = [json.loads(l) for l in open(log)]
acked = [r["url"] for r in rows if r["code"] == "ok"]
failed = [r for r in rows if r["code"] != "ok"]
urls = ",".join("'" + u + "'" for u in acked) or "''"
found = int(sql(f"SELECT count(*) FROM analyses WHERE url IN ({urls})")[0][0])
ids = ",".join("'" + a + "'" for a in toasts["analyses"])
awards = {(a, b) for a, b in sql(f"SELECT ub.analysis_id, bm.slug FROM user_badges ub "
    f"JOIN badge_metadata bm ON bm.id = ub.badge_id WHERE ub.analysis_id IN ({ids})")}
got = {(a, b): n for a, b, n in toasts["toasts"]}
rank = {"NOT_STARTED": 0, "IN_PROGRESS": 1, "IMPLEMENTED": 2}
held = {(a, o): s for a, o, s in sql(f"SELECT analysis_id, opportunity_id, status FROM user_progress WHERE analysis_id IN ({ids})")}
progress_lost = sum(1 for a, o, s in toasts["last_acked"] if rank[held.get((a, o), "NOT_STARTED")] < rank[s])
# the repair came 8 s in; the first success after the last failure, counted from then
last_fail = max((r["at"] for r in failed), default=None)
back = min((r["at"] for r in rows if r["code"] == "ok" and last_fail is not None and r["at"] > last_fail), default=None)
print(json.dumps({"scenario": name, "writes_tried": len(rows), "writes_acked": len(acked),
    "writes_failed": len(failed), "codes": sorted({r["code"] for r in failed}),
    "slowest_failure_s": max((r["took"] for r in failed), default=0),
    "acked_lost": len(acked) - found, "outage_s": round(outage, 1),
    "back_after_repair_s": None if back is None else round(max(back - 8.0, 0), 2),
    "reads": reads["requests"], "reads_failed": reads["non200"],
    "updates_tried": toasts["updates_tried"], "updates_acked": toasts["updates_acked"],
    "updates_failed": toasts["updates_failed"], "updates_acked_lost": progress_lost,
    "awards": len(awards), "toasts_lost": len(awards - got.keys()),
    "toasts_doubled": sum(1 for n in got.values() if n > 1), "toasts_unknown": len(got.keys() - awards),
    "toast_reconnects": toasts["reconnects"]}))
PY
}

results=()
results+=("$(scenario postgres \
    "pg_ctlcluster --skip-systemctl-redirect $pg_version faults stop" \
    "pg_ctlcluster --skip-systemctl-redirect $pg_version faults start")")
results+=("$(scenario redis "kill -9 \$(cat \$redis_pidfile)" "start_redis")")
check_bodies $bench_port 20
kill "$server" "$listener"; wait "$server" "$listener" 2>/dev/null || true

# Reports: two instances with the scheduler on (every second), a short lease, no SMTP at first.
smtp_port=2599; smtp_log=$bench_out/faults-smtp.log; lease_ms=5000
: >"$smtp_log"
start_sink() {
    python3 bench/smtp_sink.py --port $smtp_port --log "$smtp_log" --delay-ms "${1:-0}" &
    sink=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$smtp_port) 2>/dev/null && return; sleep 0.1; done
}
start_reporter() {
    env PORT="$1" HOST=127.0.0.1 LOG_LEVEL=warn AUTH_MODE=open RATE_LIMIT_PER_MINUTE=0 SHUTDOWN_DRAIN_MS=0 \
        CACHE_WARM_COUNT=0 REDIS_URL=redis://127.0.0.1:$redis_port REDIS_PREFIX="pd-faults-$$:" \
        SMTP_URL=smtp://127.0.0.1:$smtp_port REPORT_TOKEN_SECRET=faults-bench-secret \
        REPORTS_SCHEDULER=true REPORTS_SCHEDULER_INTERVAL_MS=1000 REPORTS_CLAIM_LEASE_MS=$lease_ms \
        REPORT_RETRY_BASE_MS=100 "$bin" serve >"$bench_out/faults-reporter-$1.log" 2>&1 &
    echo $!
}
# $1 tag, $2 how many: weekly subscriptions, confirmed, due now, with addresses of the tag's own
add_due() {
    psql "$DATABASE_URL" -qc "INSERT INTO email_subscriptions (id, analysis_id, email, frequency, created_at, confirmed_at)
        SELECT gen_random_uuid(), a.id, '$1-' || n || '@example.com', 'weekly', now() - interval '30 days', now() - interval '30 days'
        FROM generate_series(1, $2) n, LATERAL (SELECT id FROM analyses ORDER BY id OFFSET n % 200 LIMIT 1) a"
}
count_sql() { psql "$DATABASE_URL" -tAc "$1"; }
# addresses of tag $1 the sink has had a report for (copies counted once)
received() { grep "^$1-" "$smtp_log" | sort -u | wc -l; }
# $1 tag, $2 how many, $3 seconds at most: until the sink has them all; the seconds it took
until_received() {
    local t0; t0=$(date +%s.%N)
    for _ in $(seq 1 $(($3 * 5))); do [ "$(received "$1")" -ge "$2" ] && break; sleep 0.2; done
    python3 -c "print(round($(date +%s.%N) - $t0, 1))"
}
# one JSON object: $1 scenario, $2 tag, $3 due, $4 seconds to deliver them all after the repair
report_row() {
    local per; per=$(grep "^$2-" "$smtp_log" | sort | uniq -c | awk '{print $1}' | sort -n | uniq -c | awk '{printf "%s × %s, ", $1, $2}')
    python3 - "$1" "$3" "$(grep "^$2-" "$smtp_log" | sort -u | wc -l)" "$(grep -c "^$2-" "$smtp_log" || true)" \
        "$(count_sql "SELECT count(*) FROM email_deliveries d JOIN email_subscriptions s ON s.id = d.subscription_id WHERE s.email LIKE '$2-%' AND d.status = 'sent'")" \
        "$4" "$per" <<'PY'
import json, sys
name, due, distinct, total, sent, secs, per = sys.argv[1:]
print(json.dumps({"scenario": name, "reports_due": int(due), "delivered": int(distinct),
    "lost": int(due) - int(distinct), "doubled": int(total) - int(distinct), "recorded_sent": int(sent),
    "delivered_after_repair_s": float(secs), "copies_per_address": per.strip(" ,")}))
PY
}
tag="faults-$$-down"; due=300
add_due "$tag" $due
reporters="$(start_reporter 18091) $(start_reporter 18092)"
wait_port 18091; wait_port 18092
# every report claimed and failed (three attempts each) while no mail server answers
for _ in $(seq 1 150); do
    [ "$(count_sql "SELECT count(*) FROM email_deliveries d JOIN email_subscriptions s ON s.id = d.subscription_id WHERE s.email LIKE '$tag-%' AND d.status = 'failed'")" -ge $due ] && break
    sleep 0.2
done
start_sink 0
results+=("$(report_row "smtp away during a due run (2 instances)" "$tag" $due "$(until_received "$tag" $due 60)")")

# a sender killed with -9 while its reports are in flight (the sink holds each reply 3 s): the
# messages it had handed over are in the sink but not marked sent, so the taker-over sends them
# again (SMTP cannot make those exactly once); none may be lost. One instance sends (the other
# is stopped, so the victim surely holds them all); after the kill the other starts again.
kill "$sink" ${reporters#* }; wait "$sink" ${reporters#* } 2>/dev/null || true
reporters=${reporters%% *}
start_sink 3000
tag="faults-$$-kill"; due=40
add_due "$tag" $due
for _ in $(seq 1 100); do [ "$(received "$tag")" -ge 1 ] && break; sleep 0.1; done
kill -9 "$reporters"
reporters=$(start_reporter 18092)
results+=("$(report_row "kill -9 mid-send (lease ${lease_ms} ms)" "$tag" $due "$(until_received "$tag" $due 90)")")
kill $reporters "$sink" 2>/dev/null || true

for r in "${results[@]}"; do echo "$r"; done
python3 - "${results[@]}" <<'PY'
import json, sys
rows = [json.loads(r) for r in sys.argv[1:]]
# one table per kind of row: (the field that marks it, its columns as (header, how to show))
tables = [
    ("writes_tried", [("writes tried", "{writes_tried}"), ("acked", "{writes_acked}"),
        ("failed (codes)", "{writes_failed} ({codes_shown})"), ("slowest failure", "{slowest_failure_s} s"),
        ("acked and lost", "{acked_lost}"), ("back after repair", "{back_after_repair_s} s"),
        ("reads", "{reads}"), ("reads failed", "{reads_failed}")]),
    ("awards", [("progress updates tried", "{updates_tried}"), ("acked", "{updates_acked}"),
        ("failed", "{updates_failed}"), ("acked and lost", "{updates_acked_lost}"), ("awards", "{awards}"),
        ("toasts lost", "{toasts_lost}"), ("doubled", "{toasts_doubled}"), ("unknown", "{toasts_unknown}"),
        ("reconnections", "{toast_reconnects}")]),
    ("reports_due", [("reports due", "{reports_due}"), ("delivered", "{delivered}"), ("lost", "{lost}"),
        ("sent twice", "{doubled}"), ("all delivered after repair", "{delivered_after_repair_s} s"),
        ("addresses × copies each", "{copies_per_address}")]),
]
for mark, columns in tables:
    print("\n| fault | " + " | ".join(h for h, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for r in (r for r in rows if mark in r):
        shown = dict(r, codes_shown=", ".join(r.get("codes", [])) or "-")
        print(f"| {r['scenario']} | " + " | ".join(f.format(**shown) for _, f in columns) + " |")
PY

# Shared by the bench scripts (sourced, not run): database set-up, tools, CPU accounting and the
# load-generator wrappers. Every load goes to loopback; every loop is bounded in count and time.

bench_out=bench/out
mkdir -p "$bench_out"

# The bench database (its own, never the demo's or the tests'), migrated by the server on start.
bench_database() {
    bash scripts/ensure-postgres.sh
    export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/pd_bench}
    local db="${DATABASE_URL##*/}"
    psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
        || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
}

# The release server and the bench programs, always built together: building the server alone
# resolves features without the dev-dependencies, so alternating the two recompiled the crate
# (1.5 min) each time. The server performs the same either way (measured).
bench_build() {
    cargo build --release --quiet --bin progress-dashboard --examples
}

# wrk (Debian) and oha (crates.io), installed when missing.
bench_load_tools() {
    command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v oha >/dev/null || cargo install oha --locked
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
}

# The port every bench server listens on.
bench_port=18080

# The request body of the full dashboard query (every field of the contract's dashboard but
# reportUrl) of analysis $1, by default the seeded example.
dashboard_query_body() {
    echo '{"query":"{ dashboard(analysisId: \"'"${1:-550e8400-e29b-41d4-a716-446655440000}"'\") { id url identity { companyName sector } opportunities { id opportunityId category hoursPerWeek hoursPerYear complexityLevel status implementedAt } progressSummary { totalOpportunities notStarted inProgress implemented completionPercentage } badges { id badgeType name icon rarity points earnedAt } achievements { badge { slug } unlocked progressPercentage nextMilestone } metrics { timeSaved { potentialWeekly implementedWeekly potentialAnnual implementedAnnual } moneySaved { hourlyRate potentialAnnual implementedAnnual currency } } recommendations { opportunity { opportunityId } priorityScore reason } } }"}'
}

# Starts server binary $1 pinned to core 0 on $bench_port, with the bench defaults overridden by
# the ENV=VALUE arguments after it; sets $server and returns once it answers.
start_pinned() {
    local bin=$1; shift
    env PORT=$bench_port HOST=127.0.0.1 LOG_LEVEL=warn AUTH_MODE=${AUTH_MODE:-open} RATE_LIMIT_PER_MINUTE=${RATE_LIMIT_PER_MINUTE:-0} REPORTS_SCHEDULER=false SHUTDOWN_DRAIN_MS=${SHUTDOWN_DRAIN_MS:-0} CACHE_WARM_COUNT=200 "$@" \
        taskset -c 0 "$bin" serve >"$bench_out/server.log" 2>&1 &
    server=$!
    wait_port $bench_port
}

# Clock ticks (1/100 s) spent by one process, all its threads.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Clock ticks spent by PostgreSQL: the postmaster, its live children, and (cutime + cstime) those
# it has reaped, so that a backend exiting mid-run does not take its ticks with it. The machine's
# cluster by default; another one by its postmaster's pid ($1).
pg_ticks() {
    local pm=${1:-} total pid
    [ -n "$pm" ] || pm=$(pgrep -o -u postgres -x postgres) || { echo 0; return; }
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
    for pid in $(pgrep -P "$pm"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

# Redis commands served so far by the servers on ports $@ (INFO commandstats, commands run by
# scripts included; give a cluster's masters only, a replica counts what it replays), as JSON
# {command: calls}; redis_per_request BEFORE AFTER N gives each
# command's calls per request between two of them.
redis_calls() {
    local port
    for port in "$@"; do redis-cli -p "$port" INFO commandstats; done | tr -d '\r' |
        python3 -c '
import json, re, sys
calls = {}
for line in sys.stdin:
    m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
    if m and m[1] not in ("info", "cluster|nodes", "cluster|slots", "cluster|shards", "ping", "command", "replconf"):
        calls[m[1]] = calls.get(m[1], 0) + int(m[2])
print(json.dumps(calls))'
}
redis_per_request() {
    python3 -c '
import json, sys
a, b, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
d = {k: round((v - a.get(k, 0)) / n, 2) for k, v in b.items() if v - a.get(k, 0) > 0}
print(json.dumps({"total": round(sum(d.values()), 2), **dict(sorted(d.items(), key=lambda kv: -kv[1]))}))' "$1" "$2" "$3"
}

wait_port() {
    for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.2; done
    echo "nothing answers on port $1" >&2; return 1
}

# POSTs $QUERY_BODY (or a mix, see dashboard.lua) with wrk for $dur seconds, closed loop, 64
# connections, the load on core 1. Prints one JSON object: wrk's figures, the failures found by
# checking every body, and the CPU-µs per request of the server ($2) and of PostgreSQL.
#   run_wrk LABEL PID PORT
run_wrk() {
    local label=$1 pid=$2 port=$3 before after pg_before pg_after line
    before=$(cpu_ticks "$pid"); pg_before=$(pg_ticks)
    line=$(taskset -c 1 wrk -t1 -c64 -d"${dur}s" --latency -s bench/dashboard.lua "http://127.0.0.1:$port/graphql" \
        | grep '^WRKJSON' | cut -d' ' -f2-)
    after=$(cpu_ticks "$pid"); pg_after=$(pg_ticks)
    python3 - "$label" "$line" "$before" "$after" "$pg_before" "$pg_after" <<'PY'
import json, sys
label, line = sys.argv[1], json.loads(sys.argv[2])
before, after, pg_before, pg_after = (int(a) for a in sys.argv[3:7])
n = max(line["requests"], 1)
line["target"] = label
line["cpu_us_per_request"] = round((after - before) * 10_000 / n, 1)
line["pg_cpu_us_per_request"] = round((pg_after - pg_before) * 10_000 / n, 1)
print(json.dumps(line))
PY
}

# One open-loop run with oha at a fixed rate, latency-corrected, the load on core 1.
#   run_oha RATE CONNECTIONS SECONDS PORT  -> JSON {rate, rps, requests, error_pct, p50_ms, p95_ms, p99_ms, non200}
# oha cannot look into bodies: the callers check them around each run (see check_bodies).
run_oha() {
    local rate=$1 conns=$2 secs=$3 port=$4 res
    local body=(-d "${QUERY_BODY:-}"); [ -n "${BODIES_FILE:-}" ] && body=(-Z "$BODIES_FILE")
    res=$(taskset -c 1 oha --no-tui --output-format json -z "${secs}s" -q "$rate" --latency-correction -w -c "$conns" \
        -m POST -H 'content-type: application/json' "${body[@]}" "http://127.0.0.1:$port/graphql")
    python3 - "$rate" "$res" <<'PY'
import json, sys
rate, res = int(sys.argv[1]), json.loads(sys.argv[2])
p = res["latencyPercentiles"]
codes = res.get("statusCodeDistribution", {})
errors = sum(res.get("errorDistribution", {}).values())
total = sum(codes.values()) + errors
bad = sum(v for k, v in codes.items() if k != "200") + errors
print(json.dumps({"rate": rate, "rps": round(res["summary"]["requestsPerSec"], 1), "requests": total,
    "error_pct": round(100 * bad / max(total, 1), 3),
    "p50_ms": round((p["p50"] or 0) * 1000, 3), "p95_ms": round((p["p95"] or 0) * 1000, 3),
    "p99_ms": round((p["p99"] or 0) * 1000, 3),
    "non200": bad}))
PY
}

# The highest fixed rate, searched down from the closed-loop max ($1) in 10 % steps, that the
# server carries (≥ 97 % of it achieved, no failures) with a p95 under 200 ms.
#   rate_at_p95 MAX PORT  -> JSON of the passing run plus "steps"
rate_at_p95() {
    local max=$1 port=$2 pct rate res steps="[]"
    for pct in 100 90 80 70 60 50 40 30 20 10; do
        rate=$(( max * pct / 100 )); [ "$rate" -lt 1 ] && rate=1
        res=$(run_oha "$rate" 256 "$step_dur" "$port")
        steps=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); s.append(json.loads(sys.argv[2])); print(json.dumps(s))' "$steps" "$res")
        if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["p95_ms"] < 200 and r["rps"] >= 0.97 * r["rate"] and r["non200"] == 0 else 1)' "$res"; then
            break
        fi
    done
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); r=dict(s[-1]); r["steps"]=s; print(json.dumps(r))' "$steps"
}

# Checks N ($2, default 20) response bodies on port $1 (of $QUERY_BODY, or of each line of
# $BODIES_FILE in turn): exits the script when one is not a 200 or carries GraphQL "errors" (the
# open-loop runs cannot look into their own).
check_bodies() {
    local port=$1 n=${2:-20} body i=0 line
    local -a lines=("${QUERY_BODY:-}")
    [ -n "${BODIES_FILE:-}" ] && mapfile -t lines <"$BODIES_FILE"
    for _ in $(seq 1 "$n"); do
        line=${lines[$((i++ % ${#lines[@]}))]}
        body=$(curl -s -w '\n%{http_code}' -H 'content-type: application/json' \
            ${AUTHORIZATION:+-H "authorization: $AUTHORIZATION"} -d "$line" "http://127.0.0.1:$port/graphql")
        if [ "${body##*$'\n'}" != 200 ] || grep -q '"errors"' <<<"$body"; then
            echo "port $port answered badly: $body" >&2; exit 1
        fi
    done
}

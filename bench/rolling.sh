#!/usr/bin/env bash
# A rolling restart, tried from outside: three instances behind HAProxy (Debian's package, loopback
# only; checks on /ready, `option redispatch`, the settings of deploy/haproxy.cfg), eight HTTP
# clients reading dashboards and moving progress, and badge-toast subscribers on the real
# `graphql-ws` client (tests/frontend/rolling.mjs); meanwhile each instance in turn gets SIGTERM,
# drains, exits and is started again. Prints the driver's JSON line (requests failed, acknowledged
# updates lost, toasts lost or received twice, the longest gap a subscriber saw), then a Markdown
# row for bench/RESULTS.md. Fails (exit 1) when anything was lost, failed or came twice.
#   bash bench/rolling.sh                      # 200 subscribers, 90 s, the release build
#   bash bench/rolling.sh --short              # 40 subscribers, 25 s (what the CI test runs)
#   bash bench/rolling.sh --binary PATH        # a binary built elsewhere (no build)
#   bash bench/rolling.sh --subscribers N --seconds S
#   bash bench/rolling.sh --retry-wait MS      # the clients' first wait before reconnecting
#                                              # (graphql-ws's default: 1 s + 0.3-3 s)
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=200 seconds=90 bin="" drain_ms=5000 retry_wait=""
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --short) subscribers=40 seconds=25 drain_ms=2000 ;;
        --binary) bin=${2:?--binary needs a path}; shift ;;
        --subscribers) subscribers=${2:?--subscribers needs a number}; shift ;;
        --seconds) seconds=${2:?--seconds needs a number}; shift ;;
        --retry-wait) retry_wait=${2:?--retry-wait needs milliseconds}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "rolling.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$subscribers" "$seconds" ${retry_wait:+"$retry_wait"}; do
    [[ $n =~ ^[1-9][0-9]{0,4}$ ]] || { echo "rolling.sh: '$n' is not a whole number from 1 to 99999" >&2; exit 2; }
done

bash scripts/ensure-postgres.sh
bash scripts/ensure-redis.sh
bash scripts/ensure-node.sh
command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
[ -d tests/frontend/node_modules/graphql-ws ] || npm ci --prefix tests/frontend --silent
if [ -z "$bin" ]; then
    cargo build --release --quiet --bin progress-dashboard
    bin=./target/release/progress-dashboard
fi
[ -x "$bin" ] || { echo "rolling.sh: no binary at $bin" >&2; exit 2; }

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
db=pd_rolling_$$
admin=postgres://postgres@127.0.0.1:5432/postgres
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql "$admin" -qc "CREATE DATABASE $db"
"$bin" migrate >/dev/null

read -r lb p1 p2 p3 < <(python3 -c '
import socket
held = [socket.socket() for _ in range(4)]
for s in held: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in held])')
ports=("$p1" "$p2" "$p3")
export REDIS_URL=redis://127.0.0.1:6379 REDIS_PREFIX="pd-rolling-$$:" HOST=127.0.0.1 AUTH_MODE=open \
    RATE_LIMIT_PER_MINUTE=0 LOG_LEVEL=warn MIGRATE_ON_START=false SHUTDOWN_DRAIN_MS=$drain_ms \
    TRUSTED_PROXIES=127.0.0.1

start() { # instance index
    PORT=${ports[$1]} "$bin" serve >>"$work/instance-$1.log" 2>&1 &
    pids[$1]=$!
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[$1]}/ready")" = 200 ] && return 0
        sleep 0.1
    done
    echo "rolling.sh: instance $1 did not become ready" >&2; exit 1
}
for i in 0 1 2; do start "$i"; done

# deploy/haproxy.cfg's settings, on loopback, with quicker checks than production's 2 s
cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    option redispatch
    retries 3
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout client-fin 5s
frontend api
    bind 127.0.0.1:$lb
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server check inter 500ms fall 2 rise 2
    server app0 127.0.0.1:$p1
    server app1 127.0.0.1:$p2
    server app2 127.0.0.1:$p3
CFG
haproxy -q -f "$work/haproxy.cfg" 2>"$work/haproxy.log" &
pids[3]=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$lb/ready" && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$lb/ready" || { cat "$work/haproxy.log" >&2; echo "rolling.sh: HAProxy did not start" >&2; exit 1; }

echo "==> $subscribers subscribers, 8 clients, ${seconds} s; each of 3 instances restarted in turn" >&2
RETRY_WAIT_MS=$retry_wait BASE=http://127.0.0.1:$lb SUBSCRIBERS=$subscribers CLIENTS=8 RUN_SECONDS=$seconds READY_FILE=$work/ready \
    node tests/frontend/rolling.mjs >"$work/result.json" &
driver=$!
for _ in $(seq 1 600); do [ -f "$work/ready" ] && break; kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
[ -f "$work/ready" ] || { wait "$driver" || true; echo "rolling.sh: the subscribers never got ready" >&2; exit 1; }

# the restarts, spread over the middle of the run
pause=$(python3 -c "print(max(1.0, $seconds * 0.8 / 3 - $drain_ms / 1000 - 1))")
sleep "$(python3 -c "print($seconds * 0.1)")"
for i in 0 1 2; do
    echo "==> restarting instance $i (SIGTERM)" >&2
    kill -TERM "${pids[$i]}"
    wait "${pids[$i]}" || true
    start "$i"
    sleep "$pause"
done
wait "$driver"
result=$(tail -n 1 "$work/result.json")
echo "$result"
python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"| {r['seconds']} s, {r['subscribers']} subscribers, 8 clients, 3 restarts, client wait {r['retry_wait_ms']} | {r['requests']} | {r['failed']} "
      f"| {r['acknowledged_updates']} | {r['acknowledged_updates_lost']} | {r['toasts_expected']} | {r['toasts_lost']} "
      f"| {r['toasts_twice']} | {r['reconnections']} | {r['close_codes']} | {r['longest_gap_ms']} ms |")
bad = r["failed"] + r["acknowledged_updates_lost"] + r["toasts_lost"] + r["toasts_twice"] + r["toasts_unexpected"] + r["subscriber_errors"]
sys.exit(1 if bad else 0)
PY

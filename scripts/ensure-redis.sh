#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:6379 and that redis-server is installed (the
# outage tests start private servers of their own): starts it when stopped, installs Debian's
# package when missing.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    echo "==> installing Redis (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
fi

answers() {
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG
}

if ! answers; then
    echo "==> starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 50); do
        answers && exit 0
        sleep 0.1
    done
    echo "Redis did not come up on 127.0.0.1:6379" >&2
    exit 1
fi

#!/usr/bin/env bash
# Makes sure Node.js and npm are here (Debian's packages when missing) and that the front-end test
# dependencies in tests/frontend are installed from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "==> installing Node.js (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi

lock=tests/frontend/package-lock.json
stamp=tests/frontend/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    echo "==> npm ci (tests/frontend)"
    npm ci --prefix tests/frontend --no-audit --no-fund --loglevel=error
fi

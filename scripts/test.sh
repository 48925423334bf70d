#!/usr/bin/env bash
# Runs every test (unit and integration) against a real PostgreSQL, which it starts or installs
# when needed. Each integration test gets its own database, cloned from one migrated template.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
bash scripts/ensure-postgres.sh
bash scripts/ensure-redis.sh
bash scripts/ensure-node.sh
bash scripts/ensure-test-tools.sh
# The per-test databases go when the run ends, passed or failed (those of a run that is still going,
# another checkout's say, stay: their process is alive).
drop_test_databases() {
    local admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    psql -qAt "$admin" -c "SELECT datname FROM pg_database WHERE datname LIKE 'pd\_test\_%'" 2>/dev/null |
        while read -r db; do
            pid=$(echo "$db" | cut -d_ -f3)
            [ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
            echo "$db"
        done |
        # each DROP waits for a checkpoint; dropped side by side, they share them
        xargs -r -P 16 -I{} psql -q "$admin" -c 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)' >/dev/null 2>&1 || true
}
trap drop_test_databases EXIT
cargo test --all-targets "$@"
# The deployment as code, and the image around the binary just tested (deploy/check.sh). A run
# narrowed to some tests (arguments given) is about those tests only.
if [ $# -eq 0 ]; then
    bash deploy/check.sh --binary "${CARGO_TARGET_DIR:-target}/debug/progress-dashboard"
    # A rolling restart behind HAProxy with graphql-ws subscribers (bench/rolling.sh, short: 25 s; a
    # quick client retry, so that some land on the draining instance):
    # nothing failed, lost or received twice. Alone, after the tests: its load would crowd theirs.
    echo "==> bench/rolling.sh --short"
    bash bench/rolling.sh --short --retry-wait 100 --binary "${CARGO_TARGET_DIR:-target}/debug/progress-dashboard"
fi

#!/usr/bin/env bash
# Sets up everything and serves the API with demo data: PostgreSQL (installed or started when
# needed), a release build, migrations, the demo analyses, then the server on $PORT (8000).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
bash scripts/ensure-postgres.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/progress_dashboard}"
db="${DATABASE_URL##*/}"
db="${db%%\?*}"
admin="${DATABASE_URL%/*}/postgres"
if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    echo "==> creating database $db"
    psql "$admin" -qc "CREATE DATABASE \"$db\""
fi

echo "==> building (release)"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/progress-dashboard"
echo "==> migrating and seeding demo data"
"$bin" seed-demo --count "${DEMO_COUNT:-200}"
echo "==> serving"
export LOG_FORMAT="${LOG_FORMAT:-pretty}"
# A demo: anyone may read and change everything (docs/api.md, "Access", shows AUTH_MODE=jwt).
export AUTH_MODE="${AUTH_MODE:-open}"
exec "$bin" serve

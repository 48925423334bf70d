#!/usr/bin/env bash
# src/db/schema.rs as diesel's own CLI prints it from a freshly migrated database.
#   bash scripts/schema-rs.sh          rewrite src/db/schema.rs
#   bash scripts/schema-rs.sh --check  fail when src/db/schema.rs differs (CI)
# Installs diesel_cli (PostgreSQL only; Debian's libpq-dev) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DIESEL_CLI_VERSION="~2.3"
check=false
[ "${1:-}" = "--check" ] && check=true

bash scripts/ensure-postgres.sh
if ! command -v diesel >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/diesel" ]; then
    if ! dpkg -s libpq-dev >/dev/null 2>&1; then
        echo "==> installing libpq-dev (Debian package)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq libpq-dev >/dev/null
    fi
    echo "==> installing diesel_cli $DIESEL_CLI_VERSION (PostgreSQL only)"
    cargo install diesel_cli --version "$DIESEL_CLI_VERSION" --locked \
        --no-default-features --features postgres
fi
export PATH="$HOME/.cargo/bin:$PATH"

admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
base=${admin%/*}
db=pd_schema_$$
url=$base/$db
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
diesel migration run --database-url "$url" --migration-dir migrations >/dev/null
printed=$(mktemp)
diesel print-schema --database-url "$url" --config-file diesel.toml >"$printed"

if $check; then
    if ! diff -u src/db/schema.rs "$printed"; then
        echo "src/db/schema.rs differs from what diesel print-schema prints: run bash scripts/schema-rs.sh" >&2
        exit 1
    fi
    echo "src/db/schema.rs matches diesel print-schema"
else
    cp "$printed" src/db/schema.rs
    echo "wrote src/db/schema.rs"
fi
rm -f "$printed"

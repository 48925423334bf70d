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
cargo test --all-targets "$@"

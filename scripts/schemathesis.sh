#!/usr/bin/env bash
# schemathesis (PyPI, pinned, in a virtualenv of its own) against a live server's REST API:
# every check, N examples per operation (default 100). tests/api/rest.rs runs it against the
# real server on port 0; by hand: bash scripts/schemathesis.sh http://127.0.0.1:8000 1000
#   BASE   the server (its document is at BASE/api/v1/openapi.json)
#   N      examples per operation
#   TOKEN  (env) a bearer token, for a server with AUTH_MODE=jwt
# `scripts/schemathesis.sh --install` only installs it (scripts/ensure-test-tools.sh does).
set -euo pipefail
base=${1:?usage: scripts/schemathesis.sh BASE [N] | --install}
examples=${2:-100}
version=4.32.5
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/progress-dashboard/schemathesis-$version}
if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "==> installing schemathesis $version into $venv" >&2
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version" >&2
fi
[ "$base" = "--install" ] && exit 0
auth=()
[ -n "${TOKEN:-}" ] && auth=(--header "Authorization: Bearer $TOKEN")
config="$(dirname "$0")/../tests/rest/schemathesis.toml"
exec "$venv/bin/schemathesis" --no-color --config-file "$config" run "$base/api/v1/openapi.json" \
    --url "$base/api/v1" --checks all --max-examples "$examples" --seed 1 "${auth[@]}"

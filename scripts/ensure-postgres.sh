#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for user postgres: starts the local
# cluster when it is stopped, installs PostgreSQL from Debian's packages when it is missing.
set -euo pipefail

host=127.0.0.1
port=5432

answers() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$host" -p "$port"
}

wait_until_up() {
    for _ in $(seq 1 60); do
        answers && return 0
        sleep 0.5
    done
    echo "PostgreSQL did not come up on $host:$port" >&2
    return 1
}

if answers; then
    exit 0
fi

if [ ! -d /etc/postgresql ] || [ -z "$(ls -A /etc/postgresql 2>/dev/null)" ]; then
    echo "==> installing PostgreSQL (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    # A development machine: local connections as postgres without a password, like the machines
    # this project is developed on. Only loopback is trusted.
    hba=/etc/postgresql/$version/main/pg_hba.conf
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    sed -i -E 's/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "==> starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
wait_until_up

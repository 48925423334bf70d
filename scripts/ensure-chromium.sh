#!/usr/bin/env bash
# Debian's Chromium for the browser test (playwright-core drives it; it downloads no browser).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    echo "==> installing Chromium (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi

#!/usr/bin/env bash
# Debian's Chromium for the browser test (playwright-core drives it; it downloads no browser),
# poppler-utils (pdftotext, pdftoppm) to read the PDF reports back, promtool, and schemathesis (PyPI, in a
# virtualenv of its own) for the REST API.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# promtool (Debian's prometheus package: the server is not started) lints /metrics and tests the
# alert rules
if ! command -v promtool >/dev/null 2>&1; then
    echo "==> installing prometheus (for promtool; Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
bash "$(dirname "$0")/schemathesis.sh" --install

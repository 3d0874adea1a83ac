#!/usr/bin/env bash
# Installs headless Chromium (Debian's package) for the tests that look at rendered pages: the trend
# page's screenshot. Only the tests need it; the main job does not. Safe to run again.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
    echo "browser: installing chromium"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
        || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends chromium >/dev/null; }
fi
echo "browser: $(command -v chromium) ready"

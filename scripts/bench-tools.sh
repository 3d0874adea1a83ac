#!/usr/bin/env bash
# Installs the peers the benchmarks under bench/ compare infragate with: wrk and testssl.sh from
# Debian, vegeta built from its Go module (Go from the machine). k6 is not used: it is AGPL-3.0.
# Safe to run again (it installs only what is missing). Then: `uv run python bench/load.py`, ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

VEGETA=github.com/tsenart/vegeta/v12@v12.13.0  # MIT
tools="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools"

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v testssl.sh >/dev/null || command -v testssl >/dev/null || missing+=(testssl.sh)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench-tools: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -x "$tools/bin/vegeta" ]; then
    echo "bench-tools: building $VEGETA into $tools/bin"
    mkdir -p "$tools/bin"
    GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "$VEGETA"
fi
echo "bench-tools: wrk, testssl.sh and vegeta ready (vegeta in $tools/bin)"

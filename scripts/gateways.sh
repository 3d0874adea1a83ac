#!/usr/bin/env bash
# Builds the gateways the tests and benchmarks run beside nginx and HAProxy (which come from apt):
# Traefik v3 (MIT) from its Go module, with the Go the machine has. Safe to run again: it builds only
# what is missing. Traefik's go.mod replaces three modules, which `go install pkg@version` refuses,
# so it is built inside a small module of our own that requires it with the same replacements.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TRAEFIK_VERSION=v3.6.12
tools="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools"
traefik="$tools/bin/traefik-$TRAEFIK_VERSION"

if [ ! -x "$traefik" ]; then
    command -v go >/dev/null || { echo "gateways: Go is needed to build Traefik (the machine's Go 1.26)" >&2; exit 3; }
    build="$tools/traefik-build"
    mkdir -p "$build" "$tools/bin"
    cat > "$build/go.mod" <<EOF
module infragate.local/traefik-build

go 1.25.0

require github.com/traefik/traefik/v3 $TRAEFIK_VERSION

replace (
	github.com/abbot/go-http-auth => github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e
	github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59
	github.com/mailgun/minheap => github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595
)
EOF
    echo "gateways: building Traefik $TRAEFIK_VERSION into $tools/bin (the first time takes minutes)"
    (cd "$build" && go build -mod=mod -trimpath -o "$traefik.partial" github.com/traefik/traefik/v3/cmd/traefik)
    mv "$traefik.partial" "$traefik"
fi
ln -sf "$(basename "$traefik")" "$tools/bin/traefik"
echo "gateways: traefik $TRAEFIK_VERSION ready ($tools/bin/traefik)"

#!/usr/bin/env bash
# Builds the Kubernetes reference cluster's parts from their Go modules, pinned by build/kubernetes's
# go.mod and go.sum: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy and kubectl (Kubernetes v1.34.4 with its staging modules at v0.34.4), and the cluster's
# own pause program; and metrics-server v0.8.0, pinned by build/metrics-server (its own module: it
# needs other versions of the Kubernetes libraries); and Prometheus v0.316.0 (3.x) pinned by
# build/prometheus with only its Kubernetes service discovery (Debian's Prometheus is built without
# it), for the monitoring beside the cluster. Debian's containerd, runc and CNI plugins come from apt. Safe to run again: it
# builds only what is missing. First build: about 15 minutes on 2 cores (5 with Go's caches warm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERSION=v1.34.4
tools="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools"
out="$tools/kubernetes-$VERSION/bin"
parts=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl pause metrics-server prometheus)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
    echo "kubernetes: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

todo=()
for part in "${parts[@]}"; do [ -x "$out/$part" ] || todo+=("$part"); done
if [ ${#todo[@]} -gt 0 ]; then
    command -v go >/dev/null || { echo "kubernetes: Go is needed to build ${todo[*]}" >&2; exit 3; }
    mkdir -p "$out"
    flags="-s -w"
    for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags="$flags -X $package.gitVersion=$VERSION -X $package.gitMajor=1 -X $package.gitMinor=34"
        flags="$flags -X $package.gitTreeState=clean"
    done
    for part in "${todo[@]}"; do
        cgo=1 module=build/kubernetes
        case "$part" in
            etcd) package=./etcd ;;
            pause) package=./pause cgo=0 ;;  # static: its image holds nothing else
            metrics-server) package=sigs.k8s.io/metrics-server/cmd/metrics-server module=build/metrics-server ;;
            prometheus) package=github.com/prometheus/prometheus/cmd/prometheus module=build/prometheus cgo=0 ;;
            *) package="k8s.io/kubernetes/cmd/$part" ;;
        esac
        echo "kubernetes: building $part into $out (the first build of all takes about 15 minutes)"
        ldflags="$flags"
        tags=""
        [ "$part" = metrics-server ] && ldflags="-s -w"  # Kubernetes' version is not metrics-server's
        if [ "$part" = prometheus ]; then
            ldflags="-s -w -X github.com/prometheus/common/version.Version=0.316.0"
            tags="remove_all_sd,enable_kubernetes_sd"  # its other discoveries pull in every cloud's SDK
        fi
        (cd "$module" && CGO_ENABLED=$cgo go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/$part.partial" "$package")
        mv "$out/$part.partial" "$out/$part"
    done
fi
echo "kubernetes: ${parts[*]} $VERSION ready ($out)"

#!/usr/bin/env bash
# The Docker Engine the Swarm tests and `infragate sandbox up --runtime swarm` need: installed from
# Debian's packages when missing (with debootstrap, which builds the stack's image), started with
# the vfs storage driver when no engine answers, and put into single-node swarm mode by infragate.
# Images are built locally and deployed with --resolve-image never: the engine pulls nothing.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    echo "docker: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    echo "docker: starting dockerd (vfs storage driver; log in /var/log/infragate-dockerd.log)"
    as_root sh -c 'nohup dockerd --storage-driver=vfs >/var/log/infragate-dockerd.log 2>&1 &'
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { echo "docker: dockerd did not start; see /var/log/infragate-dockerd.log" >&2; exit 1; }
fi

#!/usr/bin/env bash
# The project's own tests: unit, integration against the real reference deployment and other
# gateways (HAProxy, Traefik), known-bad variants and the meta-test, then the Swarm tests on a real
# Docker Engine (started when none runs) and the Kubernetes tests on a real single-node cluster
# (built from Kubernetes' Go modules). Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/docker.sh"
export INFRAGATE_TRAEFIK="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools/bin/traefik"
if [ $# -gt 0 ]; then
    bash "$(dirname "${BASH_SOURCE[0]}")/browser.sh"
    bash "$(dirname "${BASH_SOURCE[0]}")/gateways.sh"
    bash "$(dirname "${BASH_SOURCE[0]}")/kubernetes.sh"
    exec uv run pytest "$@"
fi
# Chromium (Debian's package, for the trend page's screenshot), Traefik and the Kubernetes parts
# (built from their Go modules: minutes the first time, seconds with Go's caches) are installed while
# the unit tests run; the integration and Kubernetes tests need them. Beside them
# too: the silent-target tests, which start no sandbox and spend their minute and a half waiting out
# time-outs of a target that never answers (their bound, 240 s, is far from what CPU can change).
began=$SECONDS
stage() { echo "test.sh: $1 done at +$((SECONDS - began)) s"; }
built=$(mktemp)
(bash "$(dirname "${BASH_SOURCE[0]}")/browser.sh" && bash "$(dirname "${BASH_SOURCE[0]}")/gateways.sh" \
    && bash "$(dirname "${BASH_SOURCE[0]}")/kubernetes.sh") > "$built" 2>&1 &
gateways=$!
silent_tests=tests/integration/test_silent_targets.py
silent=$(mktemp)
uv run pytest -p no:cacheprovider "$silent_tests" > "$silent" 2>&1 &
waiting=$!
uv run pytest tests/unit
wait "$gateways" || { cat "$built" >&2; exit 3; }
cat "$built"
wait "$waiting" || { cat "$silent" >&2; exit 1; }
tail -n 1 "$silent"
stage "unit tests, silent targets and the Go-built parts"
# The Swarm stack's images: built here (a debootstrap on a clean machine), or, when a build is under
# way (.ci/run starts one early), awaited; either way before the timing-sensitive tests begin.
uv run python -m infragate.sandbox.swarm
stage "Swarm images"
# The integration tests run on two workers: the full runs and the load tests, which measure time, in
# one group that takes a worker in turn (run urgent, as the rate-limit measurements below), the rest
# beside them (each test watches only the processes of its own sandbox root); the known-bad variants
# (each with its own reference deployment) run on three workers, with the rate-limit measurements of
# HAProxy and Traefik configurations in the group of timing-sensitive runs that take one worker in
# turn (their sandboxes mostly wait: on two cores, three workers left a third of the CPU idle and
# took 546 s where two took 825 s in CI). --durations lists the slowest tests: CI has 35 minutes on
# a machine with its build caches.
gateways=(tests/integration/test_haproxy.py tests/integration/test_traefik.py)
uv run pytest --durations=15 -n 2 --dist loadgroup tests/integration "${gateways[@]/#/--ignore=}" \
    --ignore="$silent_tests"
stage "integration"
uv run pytest --durations=15 -n 3 --dist loadgroup tests/known_bad "${gateways[@]}"
stage "known-bad variants"
# The Swarm tests run alone too: beside the known-bad variants, the CPU they share made timing
# checks fail. They must run, not skip: the summary line says how many ran, -rs lists any skip.
uv run pytest --durations=10 -rs tests/swarm
stage "Swarm"
# The Kubernetes cluster last, alone: it needs the machine's cgroups, iptables and a bridge.
uv run pytest --durations=10 -rs tests/kubernetes
stage "Kubernetes"

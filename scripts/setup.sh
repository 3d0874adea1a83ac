#!/usr/bin/env bash
# Installs what infragate and its reference deployment need on Debian or Ubuntu: the server
# packages (nginx, HAProxy, Redis, PostgreSQL, pgBackRest, Prometheus, Alertmanager and exporters),
# uv, and the project's locked Python environment.
# Sourced by conformance.sh and test.sh; safe to run again (it installs only what is missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null || missing+=(haproxy)  # the second gateway kind of the tests
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)  # TLS 1.3 suites and groups are offered through s_client
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v pgbackrest >/dev/null || missing+=(pgbackrest)
command -v runuser >/dev/null || missing+=(util-linux)
# The reference deployment's monitoring: Prometheus, Alertmanager and the exporters the seeds name.
for part in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-nginx-exporter \
    prometheus-postgres-exporter prometheus-redis-exporter; do
    command -v "$part" >/dev/null || missing+=("$part")
done
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null; then
    tools="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools"
    if [ ! -x "$tools/bin/uv" ]; then
        echo "setup: installing uv into $tools"
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet uv
    fi
    export PATH="$tools/bin:$PATH"
fi

uv sync --locked --all-extras --quiet  # every extra: the tests use every platform and store
# Let Python keep its bytecode caches (an environment may say not to): without them every infragate,
# pytest and Locust process compiles all it imports again, about 3 s of CPU each.
unset PYTHONDONTWRITEBYTECODE

# sslyze (AGPL-3.0) runs only out of process, for the optional deep TLS scan; the tests use it.
export PATH="$(uv tool dir --bin):$PATH"
if ! command -v sslyze >/dev/null && [ -z "${INFRAGATE_SSLYZE:-}" ]; then
    echo "setup: installing sslyze as a separate tool (optional deep TLS scan)"
    uv tool install --quiet sslyze
fi

# The Cucumber project's Cucumber JSON validator (MIT, Node), which the tests use as a real reader of
# cucumber.json; Node comes with the machine (apt's nodejs otherwise).
node_tools="${XDG_DATA_HOME:-$HOME/.local/share}/infragate/tools/node"
if [ ! -d "$node_tools/node_modules/@cucumber/cucumber-json-converter" ]; then
    command -v npm >/dev/null || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
    echo "setup: installing @cucumber/cucumber-json-converter into $node_tools"
    npm install --silent --no-audit --no-fund --prefix "$node_tools" @cucumber/cucumber-json-converter@0.0.3 >/dev/null
fi
export INFRAGATE_CUCUMBER_CONVERTER="$node_tools/node_modules/@cucumber/cucumber-json-converter"
# Allure 3's command line (Apache-2.0, Node), which the tests use as a real reader of allure-results/.
if [ ! -x "$node_tools/node_modules/.bin/allure" ]; then
    echo "setup: installing allure (Allure 3's command line) into $node_tools"
    npm install --silent --no-audit --no-fund --prefix "$node_tools" allure@3.18.0 >/dev/null
fi
export INFRAGATE_ALLURE="$node_tools/node_modules/.bin/allure"

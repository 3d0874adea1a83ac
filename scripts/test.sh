#!/usr/bin/env bash
# The project's own tests: unit, integration against the real reference deployment, known-bad
# variants and the meta-test. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# The integration tests watch the machine's processes, so they run alone; the known-bad variants
# (each with its own reference deployment) run on two workers.
if [ $# -gt 0 ]; then
    exec uv run pytest "$@"
fi
uv run pytest tests/unit tests/integration
exec uv run pytest -n 2 --dist loadgroup tests/known_bad

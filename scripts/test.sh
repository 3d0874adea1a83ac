#!/usr/bin/env bash
# The project's own tests: unit, integration against the real reference deployment, known-bad
# variants and the meta-test. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec uv run pytest "$@"

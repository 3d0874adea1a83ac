#!/usr/bin/env bash
# The main job: bring up the built-in reference deployment, run every conformance feature against
# it, write reports/<run>/, tear it down. Extra arguments go to `infragate verify`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec uv run infragate verify "$@"

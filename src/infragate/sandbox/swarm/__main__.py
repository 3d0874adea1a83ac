"""`python -m infragate.sandbox.swarm`: build the Swarm reference stack's images now (or wait for a
build under way), so that a later `sandbox up --runtime swarm` finds them."""

from __future__ import annotations

import sys

from infragate.sandbox.swarm.images import main

sys.exit(main())

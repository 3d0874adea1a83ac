"""The Swarm reference stack: its shape (``stack``), its locally built images (``images``), and
deploying it and taking it down (``deploy``). ``up``, ``down`` and ``running_stacks`` are here."""

from __future__ import annotations

from infragate.sandbox.swarm.deploy import SwarmState, down, running_stacks, up

__all__ = ["SwarmState", "down", "running_stacks", "up"]

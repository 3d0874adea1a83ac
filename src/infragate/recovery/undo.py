"""Carrying out a journalled undo: each action a disruption can record, and who knows how to undo it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infragate.errors import ProbeError
from infragate.platforms import Platform, open_platform
from infragate.probes import disruption, orchestrator
from infragate.probes.backup import checks as backup
from infragate.probes.backup import cluster_drill
from infragate.probes.exposure import outside
from infragate.probes.monitoring import drill
from infragate.profile.model import Profile
from infragate.recovery.journal import Undo
from infragate.safety import RESTORING


def performer(profile: Profile) -> Callable[[Undo], str]:
    """A function that carries out and verifies one undo against this target.

    It opens its own adapter with the consent to restore only: undoing needs no consent to disrupt,
    and a run that had none can still put back what it did (nothing, then)."""
    opened: list[Platform] = []

    def adapter() -> Platform:
        if not opened:
            opened.append(open_platform(profile, RESTORING))
        return opened[0]

    def perform(undo: Undo) -> str:
        if undo.action == disruption.RESTORE:
            return disruption.restore(adapter(), undo)
        if undo.action == drill.START_COMPONENT:
            return drill.start_component(adapter(), str(undo.arguments["component"]))
        if undo.action == backup.DROP_SCRATCH:
            return backup.drop_scratch(profile)
        if undo.action == cluster_drill.REMOVE_SCRATCH_CLUSTER:
            return cluster_drill.remove_scratch_cluster(Path(str(undo.arguments["folder"])))
        if undo.action == outside.REMOVE_NAMESPACE:
            return outside.remove(str(undo.arguments["namespace"]), str(undo.arguments["link"]))
        if undo.action == orchestrator.RESTORE_ENVIRONMENT:
            arguments = undo.arguments
            return orchestrator.restore_environment(
                orchestrator.swarm_of(adapter()), str(arguments["service"]), str(arguments["remove"])
            )
        raise ProbeError(f"the journal names an undo this version does not know: {undo.describe()}")

    return perform

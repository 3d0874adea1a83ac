"""Platform adapters behind one Protocol, found by the profile's platform kind and imported lazily."""

from __future__ import annotations

import importlib

from infragate.errors import UsageError
from infragate.platforms.base import Platform, Replica, ReplicaSet
from infragate.profile.model import Profile
from infragate.safety import NONE, Consent

ADAPTERS: dict[str, str] = {
    "local": "infragate.platforms.local:LocalPlatform",
    "swarm": "infragate.platforms.swarm:SwarmPlatform",
    "kubernetes": "infragate.platforms.kubernetes:KubernetesPlatform",
    "none": "infragate.platforms.none:NoPlatform",
}
EXTRAS = {"swarm": "swarm", "kubernetes": "kubernetes"}  # platform kind -> the extra that installs its client library


def open_platform(profile: Profile, consent: Consent = NONE) -> Platform:
    """The adapter for the profile's platform kind; it disrupts only what `consent` allows."""
    kind = profile.platform.kind
    module_name, _, class_name = ADAPTERS[kind].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get(kind)
        if extra is None or module_name.startswith(exc.name or "-"):
            raise
        raise UsageError(
            f"platform.kind {kind} needs the '{extra}' extra (pip install 'infragate[{extra}]'); {exc.name} is missing"
        ) from None
    adapter: Platform = getattr(module, class_name)(profile, consent)
    return adapter


__all__ = ["ADAPTERS", "Platform", "Replica", "ReplicaSet", "open_platform"]

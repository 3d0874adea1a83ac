"""Platform adapters behind one Protocol, found by the profile's platform kind and imported lazily."""

from __future__ import annotations

import importlib

from infragate.platforms.base import Platform, Replica, ReplicaSet
from infragate.profile.model import Profile
from infragate.safety import NONE, Consent

ADAPTERS: dict[str, str] = {
    "local": "infragate.platforms.local:LocalPlatform",
    "swarm": "infragate.platforms.swarm:SwarmPlatform",
    "none": "infragate.platforms.none:NoPlatform",
}


def open_platform(profile: Profile, consent: Consent = NONE) -> Platform:
    """The adapter for the profile's platform kind; it disrupts only what `consent` allows."""
    module_name, _, class_name = ADAPTERS[profile.platform.kind].partition(":")
    adapter: Platform = getattr(importlib.import_module(module_name), class_name)(profile, consent)
    return adapter


__all__ = ["ADAPTERS", "Platform", "Replica", "ReplicaSet", "open_platform"]

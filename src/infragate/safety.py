"""The safety policy: whether this run may disrupt the target or put load on it.

Consent is two keys turned together: the profile (``safety.allow_destructive`` / ``allow_load``, never
for production) and the command line (``--allow-destructive`` / ``--allow-load``). Feature tags only
select scenarios; they are not the guard. The guard is a ``Consent`` handed to every platform
adapter and to the load engine, which call ``require_*`` at the moment they act, whatever called
them. A refusal is a ``SafetyError`` (exit code 4) naming the action.
"""

from __future__ import annotations

from dataclasses import dataclass

from infragate.errors import SafetyError
from infragate.profile.model import Safety


@dataclass(frozen=True)
class Consent:
    """What this run may do to the target; each ``*_refusal`` says why that capability is missing."""

    destructive: bool = False
    load: bool = False
    destructive_refusal: str = "no consent was given"
    load_refusal: str = "no consent was given"
    restoring: bool = False

    def require_destructive(self, action: str) -> None:
        """Refuse a disruption (kill, restart, scale, update) unless consented to."""
        if not (self.destructive or self.restoring):
            raise SafetyError(f"refused by the safety policy: {action}: {self.destructive_refusal}")

    def require_load(self, action: str) -> None:
        """Refuse load unless consented to."""
        if not self.load:
            raise SafetyError(f"refused by the safety policy: {action}: {self.load_refusal}")


# Undoing a journalled disruption puts the target back; it needs no consent to disrupt, and gets no
# consent to put load on the target.
RESTORING = Consent(restoring=True, load_refusal="recovery never puts load on a target")
NONE = Consent()


def _capabilities(safety: Safety, allow_destructive: bool, allow_load: bool) -> tuple[tuple[str, bool, bool, str], ...]:
    """Each capability: its name, whether the profile and the command line allow it, and the option."""
    return (
        ("destructive", safety.allow_destructive, allow_destructive, "--allow-destructive"),
        ("load", safety.allow_load, allow_load, "--allow-load"),
    )


def _missing(what: str, profile_allows: bool, command_allows: bool, option: str) -> list[str]:
    return [
        item
        for item, ok in ((f"safety.allow_{what} in the profile", profile_allows), (option, command_allows))
        if not ok
    ]


def _refusal(safety: Safety, what: str, profile_allows: bool, command_allows: bool, option: str) -> str:
    if safety.environment == "production":
        return f"the target's environment is production, which never allows {what} work"
    return f"{what} work needs {' and '.join(_missing(what, profile_allows, command_allows, option))}"


def held_back(safety: Safety, tags: set[str], allow_destructive: bool, allow_load: bool) -> str | None:
    """Why a scenario with these tags is not run under this policy ("@load needs --allow-load"), or None.

    Only a selection, before the scenario starts: the adapters and the load engine check again when
    they act, whatever the tags say."""
    for tag, profile_allows, command_allows, option in _capabilities(safety, allow_destructive, allow_load):
        if tag not in tags:
            continue
        if safety.environment == "production":
            return f"@{tag}: the target's environment is production, which never allows {tag} work"
        missing = _missing(tag, profile_allows, command_allows, option)
        if missing:
            return f"@{tag} needs {' and '.join(missing)}"
    return None


def consent_for(safety: Safety, allow_destructive: bool, allow_load: bool) -> Consent:
    """The consent a run has: the profile's policy and the command line's options, both needed."""
    granted, refusals = {}, {}
    for what, profile_allows, command_allows, option in _capabilities(safety, allow_destructive, allow_load):
        granted[what] = profile_allows and command_allows and safety.environment != "production"
        refusals[what] = "" if granted[what] else _refusal(safety, what, profile_allows, command_allows, option)
    return Consent(
        destructive=granted["destructive"],
        load=granted["load"],
        destructive_refusal=refusals["destructive"],
        load_refusal=refusals["load"],
    )


def check_requested(safety: Safety, target: str, allow_destructive: bool, allow_load: bool) -> None:
    """Asking on the command line for what the profile forbids is refused before anything runs."""
    production = safety.environment == "production"
    for what, allowed, wanted, _ in _capabilities(safety, allow_destructive, allow_load):
        if wanted and (not allowed or production):
            why = "is production" if production and allowed else f"does not allow {what} scenarios"
            raise SafetyError(
                f"refused by the safety policy: target '{target}' (environment {safety.environment}) "
                f"{why} (safety.allow_{what} is {str(allowed).lower()})"
            )

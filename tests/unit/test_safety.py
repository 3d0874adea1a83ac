"""Consent to disrupt or load: both the profile and the command line, never production."""

from __future__ import annotations

import pytest

from infragate.errors import SafetyError
from infragate.profile.model import Safety
from infragate.safety import NONE, RESTORING, check_requested, consent_for


def _safety(environment: str = "staging", destructive: bool = True, load: bool = True) -> Safety:
    return Safety.model_validate(
        {"environment": environment, "allow_destructive": destructive, "allow_load": load}
        if environment != "production"
        else {"environment": environment, "allow_load": load}
    )


def test_both_keys_are_needed() -> None:
    assert consent_for(_safety(), True, True).destructive
    with pytest.raises(SafetyError, match=r"kill api-1: destructive work needs --allow-destructive$"):
        consent_for(_safety(), False, True).require_destructive("kill api-1")
    with pytest.raises(SafetyError, match=r"needs safety.allow_destructive in the profile and --allow-destructive"):
        consent_for(_safety(destructive=False), False, True).require_destructive("scale api to 5 replicas")
    with pytest.raises(SafetyError, match=r"load work needs safety.allow_load in the profile$"):
        consent_for(_safety(load=False), True, True).require_load("offer 10 requests/s")


def test_production_never_consents_even_to_load_it_allows() -> None:
    consent = consent_for(_safety("production", load=True), True, True)
    assert not consent.destructive and not consent.load
    with pytest.raises(SafetyError, match="environment is production"):
        consent.require_load("offer load")
    with pytest.raises(SafetyError, match="is production"):
        check_requested(_safety("production", load=True), "prod", False, True)


def test_no_consent_by_default_and_restoring_only_restores() -> None:
    with pytest.raises(SafetyError):
        NONE.require_destructive("kill")
    RESTORING.require_destructive("scale api back to 3 replicas")
    with pytest.raises(SafetyError, match="recovery never puts load"):
        RESTORING.require_load("offer load")


def test_tags_hold_back_what_the_policy_does_not_allow() -> None:
    from infragate.safety import held_back

    assert held_back(_safety(), {"destructive", "load"}, True, True) is None
    assert held_back(_safety(), {"destructive"}, False, True) == "@destructive needs --allow-destructive"
    assert held_back(_safety(destructive=False), {"destructive"}, False, False) == (
        "@destructive needs safety.allow_destructive in the profile and --allow-destructive"
    )
    assert held_back(_safety("production", load=True), {"load"}, False, True) == (
        "@load: the target's environment is production, which never allows load work"
    )
    assert held_back(_safety(), {"gateway"}, False, False) is None

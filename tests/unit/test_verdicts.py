from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infragate.errors import ExitCode
from infragate.verdicts import Check, Outcome, Verdict, run_exit_code

V = Verdict


def test_all_conformant_is_zero() -> None:
    assert run_exit_code([V.CONFORMANT, V.CONFORMANT, V.NOT_APPLICABLE]) == ExitCode.CONFORMANT


def test_one_violation_is_non_conformant_even_beside_errors() -> None:
    assert run_exit_code([V.CONFORMANT, V.COULD_NOT_VERIFY, V.NON_CONFORMANT]) == ExitCode.NON_CONFORMANT


def test_an_error_without_violation_is_could_not_verify() -> None:
    assert run_exit_code([V.CONFORMANT, V.COULD_NOT_VERIFY]) == ExitCode.COULD_NOT_VERIFY


def test_nothing_verified_is_never_a_pass() -> None:
    assert run_exit_code([]) == ExitCode.COULD_NOT_VERIFY
    assert run_exit_code([V.NOT_APPLICABLE, V.NOT_RUN]) == ExitCode.COULD_NOT_VERIFY


def test_broken_features_are_bad_usage() -> None:
    assert run_exit_code([V.NON_CONFORMANT, V.BAD_USAGE]) == ExitCode.BAD_USAGE
    assert run_exit_code([V.CONFORMANT], collection_errors=1) == ExitCode.BAD_USAGE


def test_a_refused_action_outranks_a_verdict_but_not_a_broken_feature() -> None:
    assert run_exit_code([V.NON_CONFORMANT, V.REFUSED, V.CONFORMANT]) == ExitCode.REFUSED_BY_SAFETY
    assert run_exit_code([V.REFUSED, V.BAD_USAGE]) == ExitCode.BAD_USAGE


def test_an_interrupted_run_is_never_conformant() -> None:
    assert run_exit_code([V.CONFORMANT], interrupted=True) == ExitCode.COULD_NOT_VERIFY
    assert run_exit_code([V.NON_CONFORMANT], interrupted=True) == ExitCode.NON_CONFORMANT


@given(st.lists(st.sampled_from(list(Verdict))))
def test_exit_zero_only_when_something_passed_and_nothing_failed(verdicts: list[Verdict]) -> None:
    code = run_exit_code(verdicts)
    bad = {V.NON_CONFORMANT, V.COULD_NOT_VERIFY, V.INTERRUPTED, V.BAD_USAGE, V.REFUSED}
    assert (code == ExitCode.CONFORMANT) == (V.CONFORMANT in verdicts and not bad & set(verdicts))


def test_a_comparison_says_expected_and_observed_and_names_its_subject() -> None:
    held = Check.compare("replicas", "3 to 5 replicas", "4", True, subject="service api")
    assert (held.outcome, held.expected, held.observed, held.problem) == (
        Outcome.MET,
        "service api: 3 to 5 replicas",
        "service api: 4",
        None,
    )
    broken = Check.compare("replicas", "3 to 5 replicas", "7", False, subject="service api")
    assert broken.problems == ("service api: expected 3 to 5 replicas, observed 7",)


def test_combined_checks_fail_when_any_fails_and_are_not_judged_only_when_none_was() -> None:
    met = Check.compare("rate", "100/s", "98/s", True)
    not_met = Check.compare("rate", "10/s", "40/s", False)
    unjudged = Check.not_judged("rate", "100/s", "the window is too long to measure")
    both = Check.combine([met, not_met])
    assert (both.outcome, both.name, both.problems) == (Outcome.NOT_MET, "rate", not_met.problems)
    assert (both.expected, both.observed) == ("100/s; 10/s", "98/s; 40/s")
    assert Check.combine([met, unjudged]).outcome is Outcome.MET
    assert Check.combine([unjudged, unjudged]).outcome is Outcome.NOT_JUDGED
    assert Check.combine([], name="spread").met  # nothing to check breaks no promise
    # Each target's own check stays inside, nested combinations flattened, for the reports to list.
    nested = Check.combine([both, unjudged])
    assert nested.leaves() == (met, not_met, unjudged) and met.leaves() == (met,)
    assert [leaf for leaf in nested.leaves() if leaf.outcome is Outcome.NOT_MET] == [not_met]

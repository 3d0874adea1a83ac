"""Verdicts of checks, of scenarios and of whole runs, and how they map to exit codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from infragate.errors import ExitCode


class Verdict(StrEnum):
    """What one scenario established about the target; the terminal and every report use these words."""

    CONFORMANT = "conformant"
    NON_CONFORMANT = "non-conformant"
    COULD_NOT_VERIFY = "could not verify"
    BAD_USAGE = "bad usage"
    NOT_APPLICABLE = "not applicable"
    NOT_RUN = "not run"
    REFUSED = "refused by the safety policy"
    WAIVED = "waived"  # non-conformant, or held back, under a waiver that still holds
    INTERRUPTED = "interrupted"  # a stop signal came before the scenario finished: it proves nothing

    @property
    def severity(self) -> int:
        """Order in which verdicts of one scenario's phases override each other."""
        return _SEVERITY[self]


_SEVERITY = {
    Verdict.CONFORMANT: 0,
    Verdict.NOT_APPLICABLE: 1,
    Verdict.NOT_RUN: 2,
    Verdict.WAIVED: 2,
    Verdict.COULD_NOT_VERIFY: 3,
    Verdict.INTERRUPTED: 3,
    Verdict.NON_CONFORMANT: 4,
    Verdict.BAD_USAGE: 5,
    Verdict.REFUSED: 6,
}


# Verdicts a person must look at (worst first by severity), and those of scenarios held back.
NEEDS_ATTENTION = frozenset(
    {Verdict.NON_CONFORMANT, Verdict.COULD_NOT_VERIFY, Verdict.INTERRUPTED, Verdict.REFUSED, Verdict.BAD_USAGE}
)
HELD_BACK = frozenset({Verdict.NOT_APPLICABLE, Verdict.NOT_RUN})
# What a whole run established, by its exit code: the same words as a scenario's verdicts.
RUN_VERDICT: dict[int, str] = {
    ExitCode.CONFORMANT: Verdict.CONFORMANT.value,
    ExitCode.NON_CONFORMANT: Verdict.NON_CONFORMANT.value,
    ExitCode.COULD_NOT_VERIFY: Verdict.COULD_NOT_VERIFY.value,
    ExitCode.BAD_USAGE: Verdict.BAD_USAGE.value,
    ExitCode.REFUSED_BY_SAFETY: Verdict.REFUSED.value,
}

NOT_APPLICABLE_PREFIX = "not applicable: "
NOT_RUN_PREFIX = "not run: "


def run_exit_code(verdicts: Iterable[Verdict], collection_errors: int = 0, interrupted: bool = False) -> ExitCode:
    """The exit code of a run.

    A broken feature or option makes the run unusable (3); a step whose action the safety policy
    refused (4) comes next: the run tried what it had no consent for. One proven violation makes
    the target non-conformant (1) even if other checks could not run; any check that could not run,
    a run that verified nothing at all, or a run that was interrupted is "could not verify" (2).
    """
    seen = list(verdicts)
    if collection_errors or Verdict.BAD_USAGE in seen:
        return ExitCode.BAD_USAGE
    if Verdict.REFUSED in seen:
        return ExitCode.REFUSED_BY_SAFETY
    if Verdict.NON_CONFORMANT in seen:
        return ExitCode.NON_CONFORMANT
    if interrupted or {Verdict.COULD_NOT_VERIFY, Verdict.INTERRUPTED} & set(seen) or Verdict.CONFORMANT not in seen:
        return ExitCode.COULD_NOT_VERIFY
    return ExitCode.CONFORMANT


class Outcome(StrEnum):
    """What judging one promise against what was observed gave."""

    MET = "met"
    NOT_MET = "not met"
    NOT_JUDGED = "not judged"  # the promise could not be applied to what was measured (said why)


@dataclass(frozen=True)
class Check:
    """One promise judged: its name, what was expected, what was observed, and the outcome.

    A NOT_MET check carries the problems found ("expected X, observed Y"); a NOT_JUDGED one says
    why the promise could not be applied. Results keep checks as evidence; Then-steps hand them
    to ``expect_no_problems``.
    """

    name: str
    outcome: Outcome
    expected: str
    observed: str
    problems: tuple[str, ...] = ()
    parts: tuple[Check, ...] = ()  # the checks of each target it combines (``combine``)

    def leaves(self) -> tuple[Check, ...]:
        """The checks of each target this one combines, or itself: what the reports list one by one."""
        return self.parts or (self,)

    @classmethod
    def judged(cls, name: str, expected: str, observed: str, problems: str | Sequence[str] | None) -> Check:
        """MET when no problem was found, NOT_MET with them otherwise."""
        found = (problems,) if isinstance(problems, str) else tuple(problems or ())
        return cls(name, Outcome.NOT_MET if found else Outcome.MET, expected, observed, found)

    @classmethod
    def compare(cls, name: str, expected: str, observed: str, holds: bool, subject: str = "") -> Check:
        """MET when the observation holds, NOT_MET with "[SUBJECT: ]expected E, observed O" otherwise."""
        where = f"{subject}: " if subject else ""
        problems = () if holds else (f"{where}expected {expected}, observed {observed}",)
        outcome = Outcome.MET if holds else Outcome.NOT_MET
        return cls(name, outcome, f"{where}{expected}", f"{where}{observed}", problems)

    @classmethod
    def combine(cls, checks: Iterable[Check], name: str = "") -> Check:
        """One check of several targets: NOT_MET when any is (with all their problems), NOT_JUDGED
        when every one is, MET otherwise (also when there was nothing to check)."""
        found = list(checks)
        outcomes = {check.outcome for check in found}
        if Outcome.NOT_MET in outcomes:
            outcome = Outcome.NOT_MET
        elif outcomes == {Outcome.NOT_JUDGED}:
            outcome = Outcome.NOT_JUDGED
        else:
            outcome = Outcome.MET
        return cls(
            name or (found[0].name if found else "nothing to check"),
            outcome,
            "; ".join(dict.fromkeys(check.expected for check in found)),
            "; ".join(check.observed for check in found) or "nothing to check",
            tuple(problem for check in found for problem in check.problems),
            tuple(leaf for check in found for leaf in check.leaves()),
        )

    @classmethod
    def not_judged(cls, name: str, expected: str, why: str) -> Check:
        """A promise that could not be applied to what was measured, and why."""
        return cls(name, Outcome.NOT_JUDGED, expected, why)

    @property
    def problem(self) -> str | None:
        """The problems found as one line, or None when the promise was met or not judged."""
        return "; ".join(self.problems) or None

    @property
    def met(self) -> bool:
        """Whether the promise held."""
        return self.outcome is Outcome.MET

    def explain(self) -> str:
        """One line for people: the problems, why it was not judged, or what was observed."""
        if self.outcome is Outcome.NOT_MET:
            return "; ".join(self.problems)
        return self.observed

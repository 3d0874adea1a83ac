"""Verdicts of scenarios and of whole runs, and how they map to exit codes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from infragate.errors import ExitCode


class Verdict(StrEnum):
    """What one scenario established about the target."""

    CONFORMANT = "conformant"
    NON_CONFORMANT = "non-conformant"
    COULD_NOT_VERIFY = "could not verify"
    BAD_USAGE = "bad usage"
    NOT_APPLICABLE = "not applicable"
    NOT_RUN = "not run"
    REFUSED = "refused by the safety policy"

    @property
    def mark(self) -> str:
        """A short word for terminals: PASS, FAIL, ERROR, USAGE, N/A, HELD."""
        return _MARKS[self]

    @property
    def severity(self) -> int:
        """Order in which verdicts of one scenario's phases override each other."""
        return _SEVERITY[self]


_SEVERITY = {
    Verdict.CONFORMANT: 0,
    Verdict.NOT_APPLICABLE: 1,
    Verdict.NOT_RUN: 2,
    Verdict.COULD_NOT_VERIFY: 3,
    Verdict.NON_CONFORMANT: 4,
    Verdict.BAD_USAGE: 5,
    Verdict.REFUSED: 6,
}

_MARKS = {
    Verdict.CONFORMANT: "PASS",
    Verdict.NON_CONFORMANT: "FAIL",
    Verdict.COULD_NOT_VERIFY: "ERROR",
    Verdict.BAD_USAGE: "USAGE",
    Verdict.NOT_APPLICABLE: "N/A",
    Verdict.NOT_RUN: "HELD",
    Verdict.REFUSED: "REFUSED",
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
    if interrupted or Verdict.COULD_NOT_VERIFY in seen or Verdict.CONFORMANT not in seen:
        return ExitCode.COULD_NOT_VERIFY
    return ExitCode.CONFORMANT

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
}

_MARKS = {
    Verdict.CONFORMANT: "PASS",
    Verdict.NON_CONFORMANT: "FAIL",
    Verdict.COULD_NOT_VERIFY: "ERROR",
    Verdict.BAD_USAGE: "USAGE",
    Verdict.NOT_APPLICABLE: "N/A",
    Verdict.NOT_RUN: "HELD",
}

NOT_APPLICABLE_PREFIX = "not applicable: "
NOT_RUN_PREFIX = "not run: "


def run_exit_code(verdicts: Iterable[Verdict], collection_errors: int = 0) -> ExitCode:
    """The exit code of a run.

    A broken feature or option makes the run unusable (3); one proven violation makes the target
    non-conformant (1) even if other checks could not run; any check that could not run, or a run
    that verified nothing at all, is "could not verify" (2).
    """
    seen = list(verdicts)
    if collection_errors or Verdict.BAD_USAGE in seen:
        return ExitCode.BAD_USAGE
    if Verdict.NON_CONFORMANT in seen:
        return ExitCode.NON_CONFORMANT
    if Verdict.COULD_NOT_VERIFY in seen or Verdict.CONFORMANT not in seen:
        return ExitCode.COULD_NOT_VERIFY
    return ExitCode.CONFORMANT

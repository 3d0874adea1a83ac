"""Waivers applied to a finished run: a non-conformant scenario a waiver covers (or one a skip
waiver held back) becomes WAIVED, keeping what failed and at which step; a waiver that covered
nothing, or only scenarios that are conformant now, is named so that it is removed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from infragate.reports.records import RunRecord, ScenarioRecord
from infragate.verdicts import NOT_RUN_PREFIX, Verdict
from infragate.waivers.waiver_file import Waiver

WAIVERS_ENV = "INFRAGATE_WAIVERS"  # the waivers, as JSON, for the suite's own process
SKIPPED_PREFIX = f"{NOT_RUN_PREFIX}waived: "
WAIVED_PREFIX = "WAIVED: "  # how every report starts a waived scenario's message


def covers(waiver: Waiver, name: str, tags: Iterable[str]) -> bool:
    """Whether a waiver covers a scenario, by its name or one of its tags (with or without @)."""
    if waiver.scenario is not None:
        return waiver.scenario == name
    return waiver.bare_tag in {tag.removeprefix("@") for tag in tags}


def describe(waiver: Waiver) -> str:
    """The waiver in one line: reason, owner and last day."""
    return f"{waiver.reason} (owner {waiver.owner}, until {waiver.expires.isoformat()})"


def waivers_payload(waivers: Sequence[Waiver]) -> str:
    """The waivers for the suite: it holds back what skip waivers cover before any step runs, and its
    line per scenario says waived where a waiver covers the finding."""
    return json.dumps([waiver.model_dump(mode="json") for waiver in waivers])


def _read(payload: str) -> list[Waiver]:
    return [Waiver.model_validate(raw) for raw in json.loads(payload or "[]")]


def skip_reason(payload: str, name: str, tags: Iterable[str]) -> str | None:
    """Inside the suite: why a scenario is held back by a skip waiver, or None."""
    for waiver in _read(payload):
        if waiver.mode == "skip" and covers(waiver, name, tags):
            return f"{SKIPPED_PREFIX}{describe(waiver)}"
    return None


def _waives(waiver: Waiver, record: ScenarioRecord) -> bool:
    """Whether a waiver turns a scenario's finding into WAIVED: a proven deviation it covers, or a
    scenario its skip held back."""
    if not covers(waiver, record.scenario, record.tags):
        return False
    held = record.verdict is Verdict.NOT_RUN and record.message.startswith(SKIPPED_PREFIX)
    return record.verdict is Verdict.NON_CONFORMANT or (held and waiver.mode == "skip")


def shown_verdict(payload: str, record: ScenarioRecord) -> Verdict:
    """Inside the suite: the verdict a scenario's line shows, waived where a waiver will cover it
    (the rule apply_waivers settles it by for the reports once the run has ended)."""
    if record.verdict not in (Verdict.NON_CONFORMANT, Verdict.NOT_RUN):
        return record.verdict
    return Verdict.WAIVED if any(_waives(waiver, record) for waiver in _read(payload)) else record.verdict


def _waive(record: ScenarioRecord, waiver: Waiver) -> None:
    record.waiver = {
        "covers": waiver.label,
        "reason": waiver.reason,
        "owner": waiver.owner,
        "expires": waiver.expires.isoformat(),
        "mode": waiver.mode,
        "verdict": record.verdict.value,  # what it would have been
    }
    was = record.verdict.value + (f" at step: {record.failed_step}" if record.failed_step else "")
    found = "not run" if record.verdict is Verdict.NOT_RUN else f"{was}: {record.message}"
    record.message = f"{WAIVED_PREFIX}{describe(waiver)}; {found}"
    record.verdict = Verdict.WAIVED


def apply_waivers(run: RunRecord, waivers: Sequence[Waiver]) -> None:
    """Turn the findings the waivers cover into WAIVED, and note each waiver that covered none."""
    used: set[int] = set()
    for record in run.scenarios:
        for index, waiver in enumerate(waivers):
            if _waives(waiver, record):
                _waive(record, waiver)
                used.add(index)
                break
    for index, waiver in enumerate(waivers):
        if index in used:
            continue
        matched = [record for record in run.scenarios if covers(waiver, record.scenario, record.tags)]
        if not matched:
            run.unmatched_waivers.append(
                f"the waiver of {waiver.label} ({waiver.owner}) matches no scenario of this run"
            )
        else:
            verdicts = ", ".join(sorted({record.verdict.value for record in matched}))
            run.unmatched_waivers.append(
                f"the waiver of {waiver.label} ({waiver.owner}) covered nothing: its scenarios were {verdicts} "
                "(a waiver accepts a proven deviation, never a check that could not run); remove it if it is fixed"
            )

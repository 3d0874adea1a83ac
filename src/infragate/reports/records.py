"""What a run recorded: its scenarios, their steps and verdicts, and each probe's evidence.

The record is written as evidence.json and read back by every report; a probe result becomes
evidence with its type, its fields and the charts that explain it (the result's ``CHARTS``).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infragate.profile.secrets import REDACTOR
from infragate.verdicts import NEEDS_ATTENTION, Verdict, run_exit_code

EVIDENCE_FILE = "evidence.json"
SUMMARY_FILE = "summary.md"
HTML_FILE = "report.html"
JUNIT_FILE = "junit.xml"
CUCUMBER_FILE = "cucumber.json"
ALLURE_DIR = "allure-results"


@dataclass
class StepRecord:
    """One step as it ran."""

    text: str
    outcome: str
    duration_s: float
    checks: list[dict[str, str]] = field(
        default_factory=list
    )  # what the step judged: name, outcome, expected, observed

    def broken(self) -> list[str]:
        """The promises this step found broken, each as "name: expected E, observed O"."""
        return [
            f"{c['name']}: expected {c['expected']}, observed {c['observed']}"
            for c in self.checks
            if c["outcome"] == "not met"
        ]


@dataclass
class ScenarioRecord:
    """One scenario: where it is written, what it established, and the evidence for it."""

    nodeid: str
    feature: str
    feature_file: str
    scenario: str
    line: int
    tags: list[str]
    verdict: Verdict = Verdict.CONFORMANT
    failed_step: str | None = None
    message: str = ""
    duration_s: float = 0.0
    steps: list[StepRecord] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    cleanup: str = ""
    feature_line: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)  # every step as written: keyword, name, line
    started_at: float = 0.0  # when its first phase began (seconds since the epoch)
    waiver: dict[str, str] | None = None  # the waiver that covers it: reason, owner, expires, mode, verdict

    def step_error(self, step: StepRecord) -> str:
        """Why a step that did not pass failed: its broken promises, else the scenario's message."""
        broken = step.broken()
        if broken:
            return "\n".join(broken)
        return self.message if step.text == self.failed_step or not self.message else f"failed: {step.text}"

    def settle(self, verdict: Verdict, message: str = "") -> None:
        """Take a phase's verdict if it is graver than what the scenario has."""
        if verdict.severity > self.verdict.severity:
            self.verdict = verdict
            self.message = REDACTOR.redact(message)


@dataclass
class RunRecord:
    """A whole run against one target."""

    target: str
    profile: str
    started_at: float
    finished_at: float = 0.0
    scenarios: list[ScenarioRecord] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interrupted: str = ""  # what stopped the run before its end ("SIGTERM", ...); such a run is never conformant
    unmatched_waivers: list[str] = field(default_factory=list)  # waivers that covered no finding

    @property
    def exit_code(self) -> int:
        """The documented exit code this run ends with."""
        verdicts = (s.verdict for s in self.scenarios)
        return int(run_exit_code(verdicts, len(self.collection_errors), bool(self.interrupted)))

    def interrupt(self, reason: str) -> None:
        """Note that a stop ("SIGTERM") cut the run short: it proves nothing, and says so."""
        self.interrupted = reason
        self.notes.append(f"interrupted by {reason}: the run did not finish, so it proves nothing")

    def needing_attention(self) -> list[ScenarioRecord]:
        """The scenarios a person must look at, worst first: non-conformant, could not verify, ..."""
        found = (scenario for scenario in self.scenarios if scenario.verdict in NEEDS_ATTENTION)
        return sorted(found, key=lambda scenario: -scenario.verdict.severity)

    def counts(self) -> Counter[str]:
        """How many scenarios got each verdict."""
        return Counter(s.verdict.value for s in self.scenarios)

    def to_json(self) -> str:
        """The record as JSON, with every secret redacted."""
        data = dataclasses.asdict(self)
        data["exit_code"] = self.exit_code
        return REDACTOR.redact(json.dumps(data, indent=2, default=_jsonable))

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        """A record read back from its JSON."""
        data = json.loads(text)
        data.pop("exit_code", None)
        scenarios = []
        for raw in data.pop("scenarios"):
            raw["verdict"] = Verdict(raw["verdict"])
            raw["steps"] = [StepRecord(**step) for step in raw["steps"]]
            scenarios.append(ScenarioRecord(**raw))
        return cls(scenarios=scenarios, **data)


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Verdict):
        return value.value
    return str(value)


def evidence_of(result: object) -> dict[str, Any]:
    """A probe result as evidence: its type name, its fields, and the charts that explain it."""
    data = dataclasses.asdict(result) if dataclasses.is_dataclass(result) and not isinstance(result, type) else result
    charts = list(getattr(result, "CHARTS", ()))
    kept = {"type": type(result).__name__, "data": data, **({"charts": charts} if charts else {})}
    payload: dict[str, Any] = json.loads(json.dumps(kept, default=_jsonable))
    return payload

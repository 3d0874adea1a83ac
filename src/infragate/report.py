"""Run records and the reports written from them: evidence JSON, Markdown summary and HTML.

JUnit XML and Cucumber JSON come from pytest and pytest-bdd themselves; these three add the
verdicts, the failing step with "expected X, observed Y", and each probe's evidence.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infragate.profile.secrets import REDACTOR
from infragate.verdicts import Verdict, run_exit_code

EVIDENCE_FILE = "evidence.json"
SUMMARY_FILE = "summary.md"
HTML_FILE = "report.html"
JUNIT_FILE = "junit.xml"
CUCUMBER_FILE = "cucumber.json"


@dataclass
class StepRecord:
    """One step as it ran."""

    text: str
    outcome: str
    duration_s: float


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

    @property
    def exit_code(self) -> int:
        """The documented exit code this run ends with."""
        verdicts = (s.verdict for s in self.scenarios)
        return int(run_exit_code(verdicts, len(self.collection_errors), bool(self.interrupted)))

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
    """A probe result as evidence: its type name and its fields."""
    data = dataclasses.asdict(result) if dataclasses.is_dataclass(result) and not isinstance(result, type) else result
    payload: dict[str, Any] = json.loads(json.dumps({"type": type(result).__name__, "data": data}, default=_jsonable))
    return payload


def write_reports(run: RunRecord, directory: Path) -> None:
    """Write evidence JSON, Markdown summary and HTML report into a run folder."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / EVIDENCE_FILE).write_text(run.to_json())
    (directory / SUMMARY_FILE).write_text(REDACTOR.redact(render_markdown(run)))
    (directory / HTML_FILE).write_text(REDACTOR.redact(render_html(run)))


_EXIT_MEANING = {
    0: "conformant",
    1: "non-conformant",
    2: "could not verify",
    3: "bad usage or profile",
    4: "refused by the safety policy",
}
_COLOURS = {
    Verdict.CONFORMANT: "#2e7d32",
    Verdict.NON_CONFORMANT: "#c62828",
    Verdict.COULD_NOT_VERIFY: "#ef6c00",
    Verdict.BAD_USAGE: "#6a1b9a",
    Verdict.NOT_APPLICABLE: "#757575",
    Verdict.NOT_RUN: "#9e9e9e",
    Verdict.REFUSED: "#283593",
}


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_markdown(run: RunRecord) -> str:
    """A Markdown summary for a pull request, a chat message or a CI job page."""
    code = run.exit_code
    lines = [
        f"# infragate: {run.target}: {_EXIT_MEANING[code]} (exit {code})",
        "",
        f"Profile `{run.profile}`, started {_when(run.started_at)}, took {run.finished_at - run.started_at:.1f} s.",
        "",
        " · ".join(f"{count} {verdict}" for verdict, count in sorted(run.counts().items())) or "no scenarios ran",
        "",
    ]
    lines += [f"- collection error: {error}" for error in run.collection_errors]
    lines += [f"- note: {note}" for note in run.notes]
    lines += ["", "| verdict | feature | scenario | step | detail |", "| --- | --- | --- | --- | --- |"]
    for scenario in run.scenarios:
        detail = scenario.message.replace("|", "\\|").replace("\n", " ")[:300]
        if scenario.cleanup:
            detail = f"{detail} (cleanup {scenario.cleanup})".strip()
        lines.append(
            f"| {scenario.verdict.value} | {scenario.feature} | {scenario.scenario} | "
            f"{scenario.failed_step or ''} | {detail} |"
        )
    return "\n".join(lines) + "\n"


def _verdict_bar(run: RunRecord) -> str:
    counts = run.counts()
    total = sum(counts.values()) or 1
    x = 0.0
    parts = []
    for verdict in Verdict:
        count = counts.get(verdict.value, 0)
        if not count:
            continue
        width = 600 * count / total
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="24" fill="{_COLOURS[verdict]}">'
            f"<title>{count} {verdict.value}</title></rect>"
        )
        if width > 60:
            parts.append(f'<text x="{x + 6:.1f}" y="16" fill="#fff" font-size="12">{count} {verdict.value}</text>')
        x += width
    return f'<svg width="600" height="24" role="img" aria-label="verdicts">{"".join(parts)}</svg>'


_CHART_W, _CHART_H = 560, 140


def _traffic_chart(data: dict[str, Any]) -> str:
    """Requests per second during a disruption, failures in red, the fault window shaded."""
    seconds = data.get("seconds") or []
    if not seconds:
        return ""
    last = max(entry["second"] for entry in seconds) + 1
    peak = max(entry["sent"] for entry in seconds) or 1
    width = _CHART_W / last
    start, end = data.get("window", (0, 0))
    parts = [
        f'<rect x="{start * width:.1f}" y="0" width="{max(end - start, 0) * width:.1f}" height="{_CHART_H}" '
        f'fill="#fff3e0"><title>fault window</title></rect>'
    ]
    for entry in seconds:
        x = entry["second"] * width
        ok_height = (entry["sent"] - entry["failed"]) / peak * (_CHART_H - 20)
        bad_height = entry["failed"] / peak * (_CHART_H - 20)
        parts.append(
            f'<rect x="{x:.1f}" y="{_CHART_H - ok_height:.1f}" width="{width * 0.8:.1f}" '
            f'height="{ok_height:.1f}" fill="#2e7d32"><title>second {entry["second"]}: {entry["sent"]} sent, '
            f"{entry['failed']} failed, slowest {entry['worst_latency_ms']} ms</title></rect>"
        )
        if bad_height:
            parts.append(
                f'<rect x="{x:.1f}" y="{_CHART_H - ok_height - bad_height:.1f}" width="{width * 0.8:.1f}" '
                f'height="{bad_height:.1f}" fill="#c62828"></rect>'
            )
    caption = f"requests per second ({data['sent']} sent, {data['failed']} failed); shaded: the fault"
    return _figure(parts, caption)


def _limit_chart(result: dict[str, Any]) -> str:
    """Cumulative admitted requests over time against the declared capacity + rate line."""
    samples = result.get("samples") or []
    if not samples:
        return ""
    span = max(sample["sent_ms"] for sample in samples) or 1.0
    admitted, points = 0, []
    for sample in samples:
        if sample["status"] not in (429, 503, result["declared_status"], 0):
            admitted += 1
            points.append((sample["sent_ms"], admitted))
    declared_start = result["declared_capacity"]
    declared_end = declared_start + result["declared_rate_per_s"] * span / 1000
    top = max(admitted, declared_end, 1)
    scale_x, scale_y = _CHART_W / span, (_CHART_H - 10) / top
    line = " ".join(f"{t * scale_x:.1f},{_CHART_H - k * scale_y:.1f}" for t, k in points)
    parts = [
        f'<line x1="0" y1="{_CHART_H - declared_start * scale_y:.1f}" x2="{_CHART_W}" '
        f'y2="{_CHART_H - declared_end * scale_y:.1f}" stroke="#9e9e9e" stroke-dasharray="4 3"><title>declared: '
        f"capacity + rate x time</title></line>",
        f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="2"><title>admitted</title></polyline>',
    ]
    caption = (
        f"route {html.escape(result['route'])}: admitted requests over {span / 1000:.1f} s of overload (blue) "
        f"against the declaration (dashed)"
    )
    return _figure(parts, caption)


def _polyline(points: list[tuple[float, float]], colour: str, title: str) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2">'
        f"<title>{html.escape(title)}</title></polyline>"
    )


def _axis_label(text: str, y: float, x: float = 4) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#666">{html.escape(text)}</text>'


def latency_chart(data: dict[str, Any]) -> str:
    """Latency percentiles per second of a load run (p50 green, p95 orange, p99 red), errors as red ticks."""
    seconds = data.get("seconds") or []
    if not seconds:
        return ""
    top = max(max(row["p99_ms"] for row in seconds), 1.0) * 1.1
    last = max(row["second"] for row in seconds)
    scale_x, scale_y = _CHART_W / max(last, 1), (_CHART_H - 10) / top
    parts = []
    for key, colour in (("p50_ms", "#2e7d32"), ("p95_ms", "#ef6c00"), ("p99_ms", "#c62828")):
        points = [(row["second"] * scale_x, _CHART_H - row[key] * scale_y) for row in seconds]
        parts.append(_polyline(points, colour, key.removesuffix("_ms")))
    for row in seconds:
        if row["errors"]:
            parts.append(
                f'<rect x="{row["second"] * scale_x - 2:.1f}" y="0" width="4" height="8" fill="#c62828">'
                f"<title>second {row['second']}: {row['errors']} errors</title></rect>"
            )
    objectives = data.get("objectives") or {}
    for key, colour in (("p95", "#ef6c00"), ("p99", "#c62828")):
        bound = objectives.get(key)
        if bound and bound * 1000 <= top:
            y = _CHART_H - bound * 1000 * scale_y
            parts.append(
                f'<line x1="0" y1="{y:.1f}" x2="{_CHART_W}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="4 3">'
                f"<title>declared {key}: {bound * 1000:g} ms</title></line>"
            )
    parts.append(_axis_label(f"{top:.0f} ms", 12))
    parts.append(_axis_label(f"second {last}", _CHART_H - 4, x=_CHART_W - 70))
    caption = (
        f"latency per second, from the planned start (p50 green, p95 orange, p99 red; dashed: declared bounds; "
        f"top {top:.0f} ms)"
    )
    return _figure(parts, caption)


def spectrum_chart(data: dict[str, Any]) -> str:
    """Latency by percentile on the usual HdrHistogram axis (1/(1-p): 90 %, 99 %, 99.9 % evenly spaced)."""
    spectrum = [(p, ms) for p, ms in data.get("spectrum") or [] if p < 100]
    if not spectrum:
        return ""

    def x_of(percentile: float) -> float:
        return math.log10(1 / max(1 - percentile / 100, 1e-5))

    right = x_of(99.99)
    top = max(ms for _, ms in spectrum) * 1.1 or 1.0
    points = [(x_of(p) / right * _CHART_W, _CHART_H - ms / top * (_CHART_H - 10)) for p, ms in spectrum]
    parts = [_polyline(points, "#1565c0", "latency by percentile")]
    for tick in (50, 90, 99, 99.9, 99.99):
        x = x_of(tick) / right * _CHART_W
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{_CHART_H}" stroke="#ddd"/>'
            f'<text x="{min(max(x - 30, 0), _CHART_W - 45):.1f}" y="{_CHART_H - 4}" font-size="10" fill="#666">'
            f"p{tick:g}</text>"
        )
    parts.append(_axis_label(f"{top:.1f} ms", 12))
    return _figure(parts, f"latency by percentile (top {top:.1f} ms); every request, merged over the workers")


def histogram_chart(data: dict[str, Any]) -> str:
    """Requests per latency bar (1-2-5 steps), the declared p95 bound marked."""
    bars = data.get("bars") or []
    if not bars:
        return ""
    peak = max(count for _, count in bars) or 1
    width = _CHART_W / len(bars)
    parts = []
    previous = 0.0
    for index, (bound, count) in enumerate(bars):
        height = count / peak * (_CHART_H - 24)
        parts.append(
            f'<rect x="{index * width + 2:.1f}" y="{_CHART_H - 14 - height:.1f}" width="{width - 4:.1f}" '
            f'height="{height:.1f}" fill="#1565c0"><title>{previous:g} to {bound:g} ms: {count} requests</title></rect>'
            f'<text x="{index * width + 2:.1f}" y="{_CHART_H - 2}" font-size="9" fill="#666">{bound:g}</text>'
        )
        previous = bound
    p95 = (data.get("objectives") or {}).get("p95")
    if p95:
        index = next((i for i, (bound, _) in enumerate(bars) if p95 * 1000 <= bound), len(bars) - 1)
        parts.append(
            f'<line x1="{(index + 1) * width:.1f}" y1="0" x2="{(index + 1) * width:.1f}" y2="{_CHART_H - 14}" '
            f'stroke="#ef6c00" stroke-dasharray="4 3"><title>declared p95: {p95 * 1000:g} ms</title></line>'
        )
    return _figure(parts, "requests by latency (bar upper bounds in ms); dashed: the declared p95 bound")


def _figure(parts: list[str], caption: str) -> str:
    return (
        f'<figure><svg width="{_CHART_W}" height="{_CHART_H}" role="img" style="background:#fafafa">'
        f"{''.join(parts)}</svg><figcaption><small>{caption}</small></figcaption></figure>"
    )


def _charts(scenario: ScenarioRecord) -> str:
    charts = []
    for item in scenario.evidence:
        data = item.get("data")
        if not isinstance(data, dict):
            continue
        if item.get("type") == "TrafficReport":
            charts.append(_traffic_chart(data))
        if item.get("type") == "LoadResult":
            charts += [latency_chart(data), histogram_chart(data), spectrum_chart(data)]
        for result in data.get("results") or []:
            if isinstance(result, dict) and "samples" in result and "declared_capacity" in result:
                charts.append(_limit_chart(result))
    return "".join(charts)


def render_html(run: RunRecord) -> str:
    """A self-contained HTML report: verdict bar, one row per scenario, evidence on demand."""
    code = run.exit_code
    rows = []
    for scenario in run.scenarios:
        steps = "".join(
            f'<li class="{html.escape(step.outcome)}">{html.escape(step.text)} '
            f"<small>{step.outcome}, {step.duration_s * 1000:.0f} ms</small></li>"
            for step in scenario.steps
        )
        evidence = html.escape(json.dumps(scenario.evidence, indent=2))
        rows.append(
            f'<tr><td><span class="badge" style="background:{_COLOURS[scenario.verdict]}">'
            f"{scenario.verdict.value}</span></td>"
            f"<td>{html.escape(scenario.feature)}<br><small>{html.escape(scenario.feature_file)}:{scenario.line}</small></td>"
            f"<td>{html.escape(scenario.scenario)}<ol>{steps}</ol></td>"
            f"<td>{html.escape(scenario.failed_step or '')}<pre>{html.escape(scenario.message)}</pre>"
            f"{_charts(scenario)}"
            f"{('<p><small>cleanup ' + html.escape(scenario.cleanup) + '</small></p>') if scenario.cleanup else ''}"
            f"<details><summary>evidence ({len(scenario.evidence)})</summary><pre>{evidence}</pre></details></td>"
            f"<td>{scenario.duration_s:.2f} s</td></tr>"
        )
    errors = "".join(f"<li>{html.escape(error)}</li>" for error in [*run.collection_errors, *run.notes])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infragate: {html.escape(run.target)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 6px; vertical-align: top; text-align: left; }}
.badge {{ color: #fff; padding: 2px 8px; border-radius: 4px; white-space: nowrap; }}
pre {{ white-space: pre-wrap; font-size: 12px; margin: 4px 0; }}
li.failed {{ color: #c62828; font-weight: bold; }} small {{ color: #666; }}
</style></head><body>
<h1>{html.escape(run.target)}: {_EXIT_MEANING[code]} <small>(exit {code})</small></h1>
<p>Profile <code>{html.escape(run.profile)}</code>, started {_when(run.started_at)},
took {run.finished_at - run.started_at:.1f} s.</p>
{_verdict_bar(run)}
<ul>{errors}</ul>
<table><tr><th>verdict</th><th>feature</th><th>scenario and steps</th><th>failing step and detail</th><th>time</th></tr>
{"".join(rows)}
</table></body></html>
"""

"""The reports a person reads, written from a run record: the Markdown summary and report.html.

Beside them: evidence.json (the record itself), junit.xml (``junit``) and cucumber.json
(``cucumber``). They carry the verdicts, the failing step with "expected X, observed Y", and each
probe's evidence with its charts.
"""

from __future__ import annotations

import datetime
import html
import json
from pathlib import Path

from infragate.profile.secrets import REDACTOR
from infragate.reports.charts import charts_of
from infragate.reports.cucumber import render_cucumber
from infragate.reports.junit import render_junit
from infragate.reports.records import CUCUMBER_FILE, EVIDENCE_FILE, HTML_FILE, JUNIT_FILE, SUMMARY_FILE, RunRecord
from infragate.verdicts import Verdict


def write_reports(run: RunRecord, directory: Path) -> None:
    """Write evidence JSON, Markdown summary, HTML report, JUnit XML and Cucumber JSON into a run folder."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / EVIDENCE_FILE).write_text(run.to_json())
    (directory / JUNIT_FILE).write_text(REDACTOR.redact(render_junit(run)))
    (directory / CUCUMBER_FILE).write_text(REDACTOR.redact(render_cucumber(run)))
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


def _judged(checks: list[dict[str, str]]) -> str:
    """What a step judged: each promise's outcome, what was expected and what was observed."""
    rows = "".join(
        f"<li><b>{html.escape(check['outcome'])}</b> {html.escape(check['name'])}: expected "
        f"{html.escape(check['expected'])}; observed {html.escape(check['observed'])}</li>"
        for check in checks
    )
    return f'<ul class="checks">{rows}</ul>' if rows else ""


def render_html(run: RunRecord) -> str:
    """A self-contained HTML report: verdict bar, one row per scenario, evidence on demand."""
    code = run.exit_code
    rows = []
    for scenario in run.scenarios:
        steps = "".join(
            f'<li class="{html.escape(step.outcome)}">{html.escape(step.text)} '
            f"<small>{step.outcome}, {step.duration_s * 1000:.0f} ms</small>{_judged(step.checks)}</li>"
            for step in scenario.steps
        )
        evidence = html.escape(json.dumps(scenario.evidence, indent=2))
        rows.append(
            f'<tr><td><span class="badge" style="background:{_COLOURS[scenario.verdict]}">'
            f"{scenario.verdict.value}</span></td>"
            f"<td>{html.escape(scenario.feature)}<br><small>{html.escape(scenario.feature_file)}:{scenario.line}</small></td>"
            f"<td>{html.escape(scenario.scenario)}<ol>{steps}</ol></td>"
            f"<td>{html.escape(scenario.failed_step or '')}<pre>{html.escape(scenario.message)}</pre>"
            f"{charts_of(scenario)}"
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

"""The reports, written from a run record: the Markdown summary here, report.html (``html_report``).

Beside them: evidence.json (the record itself), junit.xml (``junit``), cucumber.json
(``cucumber``) and allure-results/ (``allure``). They carry the verdicts, the failing step with
"expected X, observed Y", and each probe's evidence with its charts.
"""

from __future__ import annotations

from pathlib import Path

from infragate.profile.secrets import REDACTOR
from infragate.reports.allure import write_allure
from infragate.reports.cucumber import render_cucumber
from infragate.reports.html_report import counts_in_words, render_html, when
from infragate.reports.junit import render_junit
from infragate.reports.records import (
    ALLURE_DIR,
    CUCUMBER_FILE,
    EVIDENCE_FILE,
    HTML_FILE,
    JUNIT_FILE,
    SUMMARY_FILE,
    RunRecord,
)
from infragate.verdicts import RUN_VERDICT


def write_reports(run: RunRecord, directory: Path) -> None:
    """Write evidence JSON, Markdown summary, HTML report, JUnit XML, Cucumber JSON and Allure results
    into a run folder."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / EVIDENCE_FILE).write_text(run.to_json())
    (directory / JUNIT_FILE).write_text(REDACTOR.redact(render_junit(run)))
    (directory / CUCUMBER_FILE).write_text(REDACTOR.redact(render_cucumber(run)))
    (directory / SUMMARY_FILE).write_text(REDACTOR.redact(render_markdown(run)))
    (directory / HTML_FILE).write_text(REDACTOR.redact(render_html(run)))
    write_allure(run, directory / ALLURE_DIR, REDACTOR.redact)


def mark_interrupted(directory: Path, reason: str) -> None:
    """A run folder's reports, when the suite wrote any, say that the run was interrupted (and so
    proves nothing): for a stop that came after the suite had written them."""
    evidence = directory / EVIDENCE_FILE
    if not evidence.exists():
        return
    run = RunRecord.from_json(evidence.read_text())
    if run.interrupted:
        return
    run.interrupt(reason)
    write_reports(run, directory)


def render_markdown(run: RunRecord) -> str:
    """A Markdown summary for a pull request, a chat message or a CI job page."""
    code = run.exit_code
    lines = [
        f"# infragate: {run.target}: {RUN_VERDICT[code]}"
        + (f" (interrupted by {run.interrupted}, exit {code})" if run.interrupted else f" (exit {code})"),
        "",
        f"Profile `{run.profile}`, started {when(run.started_at)}, took {run.finished_at - run.started_at:.1f} s.",
        "",
        f"{counts_in_words(run)}.",
        "",
    ]
    lines += [f"- collection error: {error}" for error in run.collection_errors]
    lines += [f"- note: {note}" for note in run.notes]
    lines += [f"- unmatched waiver: {waiver}" for waiver in run.unmatched_waivers]
    lines += ["", "| verdict | feature | scenario | step | detail |", "| --- | --- | --- | --- | --- |"]
    for scenario in sorted(run.scenarios, key=lambda found: -found.verdict.severity):  # what failed first
        detail = scenario.message.replace("|", "\\|").replace("\n", " ")
        detail = detail if len(detail) <= 300 else detail[:300].rstrip() + " …"
        if scenario.cleanup:
            detail = f"{detail} (cleanup {scenario.cleanup})".strip()
        lines.append(
            f"| {scenario.verdict.value} | {scenario.feature} | {scenario.scenario} | "
            f"{scenario.failed_step or ''} | {detail} |"
        )
    return "\n".join(lines) + "\n"

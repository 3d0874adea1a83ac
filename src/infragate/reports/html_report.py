"""report.html: what a person reads first is what needs looking at.

A headline verdict with the counts in words; then the scenarios that need attention (non-conformant
first, then could not verify, refused, bad usage), each with its failing step, expected beside
observed, the charts that explain it and its evidence summarised (raw JSON folded away); then the
conformant scenarios and those not applicable or not run, folded and grouped by feature. A filter
by verdict and tag works offline (a few lines of inline script); the page reads at 1400 px and on a
phone.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Iterable

from infragate.reports.charts import charts_of
from infragate.reports.records import RunRecord, ScenarioRecord, StepRecord
from infragate.verdicts import HELD_BACK, RUN_VERDICT, Verdict

COLOURS = {
    Verdict.CONFORMANT: "#2e7d32",
    Verdict.NON_CONFORMANT: "#c62828",
    Verdict.COULD_NOT_VERIFY: "#ef6c00",
    Verdict.INTERRUPTED: "#ad1457",
    Verdict.BAD_USAGE: "#6a1b9a",
    Verdict.NOT_APPLICABLE: "#757575",
    Verdict.NOT_RUN: "#9e9e9e",
    Verdict.REFUSED: "#283593",
    Verdict.WAIVED: "#8d6e63",
}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #f5f5f5; }
main { max-width: 1400px; margin: 0 auto; padding: 1.5em; }
h1 { margin: 0 0 .3em; } h2 { margin: 1.4em 0 .5em; } small, .meta { color: #666; }
.headline { font-size: 1.15em; margin: .2em 0 .8em; }
.badge { color: #fff; padding: 2px 8px; border-radius: 4px; white-space: nowrap; font-size: .85em; }
.bar { display: flex; height: 26px; border-radius: 4px; overflow: hidden; margin: .5em 0; }
.bar span { color: #fff; font-size: 12px; line-height: 26px; padding: 0 6px; white-space: nowrap; overflow: hidden; }
.filters { background: #fff; padding: .6em 1em; border-radius: 6px; display: flex; flex-wrap: wrap; gap: .4em 1.2em; }
article { background: #fff; border-radius: 6px; padding: 1em 1.2em; margin: .8em 0; border-left: 6px solid #999; }
article h3 { margin: 0 0 .4em; font-size: 1.05em; }
table.checks { border-collapse: collapse; width: 100%; margin: .4em 0; }
table.checks td, table.checks th { border-bottom: 1px solid #eee; padding: 4px 6px; text-align: left; }
pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; margin: 4px 0; background: #fafafa; }
details { margin: .4em 0; } summary { cursor: pointer; }
ul.scenarios { list-style: none; padding-left: .5em; } ul.scenarios li { margin: .3em 0; }
li.failed { color: #c62828; font-weight: bold; } ul.judged { font-weight: normal; color: #333; }
figure { margin: .6em 0; } figure svg { max-width: 100%; height: auto; }
@media (max-width: 700px) { main { padding: .6em; } article { padding: .7em; } h1 { font-size: 1.3em; } }
"""
_SCRIPT = """
function infragateFilter() {
  const shown = new Set([...document.querySelectorAll('input[name=verdict]:checked')].map(e => e.value));
  const tag = document.getElementById('tag').value.trim().replace(/^@/, '');
  document.querySelectorAll('[data-verdict]').forEach(el => {
    el.hidden = !(shown.has(el.dataset.verdict) && (!tag || el.dataset.tags.split(' ').includes(tag)));
  });
}
"""


def when(timestamp: float) -> str:
    """A moment as people read it, in UTC."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def counts_in_words(run: RunRecord) -> str:
    """E.g. "2 non-conformant, 1 could not verify and 20 conformant of 23 scenarios", worst first."""
    counts = run.counts()
    parts = [f"{counts[v.value]} {v.value}" for v in sorted(Verdict, key=lambda v: -v.severity) if counts.get(v.value)]
    if not parts:
        return "no scenario ran"
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"{listed} of {sum(counts.values())} scenarios"


def judged(checks: list[dict[str, str]]) -> str:
    """What a step judged: each promise's outcome, what was expected and what was observed."""
    rows = "".join(
        f"<li><b>{html.escape(check['outcome'])}</b> {html.escape(check['name'])}: expected "
        f"{html.escape(check['expected'])}; observed {html.escape(check['observed'])}</li>"
        for check in checks
    )
    return f'<ul class="judged">{rows}</ul>' if rows else ""


def _steps(steps: Iterable[StepRecord]) -> str:
    return (
        "<ol>"
        + "".join(
            f'<li class="{html.escape(step.outcome)}">{html.escape(step.text)} '
            f"<small>{step.outcome}, {step.duration_s * 1000:.0f} ms</small>{judged(step.checks)}</li>"
            for step in steps
        )
        + "</ol>"
    )


def _broken(scenario: ScenarioRecord) -> str:
    """The promises the failing steps did not keep, expected beside observed."""
    rows = "".join(
        f"<tr><td>{html.escape(step.text)}</td><td>{html.escape(check['expected'])}</td>"
        f"<td>{html.escape(check['observed'])}</td></tr>"
        for step in scenario.steps
        for check in step.checks
        if check["outcome"] == "not met"
    )
    head = "<tr><th>step</th><th>expected</th><th>observed</th></tr>"
    return f'<table class="checks">{head}{rows}</table>' if rows else ""


def _evidence(scenario: ScenarioRecord) -> str:
    kinds = [str(item.get("type", "?")) for item in scenario.evidence]
    if not kinds:
        return ""
    described = ", ".join(
        f"{kinds.count(kind)} x {kind}" if kinds.count(kind) > 1 else kind for kind in dict.fromkeys(kinds)
    )
    raw = html.escape(json.dumps(scenario.evidence, indent=2))
    return f"<details><summary>evidence: {html.escape(described)}</summary><pre>{raw}</pre></details>"


def _data(scenario: ScenarioRecord) -> str:
    tags = html.escape(" ".join(scenario.tags), quote=True)
    return f'data-verdict="{html.escape(scenario.verdict.value, quote=True)}" data-tags="{tags}"'


def _card(scenario: ScenarioRecord) -> str:
    colour = COLOURS[scenario.verdict]
    where = f"{html.escape(scenario.feature_file)}:{scenario.line} · {scenario.duration_s:.1f} s"
    step = f"<p>at <b>{html.escape(scenario.failed_step)}</b></p>" if scenario.failed_step else ""
    cleanup = f"<p><small>cleanup {html.escape(scenario.cleanup)}</small></p>" if scenario.cleanup else ""
    return (
        f'<article {_data(scenario)} style="border-left-color:{colour}">'
        f'<h3><span class="badge" style="background:{colour}">{scenario.verdict.value}</span> '
        f"{html.escape(scenario.feature)}: {html.escape(scenario.scenario)} <small>{where}</small></h3>"
        f"{step}{_broken(scenario)}<pre>{html.escape(scenario.message)}</pre>{charts_of(scenario)}{cleanup}"
        f"<details><summary>all steps</summary>{_steps(scenario.steps)}</details>{_evidence(scenario)}</article>"
    )


def _folded(title: str, scenarios: list[ScenarioRecord]) -> str:
    """Scenarios grouped by feature, each feature folded."""
    if not scenarios:
        return ""
    by_feature: dict[str, list[ScenarioRecord]] = {}
    for scenario in scenarios:
        by_feature.setdefault(scenario.feature or scenario.feature_file, []).append(scenario)
    groups = []
    for feature, members in by_feature.items():
        items = "".join(
            f'<li {_data(s)}><span class="badge" style="background:{COLOURS[s.verdict]}">{s.verdict.value}</span> '
            f"{html.escape(s.scenario)} <small>{html.escape(s.feature_file)}:{s.line} · {s.duration_s:.1f} s"
            f"{' · ' + html.escape(s.message) if s.message else ''}</small>"
            f"<details><summary>steps</summary>{_steps(s.steps)}{charts_of(s)}{_evidence(s)}</details></li>"
            for s in members
        )
        summary = f"<summary>{html.escape(feature)} ({len(members)})</summary>"
        groups.append(f'<details>{summary}<ul class="scenarios">{items}</ul></details>')
    return f"<section><h2>{title} ({len(scenarios)})</h2>{''.join(groups)}</section>"


def _bar(run: RunRecord) -> str:
    counts = run.counts()
    total = sum(counts.values()) or 1
    return (
        '<div class="bar" role="img" aria-label="verdicts">'
        + "".join(
            f'<span style="background:{COLOURS[v]};flex:{counts[v.value] / total:.4f}" '
            f'title="{counts[v.value]} {v.value}">{counts[v.value]} {v.value}</span>'
            for v in sorted(Verdict, key=lambda v: -v.severity)
            if counts.get(v.value)
        )
        + "</div>"
    )


def _filters(run: RunRecord) -> str:
    present = [v for v in sorted(Verdict, key=lambda v: -v.severity) if run.counts().get(v.value)]
    boxes = "".join(
        f'<label><input type="checkbox" name="verdict" value="{v.value}" checked onchange="infragateFilter()"> '
        f"{v.value}</label>"
        for v in present
    )
    return (
        f'<div class="filters">{boxes}<label>tag <input id="tag" size="12" placeholder="e.g. ratelimit" '
        'oninput="infragateFilter()"></label></div>'
    )


def render_html(run: RunRecord) -> str:
    """The self-contained page: headline, what needs attention, then the rest folded by feature."""
    code = run.exit_code
    attention = run.needing_attention()
    passed = [s for s in run.scenarios if s.verdict is Verdict.CONFORMANT]
    held = [s for s in run.scenarios if s.verdict in HELD_BACK]
    waived = [s for s in run.scenarios if s.verdict is Verdict.WAIVED]
    notes = "".join(
        f"<li>{html.escape(note)}</li>" for note in [*run.collection_errors, *run.notes, *run.unmatched_waivers]
    )
    waived_section = (
        f"<section><h2>Waived ({len(waived)})</h2>{''.join(_card(s) for s in waived)}</section>" if waived else ""
    )
    colour = COLOURS[_headline_verdict(code)]
    stopped = html.escape(f" (interrupted by {run.interrupted})") if run.interrupted else ""
    first = (
        f"<section><h2>Needs attention ({len(attention)})</h2>{''.join(_card(s) for s in attention)}</section>"
        if attention
        else "<section><h2>Needs attention (0)</h2><p>Nothing failed and nothing was left unverified.</p></section>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>infragate: {html.escape(run.target)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body><main>
<h1>{html.escape(run.target)}: <span style="color:{colour}">{RUN_VERDICT[code]}</span>{stopped}</h1>
<p class="headline">{counts_in_words(run)}; exit code {code}.</p>
<p class="meta">Profile <code>{html.escape(run.profile)}</code>, started {when(run.started_at)},
took {run.finished_at - run.started_at:.1f} s.</p>
{_bar(run)}{f"<ul>{notes}</ul>" if notes else ""}
{_filters(run)}
{first}
{waived_section}
{_folded("Conformant", passed)}
{_folded("Not applicable or not run", held)}
</main></body></html>
"""


def _headline_verdict(code: int) -> Verdict:
    return {
        0: Verdict.CONFORMANT,
        1: Verdict.NON_CONFORMANT,
        2: Verdict.COULD_NOT_VERIFY,
        3: Verdict.BAD_USAGE,
        4: Verdict.REFUSED,
    }[code]

"""The report of an ad hoc load run: objectives, latency over time, the percentile spectrum, per second."""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

from infragate.loadgen.result import LoadResult
from infragate.reports import evidence_of, histogram_chart, kinds_chart, latency_chart, spectrum_chart
from infragate.verdicts import Check, Outcome

LOAD_HTML = "load.html"
_COLOUR = {"met": "#2e7d32", "NOT MET": "#c62828", "skipped": "#757575"}


def verdict_word(check: Check) -> str:
    """How an objective's outcome is shown: met, NOT MET, or skipped (not judged)."""
    return {Outcome.MET: "met", Outcome.NOT_MET: "NOT MET", Outcome.NOT_JUDGED: "skipped"}[check.outcome]


LOAD_JSON = "load.json"


def write_load_report(result: LoadResult, checks: list[Check], title: str, folder: Path) -> Path:
    """Write load.json (every figure) and load.html into the run folder; the HTML's path."""
    data = evidence_of(result)["data"]
    (folder / LOAD_JSON).write_text(
        json.dumps({"checks": [dataclasses.asdict(check) for check in checks], "result": data}, indent=2),
        encoding="utf-8",
    )
    rows = "".join(
        f"<tr><td>{html.escape(check.name)}</td><td style='color:{_COLOUR[word]}'>{word}</td>"
        f"<td>{html.escape('' if check.met else check.explain())}</td></tr>"
        for check, word in ((check, verdict_word(check)) for check in checks)
    )
    seconds = "".join(
        f"<tr><td>{row.second}</td><td>{row.ended}</td><td>{row.errors}</td><td>{row.throttled}</td>"
        f"<td>{row.late}</td><td>{row.p50_ms:.1f}</td><td>{row.p95_ms:.1f}</td><td>{row.p99_ms:.1f}</td>"
        f"<td>{row.max_ms:.1f}</td><td>{row.cpu_share:.0%}</td></tr>"
        for row in result.seconds
    )
    kinds = "".join(
        f"<tr><td>{html.escape(row.kind)}</td><td>{row.started}</td><td>{row.ok}</td><td>{row.throttled}</td>"
        f"<td>{row.errors}</td></tr>"
        for row in result.per_kind
    )
    self_check = result.self_check_problem()
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infragate load: {html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }}
small {{ color: #666; }}
</style></head><body>
<h1>Load on {html.escape(title)}</h1>
<p>{html.escape(result.summary())}</p>
<p>Generator self-check: {html.escape(self_check) if self_check else "kept its schedule"}
<small>(max start lag {result.max_lag_s * 1000:.1f} ms, busiest process {result.cpu_share:.0%} of a core,
{result.plan.workers} worker(s), {result.connections} connection(s))</small></p>
<table><tr><th>objective</th><th>verdict</th><th>detail</th></tr>{rows}</table>
{latency_chart(data)}
{histogram_chart(data)}
{spectrum_chart(data)}
{kinds_chart(data)}
<h2>Per request kind</h2>
<table><tr><th>kind</th><th>started</th><th>ok</th><th>throttled</th><th>errors</th></tr>{kinds}</table>
<h2>Per second</h2>
<table><tr><th>s</th><th>ended</th><th>errors</th><th>throttled</th><th>late</th><th>p50 ms</th><th>p95 ms</th>
<th>p99 ms</th><th>max ms</th><th>cpu</th></tr>{seconds}</table>
</body></html>
"""
    path = folder / LOAD_HTML
    path.write_text(page, encoding="utf-8")
    return path

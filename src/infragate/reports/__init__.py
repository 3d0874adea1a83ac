"""Run records and the reports written from them.

``records``: what a run recorded (scenarios, steps, verdicts, evidence); ``charts``: the SVG
charts a result names; ``html_report``: report.html; ``junit``: junit.xml; ``cucumber``:
cucumber.json; ``allure``: allure-results/; ``pages``: the Markdown summary, and writing them all.
"""

from __future__ import annotations

from infragate.reports.charts import histogram_chart, kinds_chart, latency_chart, spectrum_chart
from infragate.reports.html_report import render_html
from infragate.reports.pages import render_markdown, write_reports
from infragate.reports.records import (
    ALLURE_DIR,
    CUCUMBER_FILE,
    EVIDENCE_FILE,
    HTML_FILE,
    JUNIT_FILE,
    SUMMARY_FILE,
    RunRecord,
    ScenarioRecord,
    StepRecord,
    evidence_of,
)

__all__ = [
    "ALLURE_DIR",
    "CUCUMBER_FILE",
    "EVIDENCE_FILE",
    "HTML_FILE",
    "JUNIT_FILE",
    "SUMMARY_FILE",
    "RunRecord",
    "ScenarioRecord",
    "StepRecord",
    "evidence_of",
    "histogram_chart",
    "kinds_chart",
    "latency_chart",
    "render_html",
    "render_markdown",
    "spectrum_chart",
    "write_reports",
]

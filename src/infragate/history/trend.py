"""The trend of each figure over a target's runs, and two kinds of finding. A regression is the
newest run worse than the median of the runs before it (the last `window` of them) by more than a
tolerance, in the figure's bad direction. A crossing is a figure still within the bound its profile
declares (the p95, the RTO, the least days a certificate has left) whose course, a least-squares
line through the newest run and the `window` before it over their dates, passes that bound within
`horizon` days. And the trend page, a line chart per figure with its findings marked."""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from infragate.history.store import Series
from infragate.reports.charts import BLUE, ORANGE, RED, chart_axes, chart_svg

WINDOW = 5  # runs the newest one is compared with
TOLERANCE = 0.10  # worse than their median by more than this share is a regression
HORIZON_DAYS = 7.0  # a course that crosses the declared bound within this many days is flagged
DAY_S = 86400.0


@dataclass(frozen=True)
class Regression:
    """A figure whose newest value is worse than its recent median by more than the tolerance."""

    name: str
    latest: float
    median: float
    unit: str
    runs: int  # how many earlier runs the median is of
    LABEL: ClassVar[str] = "regression"

    def line(self) -> str:
        """The regression in one line."""
        unit = _spaced(self.unit)
        return (
            f"{self.name}: {self.latest:g}{unit} in the newest run, the median of the {self.runs} runs before "
            f"it {self.median:g}{unit}"
        )


def regression_of(series: Series, window: int = WINDOW, tolerance: float = TOLERANCE) -> Regression | None:
    """The series' regression, or None (also when it has no earlier run to compare with)."""
    values = [point.value for point in series.points]
    if len(values) < 2:
        return None
    earlier = values[-1 - window : -1]
    median = statistics.median(earlier)
    worse = values[-1] - median if series.better == "lower" else median - values[-1]
    if worse <= 0:
        return None
    if median != 0 and worse / abs(median) <= tolerance:
        return None
    return Regression(series.name, values[-1], median, series.unit, len(earlier))


@dataclass(frozen=True)
class Crossing:
    """A figure within its declared bound today, on a course that passes the bound within the horizon."""

    name: str
    latest: float
    threshold: float
    per_day: float  # the course's slope, in the figure's unit a day
    projected: float  # where the course is at the end of the horizon
    horizon_days: float
    unit: str
    runs: int  # how many runs the course is fitted through
    LABEL: ClassVar[str] = "crossing"

    def line(self) -> str:
        """The crossing in one line."""
        unit = _spaced(self.unit)
        return (
            f"{self.name}: {self.latest:g}{unit} in the newest run, within its declared {self.threshold:g}{unit}, "
            f"but moving {self.per_day:+.3g}{unit} a day over the last {self.runs} runs: "
            f"{self.projected:.4g}{unit} in {self.horizon_days:g} days, past the bound"
        )


Finding = Regression | Crossing


def crossing_of(series: Series, window: int = WINDOW, horizon_days: float = HORIZON_DAYS) -> Crossing | None:
    """The series' crossing, or None: no declared bound, fewer than three runs or one date, already
    past the bound (the scenario's own check fails that run), or a course that stays within it."""
    points = series.points[-1 - window :]
    if series.threshold is None or len(points) < 3:
        return None
    days = [(point.started_at - points[-1].started_at) / DAY_S for point in points]
    if days[-1] - days[0] <= 0:
        return None
    values = [point.value for point in points]
    slope, intercept = statistics.linear_regression(days, values)
    projected = intercept + slope * horizon_days  # the newest run is day 0
    lower = series.better == "lower"
    within = values[-1] <= series.threshold if lower else values[-1] >= series.threshold
    passes = projected > series.threshold if lower else projected < series.threshold
    worsening = slope > 0 if lower else slope < 0
    if not (within and passes and worsening):
        return None
    return Crossing(series.name, values[-1], series.threshold, slope, projected, horizon_days, series.unit, len(points))


def regressions(
    every: Sequence[Series], window: int = WINDOW, tolerance: float = TOLERANCE, horizon_days: float = HORIZON_DAYS
) -> list[Finding]:
    """Every finding among the series, by name: the regression against the median, then the crossing."""
    found: list[Finding] = []
    for series in every:
        found.extend(
            finding
            for finding in (regression_of(series, window, tolerance), crossing_of(series, window, horizon_days))
            if finding is not None
        )
    return found


def _chart(series: Series, regression: Regression | None, crossing: Crossing | None) -> str:
    """A line chart of one figure, drawn as every other chart of the reports: runs along x (oldest
    left), the value up y in its unit, the declared bound as a line, the regression circled against
    the median it is worse than, a crossing named in the caption."""
    figure, axes = chart_axes()
    values = [point.value for point in series.points]
    runs = range(1, len(values) + 1)
    axes.plot(runs, values, color=BLUE, marker="o", markersize=3, label=series.name)
    caption = f"{series.name} over {len(values)} runs (oldest left): newest {values[-1]:g}{_spaced(series.unit)}"
    if series.threshold is not None:
        axes.axhline(series.threshold, color=ORANGE, linewidth=1.5, label=f"declared bound {series.threshold:g}")
        caption += f", declared bound {series.threshold:g}{_spaced(series.unit)}"
    if crossing is not None:
        caption += f", on course to pass it within {crossing.horizon_days:g} days ({crossing.per_day:+.3g} a day)"
    if regression is not None:
        axes.axhline(
            regression.median, color=RED, linestyle="--", linewidth=1, label=f"median of {regression.runs} before"
        )
        axes.plot([len(values)], [values[-1]], "o", markersize=9, markerfacecolor="none", color=RED, label="regression")
        caption += f", the median of the {regression.runs} runs before it {regression.median:g}{_spaced(series.unit)}"
    axes.set(xlabel=f"run (oldest left, {len(values)} runs)", ylabel=series.unit or _counted(series))
    axes.legend(loc="best", fontsize=8)
    return chart_svg(figure, caption).replace("<svg ", '<svg class="chart" ', 1)


def _spaced(unit: str) -> str:
    """A unit as it follows a value: " ms", or nothing for a figure without one."""
    return f" {unit}" if unit else ""


def _counted(series: Series) -> str:
    """The y axis of a figure without a unit: a count of scenarios, or a share."""
    return "scenarios" if series.name.startswith("scenarios") else "share"


def render_trend(target: str, every: Sequence[Series], found: Sequence[Finding]) -> str:
    """The trend page of a target: the findings first, then a chart per figure."""
    regressed = {finding.name: finding for finding in found if isinstance(finding, Regression)}
    crossing = {finding.name: finding for finding in found if isinstance(finding, Crossing)}
    listed = "".join(f"<li>{html.escape(finding.line())}</li>" for finding in found)
    head = f"<h2>Regressions ({len(found)})</h2>" + (f"<ul>{listed}</ul>" if found else "<p>None.</p>")

    def marks(name: str) -> str:
        return "".join(
            mark for mark, seen in ((" · regression", regressed), (" · crossing its bound", crossing)) if name in seen
        )

    charts = "".join(
        f"<section><h3>{html.escape(series.name)}{marks(series.name)}</h3>"
        f"{_chart(series, regressed.get(series.name), crossing.get(series.name))}</section>"
        for series in every
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>infragate trend: {html.escape(target)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} figure{margin:0} "
        "svg.chart{background:#fff;border:1px solid #ddd} "
        "section{display:inline-block;margin:0 1em 1em 0;vertical-align:top}</style>"
        f"</head><body><h1>infragate trend: {html.escape(target)}</h1>{head}{charts}</body></html>"
    )

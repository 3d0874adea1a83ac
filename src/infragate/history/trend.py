"""The trend of each figure over a target's runs: a regression is the newest run worse than the
median of the runs before it (the last `window` of them) by more than a tolerance, in the figure's
bad direction; and the trend page, a line chart per figure with its regression marked."""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from infragate.history.store import Series
from infragate.reports.charts import BLUE, RED, chart_axes, chart_svg

WINDOW = 5  # runs the newest one is compared with
TOLERANCE = 0.10  # worse than their median by more than this share is a regression


@dataclass(frozen=True)
class Regression:
    """A figure whose newest value is worse than its recent median by more than the tolerance."""

    name: str
    latest: float
    median: float
    unit: str
    runs: int  # how many earlier runs the median is of

    def line(self) -> str:
        """The regression in one line."""
        unit = f" {self.unit}" if self.unit else ""
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


def regressions(every: Sequence[Series], window: int = WINDOW, tolerance: float = TOLERANCE) -> list[Regression]:
    """Every regression among the series, by name."""
    return [found for series in every if (found := regression_of(series, window, tolerance)) is not None]


def _chart(series: Series, regression: Regression | None) -> str:
    """A line chart of one figure, drawn as every other chart of the reports: runs along x (oldest
    left), the value up y in its unit, the regression circled against the median it is worse than."""
    figure, axes = chart_axes()
    values = [point.value for point in series.points]
    runs = range(1, len(values) + 1)
    axes.plot(runs, values, color=BLUE, marker="o", markersize=3, label=series.name)
    caption = f"{series.name} over {len(values)} runs (oldest left): newest {values[-1]:g}{_unit(series)}"
    if regression is not None:
        axes.axhline(
            regression.median, color=RED, linestyle="--", linewidth=1, label=f"median of {regression.runs} before"
        )
        axes.plot([len(values)], [values[-1]], "o", markersize=9, markerfacecolor="none", color=RED, label="regression")
        caption += f", the median of the {regression.runs} runs before it {regression.median:g}{_unit(series)}"
    axes.set(xlabel=f"run (oldest left, {len(values)} runs)", ylabel=series.unit or _counted(series))
    axes.legend(loc="best", fontsize=8)
    return chart_svg(figure, caption).replace("<svg ", '<svg class="chart" ', 1)


def _unit(series: Series) -> str:
    return f" {series.unit}" if series.unit else ""


def _counted(series: Series) -> str:
    """The y axis of a figure without a unit: a count of scenarios, or a share."""
    return "scenarios" if series.name.startswith("scenarios") else "share"


def render_trend(target: str, every: Sequence[Series], found: Sequence[Regression]) -> str:
    """The trend page of a target: the regressions first, then a chart per figure."""
    flagged = {regression.name: regression for regression in found}
    listed = "".join(f"<li>{html.escape(regression.line())}</li>" for regression in found)
    head = f"<h2>Regressions ({len(found)})</h2>" + (f"<ul>{listed}</ul>" if found else "<p>None.</p>")
    charts = "".join(
        f"<section><h3>{html.escape(series.name)}{' · regression' if series.name in flagged else ''}</h3>"
        f"{_chart(series, flagged.get(series.name))}</section>"
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

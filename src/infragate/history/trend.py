"""The trend of each figure over a target's runs: a regression is the newest run worse than the
median of the runs before it (the last `window` of them) by more than a tolerance, in the figure's
bad direction; and the trend page, a line chart per figure with its regression marked."""

from __future__ import annotations

import html
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from infragate.history.store import Series

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


_W, _H, _LEFT, _BOTTOM = 520, 200, 64, 36


def _chart(series: Series, regression: Regression | None) -> str:
    """A line chart of one figure: runs along x (oldest left), the value up y, both axes labelled."""
    values = [point.value for point in series.points]
    low, high = min(values), max(values)
    span = (high - low) or (abs(high) or 1.0)
    low, high = low - span * 0.1, high + span * 0.1

    def x(index: int) -> float:
        return _LEFT + (_W - _LEFT - 12) * (index / max(len(values) - 1, 1))

    def y(value: float) -> float:
        return 12 + (_H - _BOTTOM - 12) * (1 - (value - low) / (high - low))

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3"/>' for i, v in enumerate(values))
    ticks = "".join(
        f'<text x="{_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.4g}</text>'
        f'<line x1="{_LEFT}" x2="{_W - 12}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
        for v in (low + (high - low) * k / 4 for k in range(5))
    )
    flag = ""
    if regression is not None:
        last = len(values) - 1
        flag = (
            f'<circle cx="{x(last):.1f}" cy="{y(values[-1]):.1f}" r="7" fill="none" stroke="#c62828" stroke-width="2"/>'
            f'<line x1="{_LEFT}" x2="{_W - 12}" y1="{y(regression.median):.1f}" y2="{y(regression.median):.1f}" '
            'stroke="#c62828" stroke-dasharray="4 3"/>'
        )
    # The y axis says what is counted; the chart's heading names the figure.
    axis = html.escape(series.unit or ("scenarios" if series.name.startswith("scenarios") else "share"))
    return (
        f'<svg class="chart" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" font-size="11" '
        f'role="img" aria-label="{html.escape(series.name)} over runs">{ticks}'
        f'<line x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - 12}" y2="{_H - _BOTTOM}" stroke="#333"/>'
        f'<line x1="{_LEFT}" y1="12" x2="{_LEFT}" y2="{_H - _BOTTOM}" stroke="#333"/>'
        f'<path d="{path}" fill="none" stroke="#1565c0" stroke-width="2"/><g fill="#1565c0">{dots}</g>{flag}'
        f'<text x="{(_W + _LEFT) / 2:.0f}" y="{_H - 6}" text-anchor="middle">'
        f"run (oldest left, {len(values)} runs)</text>"
        f'<text x="12" y="{(_H - _BOTTOM) / 2:.0f}" transform="rotate(-90 12 {(_H - _BOTTOM) / 2:.0f})" '
        f'text-anchor="middle">{axis}</text></svg>'
    )


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
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} svg.chart{background:#fff;"
        "border:1px solid #ddd} section{display:inline-block;margin:0 1em 1em 0;vertical-align:top}</style>"
        f"</head><body><h1>infragate trend: {html.escape(target)}</h1>{head}{charts}</body></html>"
    )

"""What `verify --history` and `infragate trend` do with the store: keep a run's figures and judge
the newest run of a target against its history; write the trend page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infragate.errors import UsageError
from infragate.history.figures import figures_of
from infragate.history.store import STORE_FILE, Series, append, series, targets
from infragate.history.trend import HORIZON_DAYS, TOLERANCE, WINDOW, Finding, regressions, render_trend
from infragate.reports.records import RunRecord

TREND_FILE = "trend.html"


@dataclass(frozen=True)
class Trend:
    """A target's figures over its runs, what regressed in the newest run, and where the page is."""

    target: str
    series: tuple[Series, ...]
    regressions: tuple[Finding, ...]  # regressions against the median, and courses crossing a bound
    page: Path


def keep_run(folder: Path, run: RunRecord, reports: Path) -> int:
    """Append a run's figures to the store; how many figures were kept."""
    found = figures_of(run)
    append(folder, run, found, reports)
    return len(found)


def trend(
    folder: Path,
    target: str | None = None,
    window: int = WINDOW,
    tolerance: float = TOLERANCE,
    page: Path | None = None,
    horizon_days: float = HORIZON_DAYS,
) -> Trend:
    """Judge the newest run of a target (the only one in the store when not named) and write its page."""
    if not (folder / STORE_FILE).is_file():
        raise UsageError(f"trend: no history in {folder} (verify --history {folder} keeps one)")
    known = targets(folder)
    if target is None:
        if len(known) != 1:
            listed = ", ".join(known) or "none"
            raise UsageError(f"trend: name a target with --target (the history holds runs of: {listed})")
        target = known[0]
    elif target not in known:
        raise UsageError(f"trend: the history in {folder} has no run of target '{target}'")
    every = tuple(series(folder, target))
    found = tuple(regressions(every, window, tolerance, horizon_days))
    written = page or folder / TREND_FILE
    written.write_text(render_trend(target, every, found))
    return Trend(target, every, found, written)

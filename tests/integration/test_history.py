"""`verify --history` against the real reference deployment: each run's figures are kept, the trend
page is written, and a figure worse than the history's median fails the gate when asked to."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from infragate.history.figures import Figure
from infragate.history.gate import trend
from infragate.history.store import STORE_FILE, append
from infragate.reports.records import RunRecord
from infragate.sandbox import local
from tests.conftest import run_cli
from tests.unit.test_history import _history

HEALTH = ("--features", "features/gateway/health.feature")


def test_each_run_is_kept_and_the_trend_page_written(reference: local.SandboxState, tmp_path: Path) -> None:
    history = tmp_path / "history"
    for attempt in range(2):
        reports = tmp_path / f"reports-{attempt}"
        arguments = ("verify", "--target", reference.profile, *HEALTH, "--history", str(history))
        run = run_cli(*arguments, "--reports", str(reports), reports=reports)
        assert run.code == 0, run.output
        assert f"infragate: history: 3 figures kept in {history}; trend page {history / 'trend.html'}" in run.output
    with sqlite3.connect(history / STORE_FILE) as connection:
        assert connection.execute("SELECT target, exit_code FROM runs").fetchall() == [("reference", 0)] * 2
    shown = run_cli("trend", "--history", str(history), reports=tmp_path)
    assert shown.code == 0, shown.output
    assert "infragate: trend of 'reference': 3 figures over 2 runs" in shown.output
    assert (history / "trend.html").read_text().count('<svg class="chart"') == 3


def test_a_regressed_figure_fails_the_gate_when_asked(reference: local.SandboxState, tmp_path: Path) -> None:
    history = tmp_path / "history"
    for night in range(5):  # five earlier nights on which three scenarios were conformant
        earlier = RunRecord("reference", "earlier.yaml", 1_700_000_000.0 + night * 86400)
        append(history, earlier, [Figure("scenarios conformant", 3.0, "", "higher")], tmp_path)
    arguments = ("verify", "--target", reference.profile, *HEALTH, "--history", str(history))
    run = run_cli(*arguments, "--fail-on-regression", "--reports", str(tmp_path / "r"), reports=tmp_path / "r")
    assert run.code == 1, run.output
    assert (
        "  regression        scenarios conformant: 1 in the newest run, the median of the 5 runs before it 3"
        in run.output
    )
    assert run.evidence()["notes"] == [
        "regression: scenarios conformant: 1 in the newest run, the median of the 5 runs before it 3"
    ]


def _screenshot(page: Path, shot: Path) -> Image.Image:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (scripts/browser.sh installs it)"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1240,2600",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and shot.exists(), done.stderr[-500:]
    return Image.open(shot).convert("RGB")


def _pixels(image: Image.Image, colour: tuple[int, int, int]) -> int:
    """How many pixels are within a few levels of a colour."""
    near = np.abs(np.asarray(image, dtype=np.int16) - np.array(colour, dtype=np.int16)) <= 12
    return int(near.all(axis=2).sum())


def test_the_trend_page_shows_its_charts_in_a_real_browser(tmp_path: Path) -> None:
    # Headless Chromium renders the page as people see it: the line of every chart is drawn (blue),
    # and the regression's circle and median (red) only where a drift was planted.
    for drift, folder in ((True, tmp_path / "drift"), (False, tmp_path / "steady")):
        _history(folder, drift)
        image = _screenshot(trend(folder).page, folder / "trend.png")
        assert _pixels(image, (0x15, 0x65, 0xC0)) > 10 * 400, "the charts' lines are not drawn"
        assert (_pixels(image, (0xC6, 0x28, 0x28)) > 100) is drift

"""Screenshots of the reports a person reads, taken by headless Chromium, and the checks that they
read at a glance: a failing run's report.html (a known-bad rate-limit variant) and a load run's
load.html, each at 1400 px and at phone width.

    bash scripts/setup.sh && uv run python scripts/report_screenshots.py [OUT]   (default: reports/screenshots)

Checked on the pages as Chromium rendered them (its DOM dump): the failures come before anything
that passed, and every chart has axes with tick labels. Needs Chromium (apt's `chromium`; installed
when missing). Takes about two minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from infragate.sandbox import local

VARIANT = "ratelimit-search-shares-api-zone"
SIZES = {"desktop": "1400,2600", "phone": "390,2600"}


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True)
        found = shutil.which("chromium")
    assert found, "no chromium"
    return found


def _shoot(chromium: str, page: Path, out: Path) -> str:
    """Screenshots at each size; the DOM as rendered."""
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    for name, size in SIZES.items():
        target = out / f"{page.stem}-{name}.png"
        subprocess.run(
            [*base, f"--window-size={size}", f"--screenshot={target}", page.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print(f"  {target}")
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True, timeout=120)
    return dom.stdout


def _charts_have_axes(dom: str) -> list[str]:
    """For every chart, its tick labels (numbers drawn as text); a chart without any fails the check."""
    charts = re.findall(r"<svg[^>]*role=\"img\".*?</svg>", dom, re.S)
    assert charts, "no chart on the page"
    found = []
    for chart in charts:
        ticks = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart) if re.fullmatch(r"[≤p]?[\d.]+", t.strip())]
        assert len(ticks) >= 3, f"a chart without tick labels: {chart[:200]}"
        found.append(", ".join(ticks[:6]))
    return found


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "reports/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    chromium = _chromium()
    state = local.up("screenshots", VARIANT)
    try:
        runs = out / "runs"
        verify = [sys.executable, "-m", "infragate", "verify", "--target", str(state.profile), "--reports", str(runs)]
        subprocess.run([*verify, "--features", "features/gateway/rate_limits.feature"], check=False)
        load = [
            sys.executable,
            "-m",
            "infragate",
            "load",
            "--target",
            str(state.profile),
            "--rate",
            "200",
            "--for",
            "10s",
            "--reports",
            str(runs),
        ]
        subprocess.run(load, check=False)
    finally:
        local.down("screenshots")
    report = max(runs.glob("*/report.html"), key=lambda path: path.stat().st_mtime)
    print(f"failing run: {report}")
    dom = _shoot(chromium, report, out)
    attention, rest = dom.split("<h2>Conformant", 1) if "<h2>Conformant" in dom else (dom, "")
    assert "non-conformant</span>" in attention.split("<h2>Needs attention", 1)[1], "no failure listed first"
    assert "non-conformant</span>" not in rest, "a failure below the passes"
    print("  failures come first: yes; chart ticks: " + " | ".join(_charts_have_axes(dom)))
    page = max(runs.glob("*/load.html"), key=lambda path: path.stat().st_mtime)
    print(f"load run: {page}")
    print("  chart ticks: " + " | ".join(_charts_have_axes(_shoot(chromium, page, out))))


if __name__ == "__main__":
    main()

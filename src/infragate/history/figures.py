"""The figures of a run worth following from night to night, read from its record: how many
scenarios got each verdict, the load's latency percentiles, throughput and errors, each
certificate's days left, each restore drill's time, each failover's recovery time. A figure the
profile bounds carries its bound (the declared p95, the RTO, the least days left), so that a trend
can tell when the figure is on course to cross it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from infragate.loadgen.histogram import decode, percentile_s
from infragate.loadgen.result import error_share, throughput_per_s
from infragate.reports.records import RunRecord

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Figure:
    """One measured figure: its name (stable from run to run), value, unit, which way is better, and
    the worst value the profile allows, when it bounds the figure."""

    name: str
    value: float
    unit: str
    better: Better
    threshold: float | None = None


def _bound(value: Any, scale: float = 1.0) -> float | None:
    return None if value is None else round(float(value) * scale, 6)


def _load(data: dict[str, Any]) -> list[Figure]:
    histogram = decode(data["histogram_text"])
    scheduled = max(int(data["scheduled"]), 1)
    counts = data["counts"]
    declared = data.get("objectives") or {}  # seconds, by "p95", "p99"
    figures = [
        Figure(
            f"load p{p}",
            round(percentile_s(histogram, p) * 1000, 3),
            "ms",
            "lower",
            _bound(declared.get(f"p{p}"), 1000),
        )
        for p in (50, 95, 99)
    ]
    throughput = throughput_per_s(counts, float(data["plan"]["duration_s"]))
    figures.append(Figure("load throughput", round(throughput, 3), "/s", "higher"))
    figures.append(Figure("load error ratio", round(error_share(counts, scheduled), 6), "", "lower"))
    return figures


def _of(kind: str, data: dict[str, Any]) -> list[Figure]:
    if kind == "LoadResult":
        return _load(data)
    if kind == "CertificateReport":
        days = round(float(data["days_left"]), 2)
        return [
            Figure(f"certificate days left {data['url']}", days, "days", "higher", _bound(data.get("min_days_valid")))
        ]
    if kind in ("DrillResult", "ClusterDrillResult") and data.get("restore_ok"):
        return [Figure("restore time", round(float(data["restore_s"]), 3), "s", "lower", _bound(data.get("rto_s")))]
    if kind == "KillResult" and data.get("back_after_s") is not None:
        return [
            Figure(
                f"failover recovery {data.get('service', '')}".strip(),
                round(float(data["back_after_s"]), 3),
                "s",
                "lower",
                _bound(data.get("recovery_time_s")),
            )
        ]
    return []


def figures_of(run: RunRecord) -> list[Figure]:
    """Every figure of a run: verdict counts, then those of its evidence (first of each name kept)."""
    counts = run.counts()
    followed: tuple[tuple[str, Better], ...] = (
        ("conformant", "higher"),
        ("non-conformant", "lower"),
        ("could not verify", "lower"),
    )
    found = [Figure(f"scenarios {verdict}", float(counts.get(verdict, 0)), "", better) for verdict, better in followed]
    seen = {figure.name for figure in found}
    for scenario in run.scenarios:
        for entry in scenario.evidence:
            if not isinstance(entry.get("data"), dict):
                continue
            for figure in _of(str(entry.get("type")), entry["data"]):
                if figure.name not in seen:
                    seen.add(figure.name)
                    found.append(figure)
    return found

"""Charts of evidence as inline SVG: traffic over a fault, a rate limit's admissions, load latency
per second, its histogram and its spectrum. A result names the charts that explain it."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

from infragate.reports.records import ScenarioRecord

_CHART_W, _CHART_H = 560, 140


def _traffic_chart(data: dict[str, Any]) -> str:
    """Requests per second during a disruption, failures in red, the fault window shaded."""
    seconds = data.get("seconds") or []
    if not seconds:
        return ""
    last = max(entry["second"] for entry in seconds) + 1
    peak = max(entry["sent"] for entry in seconds) or 1
    width = _CHART_W / last
    start, end = data.get("window", (0, 0))
    parts = [
        f'<rect x="{start * width:.1f}" y="0" width="{max(end - start, 0) * width:.1f}" height="{_CHART_H}" '
        f'fill="#fff3e0"><title>fault window</title></rect>'
    ]
    for entry in seconds:
        x = entry["second"] * width
        ok_height = (entry["sent"] - entry["failed"]) / peak * (_CHART_H - 20)
        bad_height = entry["failed"] / peak * (_CHART_H - 20)
        parts.append(
            f'<rect x="{x:.1f}" y="{_CHART_H - ok_height:.1f}" width="{width * 0.8:.1f}" '
            f'height="{ok_height:.1f}" fill="#2e7d32"><title>second {entry["second"]}: {entry["sent"]} sent, '
            f"{entry['failed']} failed, slowest {entry['worst_latency_ms']} ms</title></rect>"
        )
        if bad_height:
            parts.append(
                f'<rect x="{x:.1f}" y="{_CHART_H - ok_height - bad_height:.1f}" width="{width * 0.8:.1f}" '
                f'height="{bad_height:.1f}" fill="#c62828"></rect>'
            )
    caption = f"requests per second ({data['sent']} sent, {data['failed']} failed); shaded: the fault"
    return _figure(parts, caption)


def _limit_chart(result: dict[str, Any]) -> str:
    """Cumulative admitted requests over time against the declared capacity + rate line."""
    samples = result.get("samples") or []
    if not samples:
        return ""
    span = max(sample["sent_ms"] for sample in samples) or 1.0
    admitted, points = 0, []
    for sample in samples:
        if sample["status"] not in (429, 503, result["declared_status"], 0):
            admitted += 1
            points.append((sample["sent_ms"], admitted))
    declared_start = result["declared_capacity"]
    declared_end = declared_start + result["declared_rate_per_s"] * span / 1000
    top = max(admitted, declared_end, 1)
    scale_x, scale_y = _CHART_W / span, (_CHART_H - 10) / top
    line = " ".join(f"{t * scale_x:.1f},{_CHART_H - k * scale_y:.1f}" for t, k in points)
    parts = [
        f'<line x1="0" y1="{_CHART_H - declared_start * scale_y:.1f}" x2="{_CHART_W}" '
        f'y2="{_CHART_H - declared_end * scale_y:.1f}" stroke="#9e9e9e" stroke-dasharray="4 3"><title>declared: '
        f"capacity + rate x time</title></line>",
        f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="2"><title>admitted</title></polyline>',
    ]
    caption = (
        f"route {html.escape(result['route'])}: admitted requests over {span / 1000:.1f} s of overload (blue) "
        f"against the declaration (dashed)"
    )
    return _figure(parts, caption)


def _polyline(points: list[tuple[float, float]], colour: str, title: str) -> str:
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2">'
        f"<title>{html.escape(title)}</title></polyline>"
    )


def _axis_label(text: str, y: float, x: float = 4) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#666">{html.escape(text)}</text>'


def latency_chart(data: dict[str, Any]) -> str:
    """Latency percentiles per second of a load run (p50 green, p95 orange, p99 red), errors as red ticks."""
    seconds = data.get("seconds") or []
    if not seconds:
        return ""
    top = max(max(row["p99_ms"] for row in seconds), 1.0) * 1.1
    last = max(row["second"] for row in seconds)
    scale_x, scale_y = _CHART_W / max(last, 1), (_CHART_H - 10) / top
    parts = []
    for key, colour in (("p50_ms", "#2e7d32"), ("p95_ms", "#ef6c00"), ("p99_ms", "#c62828")):
        points = [(row["second"] * scale_x, _CHART_H - row[key] * scale_y) for row in seconds]
        parts.append(_polyline(points, colour, key.removesuffix("_ms")))
    for row in seconds:
        if row["errors"]:
            parts.append(
                f'<rect x="{row["second"] * scale_x - 2:.1f}" y="0" width="4" height="8" fill="#c62828">'
                f"<title>second {row['second']}: {row['errors']} errors</title></rect>"
            )
    objectives = data.get("objectives") or {}
    for key, colour in (("p95", "#ef6c00"), ("p99", "#c62828")):
        bound = objectives.get(key)
        if bound and bound * 1000 <= top:
            y = _CHART_H - bound * 1000 * scale_y
            parts.append(
                f'<line x1="0" y1="{y:.1f}" x2="{_CHART_W}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="4 3">'
                f"<title>declared {key}: {bound * 1000:g} ms</title></line>"
            )
    parts.append(_axis_label(f"{top:.0f} ms", 12))
    parts.append(_axis_label(f"second {last}", _CHART_H - 4, x=_CHART_W - 70))
    caption = (
        f"latency per second, from the planned start (p50 green, p95 orange, p99 red; dashed: declared bounds; "
        f"top {top:.0f} ms)"
    )
    return _figure(parts, caption)


def spectrum_chart(data: dict[str, Any]) -> str:
    """Latency by percentile on the usual HdrHistogram axis (1/(1-p): 90 %, 99 %, 99.9 % evenly spaced)."""
    spectrum = [(p, ms) for p, ms in data.get("spectrum") or [] if p < 100]
    if not spectrum:
        return ""

    def x_of(percentile: float) -> float:
        return math.log10(1 / max(1 - percentile / 100, 1e-5))

    right = x_of(99.99)
    top = max(ms for _, ms in spectrum) * 1.1 or 1.0
    points = [(x_of(p) / right * _CHART_W, _CHART_H - ms / top * (_CHART_H - 10)) for p, ms in spectrum]
    parts = [_polyline(points, "#1565c0", "latency by percentile")]
    for tick in (50, 90, 99, 99.9, 99.99):
        x = x_of(tick) / right * _CHART_W
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{_CHART_H}" stroke="#ddd"/>'
            f'<text x="{min(max(x - 30, 0), _CHART_W - 45):.1f}" y="{_CHART_H - 4}" font-size="10" fill="#666">'
            f"p{tick:g}</text>"
        )
    parts.append(_axis_label(f"{top:.1f} ms", 12))
    return _figure(parts, f"latency by percentile (top {top:.1f} ms); every request, merged over the workers")


def histogram_chart(data: dict[str, Any]) -> str:
    """Requests per latency bar (1-2-5 steps), the declared p95 bound marked."""
    bars = data.get("bars") or []
    if not bars:
        return ""
    peak = max(count for _, count in bars) or 1
    width = _CHART_W / len(bars)
    parts = []
    previous = 0.0
    for index, (bound, count) in enumerate(bars):
        height = count / peak * (_CHART_H - 24)
        parts.append(
            f'<rect x="{index * width + 2:.1f}" y="{_CHART_H - 14 - height:.1f}" width="{width - 4:.1f}" '
            f'height="{height:.1f}" fill="#1565c0"><title>{previous:g} to {bound:g} ms: {count} requests</title></rect>'
            f'<text x="{index * width + 2:.1f}" y="{_CHART_H - 2}" font-size="9" fill="#666">{bound:g}</text>'
        )
        previous = bound
    p95 = (data.get("objectives") or {}).get("p95")
    if p95:
        index = next((i for i, (bound, _) in enumerate(bars) if p95 * 1000 <= bound), len(bars) - 1)
        parts.append(
            f'<line x1="{(index + 1) * width:.1f}" y1="0" x2="{(index + 1) * width:.1f}" y2="{_CHART_H - 14}" '
            f'stroke="#ef6c00" stroke-dasharray="4 3"><title>declared p95: {p95 * 1000:g} ms</title></line>'
        )
    return _figure(parts, "requests by latency (bar upper bounds in ms); dashed: the declared p95 bound")


def _figure(parts: list[str], caption: str) -> str:
    return (
        f'<figure><svg width="{_CHART_W}" height="{_CHART_H}" role="img" style="background:#fafafa">'
        f"{''.join(parts)}</svg><figcaption><small>{caption}</small></figcaption></figure>"
    )


def _limit_charts(data: dict[str, Any]) -> str:
    """One admissions chart per measured route of a survey (or of a single measurement)."""
    results = data.get("results") if "results" in data else [data]
    return "".join(
        _limit_chart(result)
        for result in results or []
        if isinstance(result, dict) and "samples" in result and "declared_capacity" in result
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "traffic": _traffic_chart,
    "latency": latency_chart,
    "histogram": histogram_chart,
    "spectrum": spectrum_chart,
    "rate-limit": _limit_charts,
}


def charts_of(scenario: ScenarioRecord) -> str:
    """Every chart the evidence of a scenario names, in the order the evidence was kept."""
    charts = []
    for item in scenario.evidence:
        data = item.get("data")
        if isinstance(data, dict):
            charts += [RENDERERS[name](data) for name in item.get("charts", ()) if name in RENDERERS]
    return "".join(charts)

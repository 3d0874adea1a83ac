"""Charts of evidence, drawn with matplotlib into inline SVG with its text kept as text (tick labels
and legends can be read, searched and checked): traffic through a fault, a rate limit's admissions
and rejections, load latency per second, its histogram, its spectrum, the answers per request
kind, and an alert drill's timeline. Every chart has axes with units, a legend, the declared bounds
inside its range, and a caption with the key figures that is also its text alternative. A result names the charts that
explain it (its ``CHARTS``)."""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infragate.reports.records import ScenarioRecord

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not by every command that imports reports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GREEN, ORANGE, RED, BLUE, GREY = "#2e7d32", "#ef6c00", "#c62828", "#1565c0", "#616161"


def chart_axes() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 2.8), dpi=72)
    axes = figure.add_subplot()
    axes.grid(alpha=0.3)
    return figure, axes


def chart_svg(figure: Figure, caption: str) -> str:
    """The figure as inline SVG in a <figure>, its caption also its text alternative."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": caption}):  # text stays text
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :].replace("<svg ", f'<svg role="img" aria-label="{html.escape(caption)}" ', 1)
    return f"<figure>{svg}<figcaption><small>{html.escape(caption)}</small></figcaption></figure>"


def _traffic_chart(data: dict[str, Any]) -> str:
    """Requests per second during a disruption, failures stacked in red, the fault window shaded."""
    seconds = data.get("seconds") or []
    if not seconds:
        return ""
    figure, axes = chart_axes()
    start, end = data.get("window", (0, 0))
    axes.axvspan(start, end, color="#ffe0b2", label="fault window")
    at = [entry["second"] for entry in seconds]
    answered = [entry["sent"] - entry["failed"] for entry in seconds]
    axes.bar(at, answered, width=0.8, align="edge", color=GREEN, label="answered")
    axes.bar(at, [e["failed"] for e in seconds], bottom=answered, width=0.8, align="edge", color=RED, label="failed")
    axes.set(xlabel="second of the run", ylabel="requests per second")
    axes.legend(loc="lower right", fontsize=8)
    caption = (
        f"requests per second: {data['sent']} sent, {data['failed']} failed; the fault from {start:.1f} s "
        f"to {end:.1f} s (shaded)"
    )
    return chart_svg(figure, caption)


def _limit_chart(result: dict[str, Any]) -> str:
    """Admitted and rejected requests over the overload, beside the declared capacity + rate line."""
    samples = [sample for sample in result.get("samples") or [] if sample["status"] != 0]
    if not samples:
        return ""
    refusing = {429, 503, result["declared_status"]}
    counted: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
    for sample in samples:
        kept = counted[sample["status"] not in refusing]
        kept.append((sample["sent_ms"] / 1000, len(kept) + 1))
    span = max(sample["sent_ms"] for sample in samples) / 1000 or 1.0
    capacity, rate = result["declared_capacity"], result["declared_rate_per_s"]
    figure, axes = chart_axes()
    for admitted, colour, label in ((True, BLUE, "admitted"), (False, RED, "rejected")):
        if counted[admitted]:
            times, totals = zip(*counted[admitted], strict=True)
            axes.step(times, totals, where="post", color=colour, label=label)
    axes.plot(
        [0, span], [capacity, capacity + rate * span], "--", color=GREY, label=f"declared: {capacity:g} + {rate:g}/s"
    )
    axes.set(xlabel="seconds of overload", ylabel="requests so far", xlim=(0, span))
    axes.legend(loc="upper left", fontsize=8)
    caption = (
        f"route {result['route']}: {len(counted[True])} admitted and {len(counted[False])} rejected of "
        f"{len(samples)} answered requests over {span:.1f} s at {result['offered_per_s']:g}/s; declared "
        f"{rate:g}/s with {capacity:g} at once"
    )
    return chart_svg(figure, caption)


def latency_chart(data: dict[str, Any]) -> str:
    """Latency percentiles per second of a load run, the declared bounds, errors on a second axis."""
    rows = data.get("seconds") or []
    if not rows:
        return ""
    figure, axes = chart_axes()
    at = [row["second"] for row in rows]
    for key, colour in (("p50_ms", GREEN), ("p95_ms", ORANGE), ("p99_ms", RED)):
        axes.plot(at, [row[key] for row in rows], color=colour, label=key.removesuffix("_ms"))
    objectives = data.get("objectives") or {}
    top = max(row["p99_ms"] for row in rows)
    for key, colour in (("p95", ORANGE), ("p99", RED)):
        if objectives.get(key):
            axes.axhline(objectives[key] * 1000, color=colour, linestyle="--", label=f"declared {key}")
            top = max(top, objectives[key] * 1000)
    axes.set(xlabel="second of the run", ylabel="latency (ms)", ylim=(0, top * 1.15 or 1))
    low = min((row["p50_ms"] for row in rows if row["p50_ms"] > 0), default=0.0)
    if low and top > 20 * max(row["p99_ms"] for row in rows):  # far-off bounds would flatten the lines
        from matplotlib.ticker import FuncFormatter

        axes.set_yscale("log")
        axes.set_ylim(low / 1.5, top * 1.5)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.set_ylabel("latency (ms, log scale)")
    errors = [row["errors"] for row in rows]
    if any(errors):
        twin = axes.twinx()
        twin.bar(at, errors, color=RED, alpha=0.25, label="errors")
        twin.set_ylabel("errors per second")
    axes.legend(loc="upper left", fontsize=8, ncols=3)
    worst = max(rows, key=lambda row: row["p99_ms"])
    caption = (
        f"latency per second from the planned start: p99 at most {worst['p99_ms']:.1f} ms (second "
        f"{worst['second']}), {sum(errors)} errors"
        + "".join(f"; declared {key} {objectives[key] * 1000:g} ms" for key in ("p95", "p99") if objectives.get(key))
    )
    return chart_svg(figure, caption)


def histogram_chart(data: dict[str, Any]) -> str:
    """Requests per latency bar (1-2-5 steps) with their counts, the declared p95 bound marked."""
    bars = data.get("bars") or []
    if not bars:
        return ""
    figure, axes = chart_axes()
    positions = list(range(len(bars)))
    drawn = axes.bar(positions, [count for _, count in bars], color=BLUE, label="requests")
    axes.bar_label(drawn, fontsize=7)
    axes.set_xticks(positions, [f"≤{bound:g}" for bound, _ in bars], fontsize=8)
    axes.set(xlabel="latency (ms, upper bound of each bar)", ylabel="requests")
    p95 = (data.get("objectives") or {}).get("p95")
    if p95:
        index = next((i for i, (bound, _) in enumerate(bars) if p95 * 1000 <= bound), len(bars) - 1)
        axes.axvline(index + 0.5, color=ORANGE, linestyle="--", label=f"declared p95 {p95 * 1000:g} ms")
    axes.legend(loc="upper right", fontsize=8)
    total = sum(count for _, count in bars)
    caption = f"{total} requests by latency; the most in the bar up to {max(bars, key=lambda bar: bar[1])[0]:g} ms"
    return chart_svg(figure, caption + (f"; declared p95 {p95 * 1000:g} ms" if p95 else ""))


def spectrum_chart(data: dict[str, Any]) -> str:
    """Latency by percentile on the usual HdrHistogram axis (90 %, 99 %, 99.9 % evenly spaced)."""
    spectrum = [(p, ms) for p, ms in data.get("spectrum") or [] if p < 100]
    if not spectrum:
        return ""

    def x_of(percentile: float) -> float:
        return math.log10(1 / max(1 - percentile / 100, 1e-5))

    figure, axes = chart_axes()
    axes.plot([x_of(p) for p, _ in spectrum], [ms for _, ms in spectrum], color=BLUE, label="latency")
    ticks = (50, 90, 99, 99.9, 99.99)
    axes.set_xticks([x_of(tick) for tick in ticks], [f"p{tick:g}" for tick in ticks])
    axes.set(xlabel="percentile", ylabel="latency (ms)", xlim=(0, x_of(99.99)))
    axes.legend(loc="upper left", fontsize=8)
    figures = ", ".join(f"p{p:g} {ms:.1f} ms" for p, ms in spectrum if p in (50, 99, 99.9))
    return chart_svg(figure, f"latency by percentile, every request merged over the workers: {figures}")


def kinds_chart(data: dict[str, Any]) -> str:
    """Answers per request kind of the mix: ok, throttled and errors stacked, with their counts."""
    rows = [(row["kind"], row["ok"], row["throttled"], row["errors"]) for row in data.get("per_kind") or []]
    if not rows:
        return ""
    figure, axes = chart_axes()
    figure.set_figheight(max(1.6, 0.55 * len(rows) + 1.0))
    positions = list(range(len(rows)))
    left = [0] * len(rows)
    for column, colour, label in ((1, GREEN, "ok"), (2, ORANGE, "throttled"), (3, RED, "errors")):
        values = [row[column] for row in rows]
        drawn = axes.barh(positions, values, left=left, color=colour, label=label)
        axes.bar_label(drawn, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, [row[0] for row in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set(xlabel="requests", ylabel="request kind")
    axes.legend(loc="lower right", fontsize=8, ncols=3)
    caption = "answers per request kind: " + "; ".join(
        f"{name} {ok + throttled + errors} ({throttled} throttled, {errors} errors)"
        for name, ok, throttled, errors in rows
    )
    return chart_svg(figure, caption)


def _limit_charts(data: dict[str, Any]) -> str:
    """One admissions chart per measured route of a survey (or of a single measurement)."""
    results = data.get("results") if "results" in data else [data]
    return "".join(
        _limit_chart(result)
        for result in results or []
        if isinstance(result, dict) and "samples" in result and "declared_capacity" in result
    )


def drill_chart(data: dict[str, Any]) -> str:
    """An alert drill's timeline: each event at its second after the fault, the outage shaded, the
    declared time to notification as a line."""
    timeline = [(str(name), float(at)) for name, at in data.get("timeline") or []]
    if not timeline:
        return ""
    figure, axes = chart_axes()
    ended = dict(timeline).get("fault ended")
    limit = float(data.get("notify_within_s") or 0)
    last = max([at for _, at in timeline] + [limit])
    axes.axvspan(0, ended if ended is not None else last, color="#ffe0b2", label=f"{data.get('component')} stopped")
    rows = list(range(len(timeline)))
    axes.scatter([at for _, at in timeline], rows, color=BLUE, zorder=3, label="event seen")
    axes.set_yticks(rows, [name for name, _ in timeline], fontsize=8)
    axes.invert_yaxis()
    if limit:
        axes.axvline(limit, color=RED, linestyle="--", label=f"declared: notified within {limit:g} s")
    axes.set(xlabel="seconds after the fault", xlim=(-0.5, last * 1.05 + 0.5))
    axes.legend(loc="lower right", fontsize=8)
    caption = f"Alert drill {data.get('alert')}: " + ", ".join(f"{name} at {at:.1f} s" for name, at in timeline)
    return chart_svg(figure, caption)


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "traffic": _traffic_chart,
    "latency": latency_chart,
    "histogram": histogram_chart,
    "spectrum": spectrum_chart,
    "kinds": kinds_chart,
    "rate-limit": _limit_charts,
    "alert-drill": drill_chart,
}


def charts_of(scenario: ScenarioRecord) -> str:
    """Every chart the evidence of a scenario names, in the order the evidence was kept."""
    charts = []
    for item in scenario.evidence:
        data = item.get("data")
        if isinstance(data, dict):
            charts += [RENDERERS[name](data) for name in item.get("charts", ()) if name in RENDERERS]
    return "".join(charts)

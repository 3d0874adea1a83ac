"""Charts read as charts: axes with units and tick labels, a legend, the declared bounds inside the
range, and a caption with the key figures that is also the text alternative."""

from __future__ import annotations

import re
from typing import Any

from infragate.reports.charts import RENDERERS

TRAFFIC = {
    "seconds": [{"second": s, "sent": 20, "failed": 3 if s == 4 else 0, "worst_latency_ms": 9.0} for s in range(10)],
    "window": [3.5, 5.0],
    "sent": 200,
    "failed": 3,
}
# An nginx limit of 100/s with 20 at once, overloaded at 300/s for 2 s: what it admits, then rejects.
SAMPLES = [
    {"intended_ms": t * 10 / 3, "sent_ms": t * 10 / 3, "status": 200 if t < 21 or t % 3 == 0 else 429, "latency_ms": 1}
    for t in range(600)
]
LIMIT = {
    "route": "api",
    "declared_status": 429,
    "declared_capacity": 21,
    "declared_rate_per_s": 100,
    "offered_per_s": 300,
    "samples": SAMPLES,
}
LOAD = {
    "seconds": [
        {"second": s, "p50_ms": 2.0, "p95_ms": 9.0, "p99_ms": 20.0 + s, "errors": 1 if s == 5 else 0} for s in range(10)
    ],
    "objectives": {"p95": 0.2, "p99": 0.5},
    "bars": [[1, 120], [2, 800], [5, 60], [10, 15], [20, 4]],
    "spectrum": [[50, 2.0], [90, 6.0], [99, 21.0], [99.9, 29.0]],
}


def _texts(svg: str) -> list[str]:
    return [text.strip() for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if text.strip()]


def _render(name: str, data: dict[str, Any]) -> tuple[list[str], str]:
    svg = RENDERERS[name](data)
    assert svg.startswith("<figure><svg") and 'role="img"' in svg
    caption = re.search(r"<figcaption><small>(.*)</small></figcaption>", svg, re.S)
    assert caption is not None and f'aria-label="{caption.group(1)}"' in svg  # the text alternative
    return _texts(svg), caption.group(1)


def test_traffic_through_a_fault() -> None:
    texts, caption = _render("traffic", TRAFFIC)
    assert {"second of the run", "requests per second", "answered", "failed", "fault window"} <= set(texts)
    assert {"0", "5", "10", "15", "20"} <= set(texts)  # tick labels
    assert caption == "requests per second: 200 sent, 3 failed; the fault from 3.5 s to 5.0 s (shaded)"


def test_a_rate_limit_draws_rejections_beside_admissions_and_the_declaration() -> None:
    texts, caption = _render("rate-limit", {"results": [LIMIT]})
    assert {"seconds of overload", "requests so far", "admitted", "rejected", "declared: 21 + 100/s"} <= set(texts)
    assert {"0.00", "0.50", "1.00", "1.50", "0", "100", "200"} <= set(texts)
    assert caption.startswith("route api: 214 admitted and 386 rejected of 600 answered requests over 2.0 s at 300/s")


def test_load_latency_keeps_the_declared_bounds_in_range() -> None:
    texts, caption = _render("latency", LOAD)
    assert {"latency (ms)", "declared p95", "declared p99", "errors per second", "p50", "p95", "p99"} <= set(texts)
    assert max(float(t) for t in texts if re.fullmatch(r"\d+", t)) >= 500  # the 500 ms bound is on the scale
    assert (
        caption == "latency per second from the planned start: p99 at most 29.0 ms (second 9), 1 errors; "
        "declared p95 200 ms; declared p99 500 ms"
    )


def test_the_histogram_shows_its_counts_and_the_spectrum_its_percentiles() -> None:
    texts, caption = _render("histogram", LOAD)
    assert {"120", "800", "60", "15", "4", "≤1", "≤20", "declared p95 200 ms", "requests"} <= set(texts)
    assert caption == "999 requests by latency; the most in the bar up to 2 ms; declared p95 200 ms"
    texts, caption = _render("spectrum", LOAD)
    assert {"p50", "p99", "p99.9", "percentile", "latency (ms)"} <= set(texts)
    assert caption.endswith("p50 2.0 ms, p99 21.0 ms, p99.9 29.0 ms")


def test_answers_per_request_kind_show_throttling_and_errors_apart() -> None:
    data = {
        "per_kind": [
            {"kind": "browse", "started": 700, "ok": 700, "throttled": 0, "errors": 0},
            {"kind": "login", "started": 100, "ok": 60, "throttled": 40, "errors": 0},
            {"kind": "search", "started": 200, "ok": 197, "throttled": 0, "errors": 3},
        ]
    }
    texts, caption = _render("kinds", data)
    assert {"request kind", "requests", "ok", "throttled", "errors", "browse", "login", "search"} <= set(texts)
    assert {"700", "197", "3", "60", "40"} <= set(texts)  # each segment's count on its bar
    assert caption == (
        "answers per request kind: browse 700 (0 throttled, 0 errors); login 100 (40 throttled, 0 errors); "
        "search 200 (0 throttled, 3 errors)"
    )


def test_latency_far_below_its_bounds_is_drawn_on_a_log_scale_with_plain_tick_labels() -> None:
    rows = [{"second": s, "p50_ms": 1.4, "p95_ms": 1.9, "p99_ms": 2.3, "errors": 0} for s in range(10)]
    fast = {**LOAD, "seconds": rows}
    texts, _ = _render("latency", fast)
    assert "latency (ms, log scale)" in texts
    assert {"1", "10", "100"} <= set(texts)  # decades, written as numbers
    assert max(float(t) for t in texts if re.fullmatch(r"\d+", t)) >= 100  # the bounds stay on the scale


def test_an_alert_drill_shows_each_event_against_the_declared_time() -> None:
    drill = {
        "alert": "RedisDown",
        "component": "redis",
        "notify_within_s": 15.0,
        "timeline": [["fault", 0.0], ["pending", 1.1], ["firing", 3.1], ["delivered", 4.2], ["fault ended", 4.3]],
    }
    texts, caption = _render("alert-drill", drill)
    assert {"seconds after the fault", "fault", "pending", "firing", "delivered", "fault ended"} <= set(texts)
    assert {"redis stopped", "declared: notified within 15 s", "0", "10"} <= set(texts)  # the bound in range
    assert caption == (
        "Alert drill RedisDown: fault at 0.0 s, pending at 1.1 s, firing at 3.1 s, delivered at 4.2 s, "
        "fault ended at 4.3 s"
    )

"""Latency histograms: HdrHistogram in microseconds, three significant digits (0.1 % resolution).

Every process records into histograms of the same shape, so merging them is exact: the merge of
per-worker histograms is the histogram of the union of their samples.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS = 3


def new_histogram() -> HdrHistogram:
    """An empty latency histogram of the shape every infragate process uses."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_seconds(histogram: HdrHistogram, seconds: float) -> None:
    """Record one latency, clamped into the histogram's range."""
    histogram.record_value(min(max(int(seconds * 1_000_000), LOWEST_US), HIGHEST_US))


def encode(histogram: HdrHistogram) -> str:
    """The histogram as compressed base64 text, for messages and files."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode(text: str) -> HdrHistogram:
    """A histogram from ``encode``'s text."""
    decoded: HdrHistogram = HdrHistogram.decode(text.encode("ascii"))
    return decoded


def merged(texts: list[str]) -> HdrHistogram:
    """The exact merge of encoded histograms."""
    total = new_histogram()
    for text in texts:
        total.add(decode(text))
    return total


def percentile_s(histogram: HdrHistogram, percentile: float) -> float:
    """A percentile in seconds (0.0 for an empty histogram)."""
    if histogram.get_total_count() == 0:
        return 0.0
    value: int = histogram.get_value_at_percentile(percentile)
    return value / 1_000_000

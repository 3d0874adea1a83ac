"""A load plan: what to offer, to whom, for how long; shared by the parent and every Locust process."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import math
from dataclasses import dataclass

PLAN_ENV = "INFRAGATE_LOAD_PLAN"
OUT_ENV = "INFRAGATE_LOAD_OUT"
RAW_ENV = "INFRAGATE_LOAD_RAW"


@dataclass(frozen=True)
class LoadPlan:
    """Everything a load run needs; serialised as JSON into the Locust processes' environment."""

    base_url: str
    rate_per_s: float
    duration_s: float
    mix: dict[str, float]
    workers: int = 1
    arrivals: str = "uniform"  # or "poisson"
    seed: int = 1
    timeout_s: float = 30.0
    # Responses that arrive this long after the schedule's end still count towards throughput.
    grace_s: float = 1.0
    late_after_s: float = 0.010
    max_in_flight: int = 2000
    sources: tuple[str, ...] = ()
    ca_bundle: str | None = None
    throttle_statuses: tuple[int, ...] = (429,)
    headers: tuple[tuple[str, str], ...] = ()
    user_class: str | None = None

    @property
    def requests(self) -> int:
        """How many requests the whole schedule holds."""
        return max(1, math.floor(self.rate_per_s * self.duration_s + 1e-9))

    def to_json(self) -> str:
        """The plan as one line of JSON."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LoadPlan:
        """A plan from ``to_json``'s output."""
        data = json.loads(text)
        data["sources"] = tuple(data.get("sources") or ())
        data["throttle_statuses"] = tuple(data.get("throttle_statuses") or (429,))
        data["headers"] = tuple(tuple(pair) for pair in data.get("headers") or ())
        return cls(**data)


def expand_sources(spec: str | list[str] | None) -> tuple[str, ...]:
    """Source addresses from "127.0.0.10-127.0.0.29", a comma list, or a YAML list."""
    if not spec:
        return ()
    items = spec if isinstance(spec, list) else [part.strip() for part in spec.split(",") if part.strip()]
    found: list[str] = []
    for item in items:
        first, _, last = item.partition("-")
        start = ipaddress.ip_address(first.strip())
        end = ipaddress.ip_address(last.strip()) if last else start
        if end.version != start.version or int(end) < int(start) or int(end) - int(start) > 4096:
            raise ValueError(f"an address range low-high of at most 4097 addresses, not {item!r}")
        found.extend(str(start + offset) for offset in range(int(end) - int(start) + 1))
    return tuple(found)


def smooth_cycle(weights: dict[str, float]) -> tuple[str, ...]:
    """One cycle of smooth weighted round-robin: each kind in its exact share, evenly interleaved."""
    scaled = {name: round(weight * 1000) for name, weight in weights.items() if weight > 0}
    divisor = math.gcd(*scaled.values()) if scaled else 1
    integral = {name: value // divisor for name, value in scaled.items()}
    total = sum(integral.values())
    current = dict.fromkeys(integral, 0)
    cycle: list[str] = []
    for _ in range(total):
        for name, weight in integral.items():
            current[name] += weight
        chosen = max(current, key=lambda name: current[name])
        current[chosen] -= total
        cycle.append(chosen)
    return tuple(cycle)


@dataclass(frozen=True)
class SourceRotation:
    """Which source address sends the n-th request of a run: each kind of the mix takes every source
    in turn on its own, so no kind leaves from one address more often than from another.

    Taking sources in plain turn (n mod sources) ties kinds to addresses whenever the cycle's length
    and the number of sources share a factor: with the reference's 100-long cycle and 20 sources,
    every login left from the same address, at 20 times its share of that client's limit.
    """

    # For each position of the mix's cycle: how many of its kind a cycle holds, its rank among
    # them, and its kind's order (so that the kinds start on different sources).
    places: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, cycle: tuple[str, ...]) -> SourceRotation:
        """The rotation for a mix's cycle (``smooth_cycle``)."""
        counts = {name: cycle.count(name) for name in dict.fromkeys(cycle)}
        order = {name: index for index, name in enumerate(counts)}
        seen = dict.fromkeys(counts, 0)
        places = []
        for name in cycle:
            places.append((counts[name], seen[name], order[name]))
            seen[name] += 1
        return cls(tuple(places))

    def source(self, n: int, sources: int) -> int:
        """The index of the source for request n (the n whose kind is the cycle's n-th, modulo its length)."""
        turn, position = divmod(n, len(self.places))
        per_cycle, rank, offset = self.places[position]
        return (turn * per_cycle + rank + offset) % sources

"""Open-loop traffic: every request starts at its intended time, whatever the server does.

A closed loop of users waits for each answer before the next request, so a slow or stalled server
is sent less traffic and its slowness hides (coordinated omission). Here a dispatcher starts each
planned request at its time on an asyncio loop, with as many connections as needed, and records
the time it was meant to start, the time it really started, and the latency from the intended
start.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from infragate import collector
from infragate.errors import ProbeError
from infragate.probes.silence import SILENT

KEPT_HEADERS = (
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-replica",
    "server",
)
START_MARGIN_S = 0.05


@dataclass(frozen=True)
class PlannedRequest:
    """One request of a schedule."""

    at_s: float
    method: str
    path: str
    stream: str = "main"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class RequestOutcome:
    """What happened to one planned request."""

    stream: str
    intended_s: float
    sent_s: float
    latency_s: float
    status: int
    error: str | None
    headers: tuple[tuple[str, str], ...]

    @property
    def start_lag_s(self) -> float:
        """How late the request started against its intended time."""
        return self.sent_s - self.intended_s

    def header(self, name: str) -> str | None:
        """A kept response header, by lower-case name."""
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True)
class TrafficRecording:
    """Every outcome of a schedule, in intended-time order."""

    outcomes: tuple[RequestOutcome, ...]
    wall_start: float
    duration_s: float

    def stream(self, name: str) -> tuple[RequestOutcome, ...]:
        """The outcomes of one stream."""
        return tuple(outcome for outcome in self.outcomes if outcome.stream == name)

    def late_starts(self, threshold_s: float = 0.010) -> int:
        """Requests the generator could not start within threshold of their intended time."""
        return sum(1 for outcome in self.outcomes if outcome.start_lag_s > threshold_s)


def steady(rate_per_s: float, duration_s: float, start_s: float = 0.0) -> list[float]:
    """Intended start times of a constant-rate stream."""
    count = round(rate_per_s * duration_s)
    return [start_s + index / rate_per_s for index in range(count)]


def ssl_context(ca_bundle: Path | None, verify: bool) -> ssl.SSLContext:
    """The TLS context probes use: the profile's CA bundle, or the system store."""
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def run_schedule(
    base_url: str,
    plan: Sequence[PlannedRequest],
    *,
    context: ssl.SSLContext,
    timeout_s: float,
    max_in_flight: int = 512,
) -> TrafficRecording:
    """Send every planned request at its intended time; bounded by the plan's span plus one timeout."""
    if not plan:
        raise ProbeError("an empty traffic plan was asked for")
    SILENT.refuse_if_silent(base_url)
    ordered = sorted(plan, key=lambda request: request.at_s)
    wall_start = time.time()
    with collector.paused():  # a collection of a big process would start requests late
        outcomes = asyncio.run(_run(base_url, ordered, context, timeout_s, max_in_flight))
    return TrafficRecording(
        tuple(sorted(outcomes, key=lambda outcome: outcome.intended_s)),
        wall_start,
        ordered[-1].at_s + timeout_s if outcomes else 0.0,
    )


async def _run(
    base_url: str, plan: list[PlannedRequest], context: ssl.SSLContext, timeout_s: float, max_in_flight: int
) -> list[RequestOutcome]:
    loop = asyncio.get_running_loop()
    sources = sorted({request.source for request in plan}, key=str)
    sessions: dict[str | None, aiohttp.ClientSession] = {}
    client_timeout = aiohttp.ClientTimeout(total=timeout_s)
    for source in sources:
        connector = aiohttp.TCPConnector(ssl=context, limit=max_in_flight, local_addr=(source, 0) if source else None)
        sessions[source] = aiohttp.ClientSession(
            base_url,
            connector=connector,
            timeout=client_timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )
    gate = asyncio.Semaphore(max_in_flight)
    origin = loop.time() + START_MARGIN_S
    tasks = []
    try:
        for request in plan:
            delay = origin + request.at_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(sessions[request.source], request, origin, gate)))
        return list(await asyncio.gather(*tasks))
    finally:
        for session in sessions.values():
            await session.close()


async def _one(
    session: aiohttp.ClientSession, request: PlannedRequest, origin: float, gate: asyncio.Semaphore
) -> RequestOutcome:
    loop = asyncio.get_running_loop()
    async with gate:
        sent = loop.time() - origin
        status, error = 0, None
        kept: tuple[tuple[str, str], ...] = ()
        try:
            async with session.request(
                request.method, request.path, headers=dict(request.headers), data=request.body, allow_redirects=False
            ) as response:
                await response.read()
                status = response.status
                kept = tuple(
                    (key.lower(), value) for key, value in response.headers.items() if key.lower() in KEPT_HEADERS
                )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        finished = loop.time() - origin
    return RequestOutcome(request.stream, request.at_s, sent, finished - request.at_s, status, error, kept)


class BackgroundTraffic:
    """Steady open-loop traffic in a thread, from start() until stop() (or its time cap), with marks.

    Marks name moments ("fault", "recovered") on the same clock as the requests, so that verdicts
    can be taken per window: before the fault, during it, after it.
    """

    def __init__(
        self,
        base_url: str,
        template: PlannedRequest,
        rate_per_s: float,
        max_duration_s: float,
        *,
        context: ssl.SSLContext,
        timeout_s: float,
    ) -> None:
        self._base_url = base_url
        self._template = template
        self._rate = rate_per_s
        self._cap = max_duration_s
        self._context = context
        self._timeout = timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._origin: float | None = None
        self._outcomes: list[RequestOutcome] = []
        self._error: BaseException | None = None
        self.marks: dict[str, float] = {}
        self._recording: TrafficRecording | None = None

    def start(self) -> BackgroundTraffic:
        """Begin sending; returns once the first request is due."""
        started = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(started,), name="infragate-traffic", daemon=True)
        self._thread.start()
        started.wait(timeout=5)
        return self

    @property
    def rate_per_s(self) -> float:
        """The rate this traffic offers."""
        return self._rate

    def now(self) -> float:
        """Seconds on the traffic's clock."""
        return time.monotonic() - (self._origin or time.monotonic())

    def mark(self, name: str) -> None:
        """Name this moment."""
        self.marks[name] = self.now()

    def stop(self) -> TrafficRecording:
        """Stop sending, wait for answers in flight, and return everything (the same object every call)."""
        if self._recording is None:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(timeout=self._timeout + 10)
            if self._error is not None:
                raise ProbeError(f"background traffic failed: {self._error}")
            outcomes = tuple(sorted(self._outcomes, key=lambda outcome: outcome.intended_s))
            self._recording = TrafficRecording(outcomes, time.time(), self.now())
        return self._recording

    def _main(self, started: threading.Event) -> None:
        try:
            asyncio.run(self._send(started))
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self._error = exc
            started.set()

    async def _send(self, started: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(ssl=self._context, limit=256)
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(
            self._base_url, connector=connector, timeout=timeout, auto_decompress=False
        ) as session:
            gate = asyncio.Semaphore(256)
            origin = loop.time() + START_MARGIN_S
            self._origin = time.monotonic() + START_MARGIN_S
            started.set()
            tasks = []
            index = 0
            while not self._stop.is_set():
                at = index / self._rate
                if at > self._cap:
                    break
                delay = origin + at - loop.time()
                if delay > 0:
                    await asyncio.sleep(min(delay, 0.05))
                    continue
                request = PlannedRequest(
                    at,
                    self._template.method,
                    self._template.path,
                    "steady",
                    self._template.headers,
                    self._template.body,
                )
                tasks.append(asyncio.create_task(_one(session, request, origin, gate)))
                index += 1
            self._outcomes = list(await asyncio.gather(*tasks))

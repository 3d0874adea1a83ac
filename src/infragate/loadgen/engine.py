"""The load engine inside a Locust process: open-model arrivals, latency from the intended start.

A scenario is a Locust user class deriving from ``OpenModelUser`` whose methods, marked with
``@kind("name")``, build the request of one kind; the profile's mix weighs the kinds. Locust
gives the processes, the master/worker wiring and the messaging; the schedule, the HTTP client
and the measurement are ours, because a closed loop of users hides a slow server (its users
wait, so requests that should have been sent during a stall never are).

Every worker runs one user. That user starts each request at its planned time in its own
greenlet, whatever the server does, measures from the planned time into an HdrHistogram, and
sends the master one message a second (an interval histogram and counters) and one at the end.
The master (or the single local process) appends them as JSON lines to the file the parent reads.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import gevent
import gevent.lock
from gevent.monkey import get_original
from locust import User, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from infragate import collector
from infragate.loadgen.connection import Closed, Connection, Pool, Stale, TimedOut
from infragate.loadgen.histogram import encode
from infragate.loadgen.plan import OUT_ENV, PLAN_ENV, RAW_ENV, LoadPlan, SourceRotation, smooth_cycle
from infragate.loadgen.tally import Tally

INTERVAL_S = 1.0
TIMER_LATE_S = 0.0011  # how late gevent's timer fires at most
_real_sleep = get_original("time", "sleep")  # the process is monkey-patched: time.sleep yields to gevent
_KIND_ATTRIBUTE = "_infragate_kind"
MESSAGE = "infragate"
IDEMPOTENT = (b"GET ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ")  # sent again after a stale connection
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Request:
    """One request a scenario asks for."""

    method: str
    path: str
    body: bytes | str = b""
    headers: tuple[tuple[str, str], ...] = ()


def kind(name: str) -> Callable[[F], F]:
    """Mark a user method as the builder of one request kind of the mix: ``def browse(self, n) -> Request``."""

    def mark(function: F) -> F:
        setattr(function, _KIND_ATTRIBUTE, name)
        return function

    return mark


class OpenModelUser(User):
    """Base of load scenarios: one instance per worker runs that worker's share of the schedule."""

    abstract = True
    kinds: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                if callable(member) and hasattr(member, _KIND_ATTRIBUTE):
                    found[getattr(member, _KIND_ATTRIBUTE)] = name
        cls.kinds = found

    @task
    def _offer_the_schedule(self) -> None:
        plan = LoadPlan.from_json(os.environ[PLAN_ENV])
        runner = self.environment.runner
        worker = max(getattr(runner, "worker_index", 0), 0)
        try:
            _Schedule(self, plan, worker).run(runner.send_message)
        except Exception as error:  # the parent turns it into a clear one-line error
            runner.send_message(MESSAGE, {"type": "error", "worker": worker, "message": str(error)})
            print(f"infragate: {type(error).__name__}: {error}", file=sys.stderr)
            gevent.spawn_later(0.1, runner.quit)
            raise StopUser() from error
        if not isinstance(runner, WorkerRunner):  # a single process ends itself; a master ends on the finals
            gevent.spawn_later(0.1, runner.quit)
        raise StopUser()


class _Schedule:
    """One worker's share of the plan: arrivals worker, worker + W, worker + 2W, ... of the whole schedule."""

    def __init__(self, user: OpenModelUser, plan: LoadPlan, worker: int) -> None:
        self.user = user
        self.plan = plan
        self.worker = worker
        missing = sorted(set(plan.mix) - set(user.kinds))
        if missing:
            raise ValueError(
                f"the mix names {', '.join(missing)}, which {type(user).__name__} does not define "
                f"(it defines {', '.join(sorted(user.kinds)) or 'no kind'})"
            )
        self.cycle = smooth_cycle(plan.mix)
        self.rotation = SourceRotation.of(self.cycle)
        self.builders = {name: getattr(user, method) for name, method in user.kinds.items()}
        self.pool = Pool(plan)
        self.tally = Tally()
        self.slots = gevent.lock.BoundedSemaphore(plan.max_in_flight)
        self.host_header = urlsplit(plan.base_url).netloc
        self.raw: list[tuple[float, float]] | None = [] if os.environ.get(RAW_ENV) else None
        self.deadlines: dict[Any, float] = {}
        self.encoded: dict[Request, bytes] = {}
        self.start = 0.0
        self.window_end = 0.0
        self.sequence = 0
        self.interval_cpu = self.interval_wall = 0.0

    def arrival_times(self) -> list[float]:
        """Offsets from the start of this worker's arrivals."""
        plan = self.plan
        total = plan.requests
        if plan.arrivals == "poisson":
            rng = random.Random(plan.seed)
            times, now = [], 0.0
            for _ in range(total):
                now += rng.expovariate(plan.rate_per_s)
                times.append(now)
            times = [t * plan.duration_s / now for t in times]  # exactly the declared count and duration
        else:
            times = [index / plan.rate_per_s for index in range(total)]
        return times[self.worker :: plan.workers]

    def encode_request(self, index: int) -> tuple[str, bytes, bool]:
        name = self.cycle[index % len(self.cycle)]
        request: Request = self.builders[name](index)
        cached = self.encoded.get(request)
        if cached is None:
            cached = self._encode(request)
            if len(self.encoded) < 10_000:  # scenarios with endless distinct requests just encode each
                self.encoded[request] = cached
        return name, cached, request.method == "HEAD"

    def _encode(self, request: Request) -> bytes:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host_header}", "User-Agent: infragate-load"]
        lines += [f"{key}: {value}" for key, value in (*self.plan.headers, *request.headers)]
        if body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def run(self, send: Callable[..., None]) -> None:
        times = self.arrival_times()
        self._warm_up(times)
        with collector.paused():  # the reporter collects what the schedule makes, once a second
            self._offer(times, send)

    def _offer(self, times: list[float], send: Callable[..., None]) -> None:
        plan = self.plan
        sources = plan.sources
        self.start = time.perf_counter() + 0.05
        self.sequence = 0
        self.interval_cpu, self.interval_wall = time.process_time(), time.perf_counter()
        self.window_end = self.start + plan.duration_s + plan.grace_s
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        reporter = gevent.spawn(self._report_every_second, send)
        watchdog = gevent.spawn(self._time_out_requests)
        greenlets = []
        position = 0
        global_index = self.worker
        while position < len(times):
            now = time.perf_counter()
            due = self.start + times[position]
            if due > now:
                self._wait(due - now)
                continue
            while position < len(times) and self.start + times[position] <= now:
                intended = self.start + times[position]
                lag = now - intended
                self.tally.max_lag_s = max(self.tally.max_lag_s, lag)
                self.tally.interval_max_lag_s = max(self.tally.interval_max_lag_s, lag)
                if lag > plan.late_after_s:
                    self.tally.interval_counts["late"] += 1
                source = sources[self.rotation.source(global_index, len(sources))] if sources else None
                if not self.slots.acquire(blocking=False):
                    self.tally.interval_counts["held_back"] += 1  # the generator's own in-flight cap: it waits
                    self.slots.acquire()
                greenlets.append(gevent.spawn(self._one, global_index, intended, source))
                position += 1
                global_index += plan.workers
                now = time.perf_counter()
            if len(greenlets) > 4096:
                greenlets = [greenlet for greenlet in greenlets if not greenlet.dead]
        gevent.joinall(greenlets, timeout=plan.timeout_s + 5)
        for greenlet in greenlets:
            if not greenlet.dead:
                greenlet.kill(block=False)
                self.tally.interval_counts["unfinished"] += 1
        reporter.kill()
        watchdog.kill()
        self.pool.close()
        if self.tally.interval_latencies_us or self.tally.interval_counts:
            self._send_interval(send)
        tally = self.tally
        send(
            MESSAGE,
            {
                "type": "final",
                "worker": self.worker,
                "scheduled": len(times),
                "counts": dict(tally.counts),
                "statuses": {str(code): count for code, count in tally.statuses.items()},
                "kinds": dict(tally.kinds),
                "outcomes": {name: dict(counter) for name, counter in tally.outcomes.items()},
                "errors": dict(tally.errors.most_common(10)),
                "max_lag_s": tally.max_lag_s,
                "cpu_s": time.process_time() - cpu_start,
                "wall_s": time.perf_counter() - wall_start,
                "connections": self.pool.opened,
                "histogram": encode(tally.total),
            },
        )
        if self.raw is not None:
            path = f"{os.environ[RAW_ENV]}.{self.worker}.json"
            # The planned start in wall-clock time, so a benchmark can line samples up with a server's log.
            start_wall = time.time() - (time.perf_counter() - self.start)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"start_wall": start_wall, "samples": self.raw}, handle)

    def _wait(self, lead: float) -> None:
        """Sleep until the next start. gevent's timers fire a whole millisecond late at worst (about
        0.6 ms on average): a start is slept towards on the loop's timer until it is near; the rest
        with the real sleep when no request is in flight (nothing to read meanwhile), else awake in
        the loop's idle phase, which reads the answers that come."""
        if lead > TIMER_LATE_S:
            gevent.sleep(min(lead - TIMER_LATE_S, 0.05))
        elif self.slots.counter == self.plan.max_in_flight:
            _real_sleep(lead)
        else:
            gevent.idle()  # answers in flight are read meanwhile: the loop polls without sleeping

    def _warm_up(self, times: list[float]) -> None:
        """Before the clock starts: the connections the first second needs are open (TLS handshakes
        done), and the first cycle of the mix is encoded. No request is sent."""
        plan = self.plan
        per_worker = plan.rate_per_s / plan.workers
        sources: list[str | None] = [*plan.sources] or [None]
        wanted = min(plan.max_in_flight, 64, int(per_worker / len(sources) / 100) + 4)
        self.pool.warm(sources, wanted, budget_s=2.0)
        for position in range(min(len(times), len(self.cycle))):
            self.encode_request(self.worker + position * plan.workers)

    def _one(self, index: int, intended: float, source: str | None) -> None:
        tally = self.tally
        name, data, head_only = self.encode_request(index)
        tally.kinds[name] += 1
        connection: Connection | None = None
        status = 0
        me = gevent.getcurrent()
        self.deadlines[me] = intended + self.plan.timeout_s
        try:
            connection = self.pool.take(source)
            # Counted in the interval it is sent in: opening the connection may have yielded across
            # the interval's end, and a count kept in the interval taken then would be lost.
            tally.interval_counts["sent"] += 1
            try:
                status = connection.exchange(data, head_only)
            except Stale:
                if not data.startswith(IDEMPOTENT):
                    raise
                connection.close()
                tally.interval_counts["resent_stale"] += 1
                connection = self.pool.fresh(source)
                status = connection.exchange(data, head_only)
        except TimedOut:
            tally.errors["timeout"] += 1
        except Closed as error:
            tally.errors[str(error)] += 1  # our own wording; the class name would mean nothing to a reader
        except (OSError, ValueError) as error:
            tally.errors[type(error).__name__ + ": " + str(error)[:80]] += 1
        finally:
            del self.deadlines[me]
        ended = time.perf_counter()
        latency = ended - intended
        counts = tally.interval_counts  # a new interval may have begun while the request ran
        tally.interval_latencies_us[int(latency * 1_000_000)] += 1
        if self.raw is not None:
            self.raw.append((intended - self.start, latency))
        if status and connection is not None:
            tally.statuses[status] += 1
            self.pool.give_back(source, connection)
        elif connection is not None:
            connection.close()
        self.slots.release()  # after the connection is back, so the next request can reuse it
        if status and status < 400:
            outcome = "ok"
            if ended <= self.window_end:
                counts["ok_in_window"] += 1
        elif status in self.plan.throttle_statuses:
            outcome = "throttled"
        else:
            outcome = "errors"
        counts[outcome] += 1
        per_kind = tally.outcomes.get(name)
        if per_kind is None:
            per_kind = tally.outcomes[name] = Counter()
        per_kind[outcome] += 1

    def _time_out_requests(self) -> None:
        while True:
            gevent.sleep(0.25)
            now = time.perf_counter()
            for greenlet, deadline in list(self.deadlines.items()):
                if deadline < now:
                    greenlet.kill(TimedOut(), block=False)

    def _report_every_second(self, send: Callable[..., None]) -> None:
        while True:
            gevent.sleep(max(0.0, self.start + (self.sequence + 1) * INTERVAL_S - time.perf_counter()))
            self._send_interval(send)
            gc.collect()  # automatic collections are off; what is not frozen is small and quick to scan

    def _send_interval(self, send: Callable[..., None]) -> None:
        """Send what ended since the last interval (the last one of a run may be shorter than a second)."""
        self.sequence += 1
        now_cpu, now_wall = time.process_time(), time.perf_counter()
        # Taken before sending: sending may yield, and requests ending meanwhile go to the next interval.
        interval, counts, max_lag = self.tally.take_interval()
        send(
            MESSAGE,
            {
                "type": "interval",
                "worker": self.worker,
                "second": self.sequence,
                "counts": dict(counts),
                "max_lag_s": max_lag,
                "cpu_share": (now_cpu - self.interval_cpu) / max(now_wall - self.interval_wall, 1e-6),
                "histogram": encode(interval),
            },
        )
        self.interval_cpu, self.interval_wall = now_cpu, now_wall


# Master side (or the single local process): write every message as a JSON line for the parent.

_finals: set[int] = set()


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(OUT_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def _on_message(environment: Any, msg: Any, **_: Any) -> None:
    data = msg.data
    _write(data)
    if data.get("type") == "final":
        _finals.add(int(data["worker"]))
        plan = LoadPlan.from_json(os.environ[PLAN_ENV])
        if isinstance(environment.runner, MasterRunner) and len(_finals) >= plan.workers:
            gevent.spawn_later(0.1, environment.runner.quit)


@events.init.add_listener  # type: ignore[untyped-decorator]
def _register(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if runner is not None and not type(runner).__name__.startswith("Worker"):
        runner.register_message(MESSAGE, _on_message)

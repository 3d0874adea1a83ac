"""Benchmark: infragate's load engine beside wrk and stock Locust, in one run.

1. Capacity on one core: the same nginx endpoint (pinned to the other core), hit by wrk (-t1 -c50),
   vegeta (-rate=0, 50 workers), stock Locust FastHttpUser (its best of 10 and 50 users, no wait)
   and infragate's engine (saturated), each pinned to core 0. Requests per second and the ratios.
2. A 1-second server stall in a 10-second run at 200 requests/s: the true p95, computed from the
   server's own log alone (its arrivals, its answer times and the stall window: an open population
   at 200/s from its first arrival), beside the p95 infragate reports and the p95 stock Locust
   reports (200 users at 1 request/s each, closed loop).
3. Percentile resolution: reported p50/p95/p99 against the exact ones from the raw samples.
4. Two workers: merged percentiles against those of the union of both workers' raw samples.
5. A constant rate of 500, 2000 and 8000 requests/s for 10 s against the nginx endpoint: the
   engine's late starts and its p50/p95/p99 beside vegeta's (its constant-rate attack), each
   pinned to core 0, same endpoint, same duration. (k6 is AGPL-3.0 and marked not to use here.)

Run: `bash scripts/bench-tools.sh` once (wrk, testssl.sh, vegeta), then `uv run python bench/load.py`
(about 3 minutes).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infragate.loadgen.histogram import new_histogram, percentile_s, record_seconds
from infragate.loadgen.plan import LoadPlan
from infragate.loadgen.result import LoadResult
from infragate.loadgen.runner import run_load
from infragate.safety import Consent
from infragate.sandbox.binaries import find

# The benchmark offers load only to the servers it starts itself, on 127.0.0.1.
BENCH_CONSENT = Consent(load=True)

SCENARIO = """
from infragate.loadgen.engine import OpenModelUser, Request, kind


class Plain(OpenModelUser):
    @kind("get")
    def get(self, n):
        return Request("GET", "/")
"""

STOCK = """
from locust import FastHttpUser, constant_throughput, task


class Stock(FastHttpUser):
    wait_time = constant_throughput({per_user})

    @task
    def get(self):
        self.client.get("/")
"""

STALL_SERVER = """
import asyncio, json, sys, time
from aiohttp import web

log = sys.argv[2]
state = {"first": None, "requests": []}


async def handle(request):
    now = time.time()
    if state["first"] is None:
        state["first"] = now
        state["window"] = (now + 4.0, now + 5.0)
    start, end = state["window"]
    if start <= now < end:
        await asyncio.sleep(end - now)
    state["requests"].append((now, time.time()))  # arrival, answer: the server's own clock
    return web.Response(text="ok")


async def write_log(app):
    start, end = state.get("window", (0, 0))
    with open(log, "w") as handle:
        json.dump({"stall_start": start, "stall_end": end, "requests": state["requests"]}, handle)


app = web.Application()
app.router.add_get("/", handle)
app.on_cleanup.append(write_log)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def start_nginx(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A static endpoint: one nginx worker on core 1 answering "ok"."""
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(
        f"worker_processes 1;\ndaemon off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 4096; }\n"
        f"http {{ access_log off; keepalive_requests 100000; server {{ listen 127.0.0.1:{port}; "
        'location / { return 200 "ok"; } } }\n'
    )
    process = subprocess.Popen([*_pin(1), str(find("nginx")), "-p", str(folder), "-c", str(config)])
    time.sleep(0.5)
    return process


def wrk_rate(url: str, seconds: int) -> float:
    output = subprocess.run(
        [*_pin(0), "wrk", "-t1", "-c50", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


def stock_locust(folder: Path, url: str, users: int, per_user: float | None, seconds: int) -> dict[str, float]:
    """Run stock Locust; its aggregated request count, rate and reported percentiles (from its CSV)."""
    locustfile = folder / "stock.py"
    body = (
        STOCK.format(per_user=per_user)
        if per_user
        else STOCK.replace("    wait_time = constant_throughput({per_user})\n", "")
    )
    locustfile.write_text(body)
    prefix = folder / "stock"
    subprocess.run(
        [
            *_pin(0),
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        cwd=folder,
        capture_output=True,
        check=False,
        timeout=seconds + 60,
    )
    with open(f"{prefix}_stats.csv", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {
        "requests": float(row["Request Count"]),
        "rate": float(row["Requests/s"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "p50_ms": float(row["50%"]),
    }


def engine(
    folder: Path, url: str, rate: float, seconds: float, workers: int = 1, cap: int = 2000, raw: bool = True
) -> LoadResult:
    scenario = folder / "plain.py"
    scenario.write_text(SCENARIO)
    plan = LoadPlan(
        base_url=url, rate_per_s=rate, duration_s=seconds, mix={"get": 1}, workers=workers, max_in_flight=cap
    )
    return run_load(plan, scenario, folder / f"engine-{rate:g}-{workers}", BENCH_CONSENT, raw_samples=raw)


def raw_samples(result_folder: Path, workers: int) -> tuple[float, list[tuple[float, float]]]:
    """(planned start in wall-clock time, [(planned offset, latency), ...]) over every worker."""
    samples: list[tuple[float, float]] = []
    start_wall = 0.0
    for worker in range(workers):
        data = json.loads((result_folder / f"raw.{worker}.json").read_text())
        start_wall = data["start_wall"]
        samples += [(float(planned), float(latency)) for planned, latency in data["samples"]]
    return start_wall, samples


def exact(values: list[float], percentile: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, int(percentile * len(ordered) / 100 + 0.5)) - 1]


def capacity(folder: Path, url: str) -> None:
    print("1. Generator capacity, one core each, same nginx endpoint (requests/s)")
    wrk = wrk_rate(url, 8)
    # Stock Locust at its best of two user counts, so the ratio does not rest on a bad setting.
    stock_runs = {users: stock_locust(folder / "cap", url, users, None, 10) for users in (10, 50)}
    _, stock = max(stock_runs.items(), key=lambda item: item[1]["rate"])
    os.sched_setaffinity(0, {0})
    try:
        result = engine(folder, url, 60000, 3, cap=64, raw=False)
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    ours = result.count("ok") / result.wall_s
    print(f"   wrk -t1 -c50                 {wrk:>10,.0f}")
    peer = vegeta(url, 0, 8, workers=50)
    if peer is not None:
        print(f"   vegeta -rate=0 (50 workers)  {peer['rate']:>10,.0f}   (success {peer['success']:.1%})")
    others = ", ".join(f"{n} users {run['rate']:,.0f}" for n, run in stock_runs.items())
    print(f"   stock Locust FastHttpUser    {stock['rate']:>10,.0f}   (best of: {others}; no wait)")
    print(
        f"   infragate engine             {ours:>10,.0f}   "
        f"({result.count('ok'):,} answers in {result.wall_s:.1f} s, 64 in flight)"
    )
    print(f"   infragate / stock Locust     {ours / stock['rate']:>10.2f}x   (target: at least 2x)")
    print(f"   infragate / wrk              {ours / wrk:>10.2f}x")


def _server_truth(log: Path, rate: float, seconds: float) -> tuple[float, int, int]:
    """The true p95 (ms) of an open population at this rate, from the server's own log alone: the
    planned arrivals (from its first arrival, at the rate), each delayed until the logged stall ends,
    plus the server's median answer time outside the stall; and the arrivals the server saw, in all
    and during the stall."""
    logged = json.loads(log.read_text())
    start, end, requests = logged["stall_start"], logged["stall_end"], logged["requests"]
    first = min(arrival for arrival, _ in requests)
    base = exact([answer - arrival for arrival, answer in requests if not start <= arrival < end], 50)
    planned = [first + index / rate for index in range(round(rate * seconds))]
    truth = [base + (end - at if start <= at < end else 0.0) for at in planned]
    during = sum(1 for arrival, _ in requests if start <= arrival < end)
    return exact(truth, 95) * 1000, len(requests), during


def stall(folder: Path) -> None:
    print("2. A 1 s stall in a 10 s run at 200 requests/s (truth from the server's own log)")
    port = 18181
    rows = []
    for name in ("infragate", "stock Locust"):
        log = folder / f"stall-{name.split()[0]}.json"
        server = subprocess.Popen([*_pin(1), sys.executable, "-c", STALL_SERVER, str(port), str(log)])
        time.sleep(1.5)
        try:
            if name == "infragate":
                result = engine(folder, f"http://127.0.0.1:{port}", 200, 10)
                _, samples = raw_samples(folder / "engine-200-1", 1)
                reported = result.percentile_ms(95)
                measured = [latency for _, latency in samples]
            else:
                stock = stock_locust(folder / "stall-stock", f"http://127.0.0.1:{port}", 200, 1.0, 10)
                reported = stock["p95_ms"]
        finally:
            server.terminate()
            server.wait()
        true_p95, arrivals, during = _server_truth(log, 200, 10)
        rows.append((name, arrivals, during, reported, true_p95))
    for name, arrivals, during, p95, true_p95 in rows:
        print(
            f"   {name:<13} server saw {arrivals:>5} requests ({during:>3} during the stall; an open "
            f"population sends 200)   reported p95 {p95:>7.1f} ms   true {true_p95:>7.1f} ms   "
            f"off by {abs(p95 - true_p95) / true_p95:>6.1%}"
        )
    print("3. Percentile resolution (infragate, stall run): reported against exact from raw samples")
    for percentile in (50, 95, 99):
        value = result.percentile_ms(percentile)
        truth_value = exact(measured, percentile) * 1000
        print(
            f"   p{percentile:<3} reported {value:>8.3f} ms   exact {truth_value:>8.3f} ms   "
            f"relative {abs(value - truth_value) / truth_value:.4%}"
        )
    print("   (stock Locust rounds response times above 100 ms to 10 ms, above 1000 ms to 100 ms)")


def merge(folder: Path, url: str) -> None:
    print("4. Two workers: merged percentiles against the union of their raw samples")
    result = engine(folder, url, 2000, 3, workers=2)
    _, samples = raw_samples(folder / "engine-2000-2", 2)
    union = new_histogram()
    for _, latency in samples:
        record_seconds(union, latency)
    same = all(result.percentile_ms(p) == percentile_s(union, p) * 1000 for p in (50, 90, 95, 99, 99.9, 100))
    print(f"   {len(samples)} samples from {result.workers_reported} workers; merged == union at p50..p100: {same}")
    for percentile in (50, 99, 100):
        print(
            f"   p{percentile:<4} merged {result.percentile_ms(percentile):.3f} ms   "
            f"union {percentile_s(union, percentile) * 1000:.3f} ms"
        )


def _vegeta() -> str | None:
    tools = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "infragate/tools/bin"
    return shutil.which("vegeta") or shutil.which("vegeta", path=str(tools))


def vegeta(url: str, rate: int, seconds: int, workers: int = 0) -> dict[str, float] | None:
    """vegeta's attack on url: its rate, success share and latency percentiles (ms). A rate of 0
    with a number of workers is its capacity mode: as fast as that many workers go."""
    found = _vegeta()
    if found is None:
        return None
    pace = [f"-rate={rate}/s"] if rate else ["-rate=0", f"-max-workers={workers}", f"-workers={workers}"]
    attack = subprocess.run(
        [*_pin(0), found, "attack", *pace, f"-duration={seconds}s"],
        input=f"GET {url}/\n".encode(),
        capture_output=True,
        check=True,
        timeout=seconds + 60,
    )
    report = subprocess.run([found, "report", "-type=json"], input=attack.stdout, capture_output=True, check=True)
    data = json.loads(report.stdout)
    latencies = data["latencies"]  # nanoseconds
    return {
        "rate": data["rate"],
        "success": data["success"],
        **{f"p{key[:-2]}_ms": latencies[key] / 1e6 for key in ("50th", "95th", "99th")},
    }


def constant_rates(folder: Path, url: str) -> None:
    print("5. Constant rates for 10 s, one core each: late starts and latency, infragate beside vegeta")
    print(f"   {'rate/s':>7}  {'tool':<10} {'late >10ms':>11} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for rate in (500, 2000, 8000):
        os.sched_setaffinity(0, {0})
        try:
            result = engine(folder, url, rate, 10, raw=False)
        finally:
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        late = result.count("late") / max(result.scheduled, 1)
        ours = [result.percentile_ms(p) for p in (50, 95, 99)]
        print(f"   {rate:>7}  {'infragate':<10} {late:>11.2%} " + " ".join(f"{v:>8.2f}" for v in ours))
        peer = vegeta(url, rate, 10)
        if peer is None:
            print(f"   {rate:>7}  vegeta     not installed (bash scripts/bench-tools.sh)")
            continue
        theirs = [peer["p50_ms"], peer["p95_ms"], peer["p99_ms"]]
        print(
            f"   {rate:>7}  {'vegeta':<10} {'n/a':>11} "
            + " ".join(f"{v:>8.2f}" for v in theirs)
            + f"   (rate {peer['rate']:.0f}/s, success {peer['success']:.1%}; p99 ratio {ours[2] / theirs[2]:.2f}x)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="infragate-bench-load-") as temporary:
        folder = Path(temporary)
        (folder / "cap").mkdir()
        (folder / "stall-stock").mkdir()
        nginx = start_nginx(folder / "nginx", 18180)
        url = "http://127.0.0.1:18180"
        try:
            capacity(folder, url)
            stall(folder)
            merge(folder, url)
            constant_rates(folder, url)
        finally:
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()

"""The reference deployment's backend: a small API that names its replica in every response.

Run as ``python -m infragate.sandbox.backend --name api-1 --port 8001``; ``--fault`` switches on a
known defect of one replica (for the known-bad variants).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import time
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

REPLICA_HEADER = "X-Replica"
FAULTS = ("unhealthy", "fragile", "slow-start", "slow", "flaky", "stall", "serial")
SLOW_START_S = 15.0
SLOW_S = 0.25  # "slow": every API answer takes this long
FLAKY_EVERY = 100  # "flaky": one API request in this many fails with 500
STALL_PERIOD_S, STALL_S = 7.0, 1.0  # "stall": every replica freezes 1 s in every 7 s of wall clock
SERIAL_S = 0.008  # "serial": one request at a time, 8 ms each (125 answers/s per replica at most)

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

ITEMS: list[dict[str, object]] = [
    {"id": index, "name": f"item-{index}", "price_cents": 100 * index} for index in range(1, 21)
]


def build_app(name: str, faults: frozenset[str]) -> web.Application:
    """The aiohttp application of one replica."""
    served = 0
    one_at_a_time = asyncio.Lock()
    # (route, status) -> requests answered; each route's 200 is there from the start, as a client
    # library's labelled counter would be once its labels are known.
    counted: dict[tuple[str, int], int] = {(route, 200): 0 for route in ("/api", "/auth", "/search")}
    durations = [0] * (len(BUCKETS_S) + 1)  # per bucket, the last one +Inf
    total_s = 0.0

    @web.middleware
    async def measure(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Prometheus's view of the replica: requests by route and status, and how long they took."""
        nonlocal total_s
        if request.path in ("/metrics", "/health"):
            return await handler(request)
        started = time.monotonic()
        response = await handler(request)
        took = time.monotonic() - started
        route = "/" + request.path.strip("/").split("/", 1)[0]
        counted[(route, response.status)] = counted.get((route, response.status), 0) + 1
        durations[next((i for i, bound in enumerate(BUCKETS_S) if took <= bound), len(BUCKETS_S))] += 1
        total_s += took
        return response

    async def metrics(_: web.Request) -> web.Response:
        lines = ["# TYPE app_http_requests_total counter"]
        lines += [
            f'app_http_requests_total{{route="{route}",status="{status}"}} {count}'
            for (route, status), count in sorted(counted.items())
        ]
        lines.append("# TYPE app_http_request_duration_seconds histogram")
        running = 0
        for bound, count in zip((*(f"{b:g}" for b in BUCKETS_S), "+Inf"), durations, strict=True):
            running += count
            lines.append(f'app_http_request_duration_seconds_bucket{{le="{bound}"}} {running}')
        lines += [
            f"app_http_request_duration_seconds_sum {total_s:.6f}",
            f"app_http_request_duration_seconds_count {running}",
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    @web.middleware
    async def load_faults(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """The defects the load features must catch; the health check is left alone so replicas stay in."""
        nonlocal served
        if request.path == "/health":
            return await handler(request)
        served += 1
        if "slow" in faults:
            await asyncio.sleep(SLOW_S)
        if "stall" in faults and (phase := time.time() % STALL_PERIOD_S) < STALL_S:
            await asyncio.sleep(STALL_S - phase)
        if "flaky" in faults and served % FLAKY_EVERY == 0:
            return web.json_response({"error": "injected failure", "replica": name}, status=500)
        if "serial" in faults:
            async with one_at_a_time:
                await asyncio.sleep(SERIAL_S)
        return await handler(request)

    @web.middleware
    async def name_replica(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        response.headers[REPLICA_HEADER] = name
        return response

    async def health(_: web.Request) -> web.Response:
        if "unhealthy" in faults:
            return web.json_response({"status": "failing", "replica": name}, status=503)
        return web.json_response({"status": "ok", "replica": name})

    async def items(_: web.Request) -> web.Response:
        return web.json_response({"items": ITEMS, "replica": name})

    async def login(request: web.Request) -> web.Response:
        body = await request.read()
        token = hashlib.sha256(body + name.encode()).hexdigest()
        return web.json_response({"token": token})

    async def search(request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        if "fragile" in faults and any(char in query for char in "'\";\\"):
            # The defect a fuzzer should find: a query breaks the code, and the error page shows it.
            try:
                raise ValueError(f"unterminated string in query {query!r}")
            except ValueError:
                return web.Response(status=500, text=traceback.format_exc())
        found = [item for item in ITEMS if query in str(item["name"])]
        return web.json_response({"query": query, "results": found})

    async def echo(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await socket.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await socket.send_bytes(message.data)
        return socket

    async def not_found(_: web.Request) -> web.Response:
        return web.json_response({"error": "not found"}, status=404, dumps=json.dumps)

    app = web.Application(middlewares=[measure, name_replica, load_faults])
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/items", items)
    app.router.add_post("/auth/login", login)
    app.router.add_get("/search", search)
    app.router.add_get("/ws", echo)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


def _admin_console(name: str) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """An operator's console as services grow them (heap dumps, reloads): it greets and hangs up. It
    belongs on the loopback; bound on every address, anyone on the network reaches it."""

    async def greet(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{name} admin console\r\n".encode())
        await writer.drain()
        writer.close()

    return greet


def _with_admin(app: web.Application, name: str, address: str) -> web.Application:
    host, _, port = address.rpartition(":")

    async def open_console(app: web.Application) -> None:
        app["admin"] = await asyncio.start_server(_admin_console(name), host, int(port))

    async def close_console(app: web.Application) -> None:
        app["admin"].close()
        await app["admin"].wait_closed()

    app.on_startup.append(open_console)
    app.on_cleanup.append(close_console)
    return app


def main() -> None:
    """Entry point of one backend replica."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fault", action="append", choices=FAULTS, default=[])
    parser.add_argument("--sandbox", help="the sandbox folder; marks the process as the sandbox's")
    parser.add_argument("--admin", metavar="ADDRESS:PORT", help="where the replica's admin console listens")
    args = parser.parse_args()
    # Faults may also come from the environment (a Swarm service update switches one on).
    args.fault += [fault for fault in os.environ.get("INFRAGATE_FAULTS", "").split(",") if fault in FAULTS]
    if "slow-start" in args.fault:
        time.sleep(SLOW_START_S)  # a replica that takes long to become ready, as a cold JVM would
    app = build_app(args.name, frozenset(args.fault))
    web.run_app(
        _with_admin(app, args.name, args.admin) if args.admin else app,
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        handle_signals=True,
    )


if __name__ == "__main__":
    main()

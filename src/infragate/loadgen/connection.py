"""The load engine's HTTP/1.1 client: keep-alive connections per source address, with just the
parsing a load generator needs (status, headers, a body by length or chunks)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from urllib.parse import urlsplit

from infragate.loadgen.plan import LoadPlan

IDLE_LIMIT_S = 5.0  # an idle connection older than this is not reused


class Closed(Exception):
    """The server closed the connection."""


class Stale(Closed):
    """A connection used before was closed by the server before any byte of the next answer: the
    race every keep-alive client meets (the server let the idle connection go as the request left).
    The server did not read the request; an idempotent one is sent again on a new connection, as
    HTTP clients do (RFC 9110, 9.2.2)."""


class TimedOut(Exception):
    """The request took longer than the plan's timeout (raised into it by the watchdog)."""


class Connection:
    """One keep-alive HTTP/1.1 connection, with just the parsing a load generator needs."""

    def __init__(
        self, host: str, port: int, source: str | None, context: ssl.SSLContext | None, timeout: float
    ) -> None:
        raw = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(None)  # the schedule's watchdog times requests out: one timer a second, not one a request
        self.sock: socket.socket = context.wrap_socket(raw, server_hostname=host) if context else raw
        self.buffer = bytearray()
        self.reusable = True
        self.answered = 0  # responses read on this connection
        self.idle_since = time.monotonic()

    def exchange(self, data: bytes, head_only: bool) -> int:
        """Send one request and read its whole response; the status code."""
        try:
            sent = self.sock.send(data)  # a request fits in one send almost always; sendall costs more a call
            if sent < len(data):
                self.sock.sendall(data[sent:])
            end = self._fill_until(b"\r\n\r\n")
        except (Closed, BrokenPipeError, ConnectionResetError):
            if self.answered and not self.buffer:
                raise Stale("a kept-alive connection closed by the server before the answer") from None
            raise
        self.answered += 1
        head = bytes(self.buffer[:end]).lower()
        status = int(head[9:12])
        del self.buffer[: end + 4]
        if b"\r\nconnection: close" in head:
            self.reusable = False
        if head_only or status in (204, 304) or 100 <= status < 200:
            return status
        marker = head.find(b"\r\ncontent-length:")
        if marker >= 0:
            stop = head.find(b"\r\n", marker + 2)
            self._consume(int(head[marker + 17 : stop if stop > 0 else None]))
        elif b"\r\ntransfer-encoding: chunked" in head:
            self._consume_chunks()
        else:  # read until close
            self.reusable = False
            while self._receive():
                self.buffer.clear()
        return status

    def _receive(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _fill_until(self, marker: bytes) -> int:
        while (end := self.buffer.find(marker)) < 0:
            if not self._receive():
                raise Closed("connection closed by the server")
        return end

    def _consume(self, length: int) -> None:
        while len(self.buffer) < length:
            if not self._receive():
                raise Closed("connection closed mid-body")
        del self.buffer[:length]

    def _consume_chunks(self) -> None:
        while True:
            end = self._fill_until(b"\r\n")
            size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
            del self.buffer[: end + 2]
            if size == 0:
                self._consume(self._fill_until(b"\r\n") + 2)  # trailer section is empty here
                return
            self._consume(size + 2)

    def close(self) -> None:
        """Close the socket (an error closing it does not matter any more)."""
        with contextlib.suppress(OSError):
            self.sock.close()


class Pool:
    """Idle keep-alive connections per source address; opens more whenever none is idle."""

    def __init__(self, plan: LoadPlan) -> None:
        parts = urlsplit(plan.base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.context: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self.context = (
                ssl.create_default_context(cafile=plan.ca_bundle) if plan.ca_bundle else ssl.create_default_context()
            )
        self.timeout = plan.timeout_s
        self.idle: dict[str | None, list[Connection]] = {}
        self.opened = 0

    def take(self, source: str | None) -> Connection:
        """An idle connection from that source address, or a new one. A connection idle longer than
        IDLE_LIMIT_S is closed instead: servers let idle ones go (nginx after 75 s by default, many
        proxies sooner), and one closed under a request costs a retry or an error."""
        idle = self.idle.get(source)
        oldest = time.monotonic() - IDLE_LIMIT_S
        while idle:
            connection = idle.pop()
            if connection.idle_since >= oldest:
                return connection
            connection.close()
        return self.fresh(source)

    def fresh(self, source: str | None) -> Connection:
        """A new connection from that source address."""
        self.opened += 1
        return Connection(self.host, self.port, source, self.context, self.timeout)

    def give_back(self, source: str | None, connection: Connection) -> None:
        """Keep a connection for reuse when the server left it open; close it otherwise."""
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self.idle.setdefault(source, []).append(connection)
        else:
            connection.close()

    def warm(self, sources: list[str | None], count: int, budget_s: float) -> None:
        """Open up to ``count`` idle connections per source address, within ``budget_s`` seconds; a
        connection that cannot be opened now is left for the schedule to try (and count)."""
        deadline = time.perf_counter() + budget_s
        for source in sources:
            for _ in range(count):
                if time.perf_counter() > deadline:
                    return
                try:
                    connection = Connection(self.host, self.port, source, self.context, self.timeout)
                except (OSError, ValueError):
                    return
                self.opened += 1
                self.idle.setdefault(source, []).append(connection)

    def close(self) -> None:
        """Close every idle connection."""
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()

"""A webhook receiver for Alertmanager that remembers what it was sent, so that an alert drill can
see a notification arrive: ``python -m infragate.probes.monitoring.receiver --port 9095``.

POST (any path) takes Alertmanager's webhook payload; GET /notifications answers the last
notifications, each with the time it arrived, its receiver, status and alerts' names and states.
It keeps at most 1,000 notifications and reads bodies of at most 1 MiB.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20
KEPT = 1000


class _Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.notifications: deque[dict[str, Any]] = deque(maxlen=KEPT)

    def add(self, payload: dict[str, Any]) -> None:
        alerts = [
            {"alertname": str((alert.get("labels") or {}).get("alertname", "")), "status": str(alert.get("status", ""))}
            for alert in payload.get("alerts") or []
            if isinstance(alert, dict)
        ]
        entry = {
            "received_at": time.time(),
            "receiver": str(payload.get("receiver", "")),
            "status": str(payload.get("status", "")),
            "alerts": alerts,
        }
        with self.lock:
            self.notifications.append(entry)

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.notifications)


def _handler(record: _Record) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                self._answer(413 if length > MAX_BODY else 400, {"error": "a JSON body of at most 1 MiB"})
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                self._answer(400, {"error": "not JSON"})
                return
            if not isinstance(payload, dict):
                self._answer(400, {"error": "not a webhook payload"})
                return
            record.add(payload)
            self._answer(200, {"kept": True})

        def do_GET(self) -> None:
            if self.path.split("?")[0] in ("/notifications", "/"):
                self._answer(200, record.all())
            elif self.path == "/health":
                self._answer(200, {"status": "ok"})
            else:
                self._answer(404, {"error": "not found"})

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def serve(host: str, port: int) -> ThreadingHTTPServer:
    """A receiver bound to host:port (not yet serving)."""
    return ThreadingHTTPServer((host, port), _handler(_Record()))


def main() -> None:
    """Run a receiver until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sandbox", help="the sandbox folder; marks the process as the sandbox's")
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port).serve_forever()


if __name__ == "__main__":
    main()

"""Load scenario of the technician marketplace (seed 000): browse technicians, search, log in."""

from __future__ import annotations

from infragate.loadgen.engine import OpenModelUser, Request, kind

_TRADES = ("plumber", "electrician", "carpenter", "painter", "locksmith")


class Marketplace(OpenModelUser):
    """The marketplace API's three rate-limited routes."""

    @kind("browse")
    def browse(self, n: int) -> Request:
        return Request("GET", f"/api/v1/technicians?page={n % 10 + 1}")

    @kind("search")
    def search(self, n: int) -> Request:
        return Request("GET", f"/api/v1/search?q={_TRADES[n % len(_TRADES)]}")

    @kind("login")
    def login(self, n: int) -> Request:
        body = f'{{"email": "load-{n % 100}@example.test", "password": "not-a-real-password"}}'
        return Request("POST", "/api/v1/auth/login", body, (("Content-Type", "application/json"),))

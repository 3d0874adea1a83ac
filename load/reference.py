"""Load scenario of the reference API: browse the catalogue, search it, log in.

The profile's ``load.mix`` weighs the kinds (for example ``{browse: 70, search: 25, login: 5}``).
Write your own in this shape: a class deriving from ``OpenModelUser`` with one ``@kind`` method a
request kind, each building the n-th request of the run (so paths and bodies can vary with n).
"""

from __future__ import annotations

from infragate.loadgen.engine import OpenModelUser, Request, kind

_TERMS = ("item", "item-1", "item-2", "item-13", "nothing")


class ReferenceApi(OpenModelUser):
    """The reference deployment's three routes."""

    @kind("browse")
    def browse(self, n: int) -> Request:
        return Request("GET", f"/api/items?page={n % 5}")

    @kind("search")
    def search(self, n: int) -> Request:
        return Request("GET", f"/search?q={_TERMS[n % len(_TERMS)]}")

    @kind("login")
    def login(self, n: int) -> Request:
        body = f'{{"user": "load-{n % 50}", "password": "demo"}}'
        return Request("POST", "/auth/login", body, (("Content-Type", "application/json"),))

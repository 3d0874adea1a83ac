"""What keeps browsers on HTTPS: the Strict-Transport-Security policy and the redirect of plain HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.probes.http import GatewayClient
from infragate.verdicts import Check


@dataclass(frozen=True)
class HstsResult:
    """The Strict-Transport-Security header of an answer over TLS, parsed."""

    url: str
    header: str | None
    max_age_s: float | None
    include_subdomains: bool

    def check(self, min_max_age_s: float, include_subdomains: bool) -> Check:
        """The policy is at least as strict as the declaration."""
        expected = f"Strict-Transport-Security on {self.url} with max-age >= {min_max_age_s:.0f}"
        expected += " and includeSubDomains" if include_subdomains else ""
        holds = (
            self.max_age_s is not None
            and self.max_age_s >= min_max_age_s
            and (self.include_subdomains or not include_subdomains)
        )
        observed = "no header" if self.header is None else repr(self.header)
        return Check.compare("HSTS", expected, observed, holds)


def parse_hsts(url: str, header: str | None) -> HstsResult:
    """Read max-age and includeSubDomains from a header value."""
    if header is None:
        return HstsResult(url, None, None, False)
    max_age: float | None = None
    include = False
    for directive in (part.strip() for part in header.split(";")):
        name, _, value = directive.partition("=")
        if name.strip().lower() == "max-age":
            try:
                max_age = float(value.strip().strip('"'))
            except ValueError:
                max_age = None
        elif name.strip().lower() == "includesubdomains":
            include = True
    return HstsResult(url, header, max_age, include)


@dataclass(frozen=True)
class RedirectResult:
    """What a plain-HTTP request was answered with."""

    url: str
    status: int
    location: str | None
    expected_location: str

    def check(self) -> Check:
        """A permanent redirect to the same path over HTTPS."""
        expected = f"{self.url} to redirect permanently (301 or 308) to {self.expected_location}"
        observed = f"{self.status} to {self.location or 'nowhere'}"
        holds = self.status in (301, 308) and self.location == self.expected_location
        return Check.compare("HTTPS redirect", expected, observed, holds)


def probe_hsts(client: GatewayClient) -> HstsResult:
    """Fetch the health path over TLS and parse its Strict-Transport-Security header."""
    exchange = client.request("GET", client.gateway.health_path)
    return parse_hsts(exchange.url, exchange.header("strict-transport-security"))


REDIRECT_PROBE_PATH = "/infragate/redirect-probe?from=http"


def probe_redirect(client: GatewayClient, http_url: str) -> RedirectResult:
    """Ask for a page over plain HTTP and see where it is sent."""
    exchange = client.request_url("GET", http_url.rstrip("/") + REDIRECT_PROBE_PATH)
    return RedirectResult(
        exchange.url, exchange.status, exchange.header("location"), client.base_url + REDIRECT_PROBE_PATH
    )

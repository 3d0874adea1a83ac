"""Probe of the gateway's health endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.probes.http import Exchange, GatewayClient
from infragate.verdicts import Check


@dataclass(frozen=True)
class HealthResult:
    """What the health endpoint answered, and what was declared for it."""

    exchange: Exchange
    expected_status: int
    timeout_s: float

    def status_check(self) -> Check:
        """The answer has the declared status."""
        seen = f"{self.exchange.status} (body: {self.exchange.body_excerpt[:80]!r})"
        expected = f"status {self.expected_status} from {self.exchange.url}"
        return Check.compare("health status", expected, seen, self.exchange.status == self.expected_status)

    def time_check(self) -> Check:
        """The answer came within the gateway timeout."""
        seen = f"{self.exchange.elapsed_s:.3f} s"
        expected = f"an answer within {self.timeout_s:g} s"
        return Check.compare("health answer time", expected, seen, self.exchange.elapsed_s <= self.timeout_s)


def probe_health(client: GatewayClient) -> HealthResult:
    """Ask the gateway's health path once."""
    gateway = client.gateway
    return HealthResult(client.request("GET", gateway.health_path), gateway.health_status, gateway.timeout)

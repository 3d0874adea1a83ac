"""Probe of the gateway's health endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from infragate.probes.http import Exchange, GatewayClient


@dataclass(frozen=True)
class HealthResult:
    """What the health endpoint answered, and what was declared for it."""

    exchange: Exchange
    expected_status: int
    timeout_s: float

    @property
    def status_ok(self) -> bool:
        """Whether the answer has the declared status."""
        return self.exchange.status == self.expected_status

    @property
    def in_time(self) -> bool:
        """Whether the answer came within the gateway timeout."""
        return self.exchange.elapsed_s <= self.timeout_s

    def explain_status(self) -> str:
        """Expected versus observed status."""
        return (
            f"expected status {self.expected_status} from {self.exchange.url}, observed {self.exchange.status} "
            f"(body: {self.exchange.body_excerpt[:80]!r})"
        )

    def explain_time(self) -> str:
        """Expected versus observed answer time."""
        return f"expected an answer within {self.timeout_s:g} s, observed {self.exchange.elapsed_s:.3f} s"


def probe_health(client: GatewayClient) -> HealthResult:
    """Ask the gateway's health path once."""
    gateway = client.gateway
    return HealthResult(client.request("GET", gateway.health_path), gateway.health_status, gateway.timeout)

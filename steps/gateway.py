"""Steps about the gateway as a whole."""

from __future__ import annotations

from pytest_bdd import then, when

from infragate.probes.health import HealthResult, probe_health
from infragate.probes.http import GatewayClient
from infragate.pytest_plugin import Evidence


@when("a client asks the gateway for its health", target_fixture="health")
def _(gateway: GatewayClient, evidence: Evidence) -> HealthResult:
    return evidence.record(probe_health(gateway))


@then("the gateway answers with the declared health status")
def _(health: HealthResult) -> None:
    assert health.status_ok, health.explain_status()

"""The monitoring section the three reference deployments promise, from one builder: valid in a
profile, each drilled alert timed, the local one's other outages timed too."""

from __future__ import annotations

import yaml

from infragate.profile import parse_profile
from infragate.sandbox.kubernetes import host_services
from infragate.sandbox.local.prometheus_stack import MonitoringPorts
from infragate.sandbox.local.reference_profile import monitoring_promises
from infragate.sandbox.spec import SandboxSpec
from infragate.sandbox.swarm import observability
from tests.unit.test_profile import VALID


def _sections() -> dict[str, dict[str, object]]:
    ports = MonitoringPorts(*range(9100, 9100 + len(MonitoringPorts.__dataclass_fields__)))
    published = {"prometheus": 9201, "alertmanager": 9202, "receiver": 9203}
    return {
        "local": monitoring_promises(SandboxSpec(), ports),
        "swarm": observability.promises(published, 3),
        "kubernetes": host_services._promises(9301, 9302, 9303, 3),
    }


def test_every_reference_promises_a_valid_monitoring_section() -> None:
    for name, section in _sections().items():
        profile = parse_profile(yaml.safe_dump({**VALID, "monitoring": section}), file=f"{name}.yaml", environ={})
        assert profile.monitoring is not None and profile.monitoring.drills, name


def test_drilled_alerts_are_timed_and_routed_by_category() -> None:
    sections = _sections()
    local = sections["local"]
    timed = {name for name, rule in local["rules"].items() if "notify_within" in rule}  # type: ignore[attr-defined]
    assert timed == {"ApiReplicaDown", "GatewayDown", "PostgresDown", "RedisDown"}
    assert [(drill["alert"], drill["stop"]) for drill in local["drills"]] == [  # type: ignore[attr-defined]
        ("RedisDown", "redis"),
        ("ApiReplicaDown", "api-1"),
    ]
    swarm = sections["swarm"]
    assert swarm["alertmanager"]["sent_to"] == "http://127.0.0.1:9093"  # type: ignore[index]
    assert [route["labels"]["category"] for route in swarm["alertmanager"]["routes"]] == ["api", "database"]  # type: ignore[index]
    kubernetes = sections["kubernetes"]
    assert kubernetes["drills"][0]["notifications"] == "http://127.0.0.1:9303/notifications"  # type: ignore[index]
    assert kubernetes["rules"]["ApiDown"] == {"labels": {"category": "api"}, "notify_within": "20s"}  # type: ignore[index]

"""The reference deployment with HAProxy as its gateway (`sandbox up --gateway haproxy`): the same
spec rendered for HAProxy, accepted by HAProxy's own parser for every variant that applies, and a
full run against it, destructive and load scenarios included, conformant throughout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from infragate.sandbox import binaries, pki
from infragate.sandbox.local import gateway
from infragate.sandbox.spec import SandboxSpec
from infragate.sandbox.variants import VARIANTS, local_spec
from tests.conftest import run_cli, run_measuring

# The full runs and the load tests measure time (rate limits, latency, failover budgets): they take
# one xdist worker, in turn, while the other runs the rest of this folder (scripts/test.sh).
pytestmark = pytest.mark.xdist_group("timing")

HAPROXY = SandboxSpec(gateway="haproxy")
APPLICABLE = [
    name for name, variant in VARIANTS.items() if variant.runtime == "local" and "haproxy" in variant.gateways
]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("haproxy-conf")
    pki.issue(directory / "pki", ("127.0.0.1", "localhost"), valid_days=90, signed_by_other_ca=False)
    (directory / "haproxy").mkdir()
    return directory


@pytest.mark.parametrize("variant", [None, *APPLICABLE])
def test_haproxy_accepts_the_configuration_of_every_variant(certificates: Path, variant: str | None) -> None:
    spec = local_spec(variant, HAPROXY)
    conf = gateway.write_conf(certificates, spec, 8443, 8080, {"api-1": 9001, "api-2": 9002, "api-3": 9003})
    checked = subprocess.run(
        [str(binaries.find("haproxy")), "-c", "-f", str(conf)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "[WARNING]" not in checked.stdout + checked.stderr


def test_a_defect_only_nginx_has_is_refused_on_haproxy(tmp_path: Path) -> None:
    run = run_cli("sandbox", "up", "--gateway", "haproxy", "--variant", "ratelimit-burst-too-big", reports=tmp_path)
    assert run.code == 3, run.output
    assert run.output.strip().splitlines() == [
        "infragate: variant ratelimit-burst-too-big is a defect of the nginx gateway, not haproxy"
    ]


def test_the_haproxy_reference_passes_every_scenario(sandbox_root: Path, tmp_path: Path) -> None:
    up = run_cli("sandbox", "up", "--name", "haproxy-reference", "--gateway", "haproxy", reports=tmp_path)
    assert up.code == 0, up.output
    profile = sandbox_root / "haproxy-reference" / "profile.yaml"
    declared = yaml.safe_load(profile.read_text())["gateway"]["routes"]["api"]["rate_limit"]
    assert declared["algorithm"] == "sliding-window-counter" and "burst" not in declared
    try:
        run = run_measuring(
            "verify", "--target", str(profile), "--allow-destructive", "--allow-load", reports=tmp_path / "runs"
        )
    finally:
        assert run_cli("sandbox", "down", "--name", "haproxy-reference", reports=tmp_path).code == 0
    assert run.code == 0, run.output
    other_platforms = {
        "platform/swarm.feature",
        "resilience/rollback.feature",
        "platform/kubernetes.feature",
        "platform/autoscaling.feature",
    }
    verdicts = {(s["feature_file"] in other_platforms, s["verdict"]) for s in run.evidence()["scenarios"]}
    assert verdicts == {(False, "conformant"), (True, "not applicable")}, run.output

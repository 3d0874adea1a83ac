"""The scan from outside against the real reference deployment: a network namespace and a veth pair
made for it, every port the deployment was given tried from there, and nothing of either left
behind, also when the run is killed in the middle (the journal, then `infragate recover`).

Other tests' full runs scan too, on another xdist worker: each test looks at its own run's
namespace (igscan-PID, PID that of the run's suite) and link (igsPIDh), not at every one."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infragate.probes.exposure import outside
from infragate.sandbox import local
from infragate.sandbox.spec import SandboxSpec
from tests.conftest import kill_outright, run_cli, verify_until

FEATURE = "features/hosts/exposure.feature"


def _links() -> list[str]:
    shown = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in shown.splitlines() if ": igs" in line]


def _gone(namespace: str) -> bool:
    pid = namespace.removeprefix(outside.PREFIX)
    return namespace not in outside.leftovers() and f"igs{pid}h" not in _links()


def _namespace_for(profile: Path) -> str | None:
    """The scan namespace of the run against this profile, once its suite (whose command line names
    the profile) has made it."""
    for name in outside.leftovers():
        with contextlib.suppress(OSError):
            if str(profile) in Path(f"/proc/{name.removeprefix(outside.PREFIX)}/cmdline").read_bytes().decode():
                return name
    return None


@pytest.fixture
def sandbox(sandbox_root: Path) -> Iterator[local.SandboxState]:
    state = local.up("exposure", root=sandbox_root, spec=SandboxSpec(monitoring=False))
    yield state
    assert not local.down("exposure", root=sandbox_root).left_running


def test_the_reference_answers_on_nothing_from_outside_and_the_scan_leaves_nothing(
    sandbox: local.SandboxState, tmp_path: Path
) -> None:
    run = run_cli(
        "verify", "--target", sandbox.profile, "--features", FEATURE, "--reports", str(tmp_path), reports=tmp_path
    )
    assert run.code == 0, run.output
    (scenario,) = run.evidence()["scenarios"]
    assert scenario["verdict"] == "conformant", run.output
    (check,) = scenario["steps"][1]["checks"]
    declared = yaml.safe_load(Path(sandbox.profile).read_text())["exposure"]["ports"]
    assert check["observed"].startswith(f"{len(declared)} ports of 169.254.213."), check
    assert "answering none" in check["observed"] and f"{len(declared)} refused" in check["observed"], check
    (scan,) = [item["data"] for item in scenario["evidence"] if item["type"] == "ScanResult"]
    assert scan["namespace"].startswith(outside.PREFIX) and _gone(scan["namespace"])


def test_a_run_killed_during_the_scan_leaves_its_namespace_to_recover(
    sandbox: local.SandboxState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(tmp_path / "journal"))
    # Every port of the machine, tried slowly, so that the kill comes while the namespace exists.
    declared = yaml.safe_load(Path(sandbox.profile).read_text())
    declared["exposure"] = {"exposed": [], "connect_timeout": "1s", "within": "60s"}
    profile = Path(sandbox.directory) / "every-port.yaml"  # beside the original: its paths are relative
    profile.write_text(yaml.safe_dump(declared))
    run = verify_until(
        lambda: _namespace_for(profile) is not None, "--target", str(profile), "--features", FEATURE,
        "--reports", str(tmp_path / "reports"),
    )  # fmt: skip
    namespace = _namespace_for(profile)
    assert namespace is not None, "the run never made its scan namespace"
    kill_outright(run)
    assert not _gone(namespace), "the killed run's namespace and veth should still be there before recover"

    recovered = run_cli("recover", "--target", str(profile), reports=tmp_path)
    assert recovered.code == 0, recovered.output
    assert f"network namespace {namespace} and veth" in recovered.output and "verified removed" in recovered.output
    assert _gone(namespace)
    journal = [
        json.loads(line) for file in (tmp_path / "journal").rglob("*.jsonl") for line in file.read_text().splitlines()
    ]
    assert journal[-1]["status"] == "undone", journal

"""Waivers through the command line, against a real known-bad deployment (the gateway names its
version): a waived deviation passes the gate and shows as waived in every report; an expired
waiver stops the run before it starts."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from infragate.sandbox import local
from infragate.sandbox.spec import SandboxSpec
from tests.conftest import run_cli

DISCLOSES = "The gateway does not disclose its software version"
HEADERS = "Responses carry the declared security headers"
HEALTH = "The gateway's health endpoint answers"
FEATURES = ("--features", "features/gateway/security_headers.feature", "--features", "features/gateway/health.feature")


@pytest.fixture(scope="module")
def disclosing(sandbox_root: Path) -> Iterator[local.SandboxState]:
    state = local.up("waivers", "server-tokens-on", root=sandbox_root, spec=SandboxSpec(monitoring=False))
    yield state
    assert not local.down("waivers", root=sandbox_root).left_running


def _waivers(folder: Path, expires: str = "2999-12-31") -> Path:
    path = folder / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        f"  - scenario: {DISCLOSES}\n"
        "    reason: 'OPS-7: server_tokens goes off with the next gateway image'\n"
        "    owner: edge-team\n"
        f"    expires: {expires}\n"
        f'  - scenario: "{HEALTH}"\n'
        "    reason: the health endpoint moves this week\n"
        "    owner: edge-team\n"
        "    expires: 2999-12-31\n"
        "    mode: skip\n"
        f"  - scenario: {HEADERS}\n"
        "    reason: fixed last week\n"
        "    owner: web-team\n"
        "    expires: 2999-12-31\n"
    )
    return path


def test_the_deviation_fails_the_gate_without_its_waiver(disclosing: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli("verify", "--target", disclosing.profile, *FEATURES, "--reports", str(tmp_path), reports=tmp_path)
    assert run.code == 1, run.output
    assert run.verdicts()[DISCLOSES]["verdict"] == "non-conformant"


def test_a_waived_deviation_passes_the_gate_and_every_report_says_waived(
    disclosing: local.SandboxState, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    waivers = _waivers(tmp_path)
    arguments = ("verify", "--target", disclosing.profile, *FEATURES, "--waivers", str(waivers))
    run = run_cli(*arguments, "--reports", str(reports), reports=reports)
    assert run.code == 0, run.output
    verdicts = run.verdicts()
    assert {name: record["verdict"] for name, record in verdicts.items()} == {
        DISCLOSES: "waived",
        HEALTH: "waived",
        HEADERS: "conformant",
    }
    assert verdicts[DISCLOSES]["message"].startswith(
        "WAIVED: OPS-7: server_tokens goes off with the next gateway image (owner edge-team, until 2999-12-31); "
        "non-conformant at step: Then no response discloses a software version: "
    )
    assert verdicts[HEALTH]["steps"] == []  # held back by its skip waiver: nothing of it ran
    assert "infragate: conformant: 1 conformant, 2 waived" in run.output
    assert f"  unmatched waiver  the waiver of scenario '{HEADERS}' (web-team) covered nothing" in run.output
    (folder,) = reports.iterdir()
    junit = ET.parse(folder / "junit.xml").getroot()
    case = junit.find(f".//testcase[@name='{DISCLOSES}']")
    assert case is not None and case.find("failure") is None
    assert case.find("skipped") is not None and case.find("skipped").get("message", "").startswith("WAIVED: OPS-7")  # type: ignore[union-attr]
    features = json.loads((folder / "cucumber.json").read_text())
    elements = {element["name"]: element for feature in features for element in feature["elements"]}
    assert "@waived" in [tag["name"] for tag in elements[DISCLOSES]["tags"]]
    assert all(step["result"]["status"] != "failed" for step in elements[DISCLOSES]["steps"])
    summary = (folder / "summary.md").read_text()
    assert f"| waived | Security headers | {DISCLOSES} |" in summary and "- unmatched waiver: " in summary
    page = (folder / "report.html").read_text()
    assert "<h2>Waived (2)</h2>" in page and "WAIVED: OPS-7" in page


def test_an_expired_waiver_stops_the_run_before_it_starts(disclosing: local.SandboxState, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    waivers = _waivers(tmp_path, expires="2020-01-31")
    arguments = ("verify", "--target", disclosing.profile, *FEATURES, "--waivers", str(waivers))
    run = run_cli(*arguments, "--reports", str(reports), reports=reports)
    assert run.code == 3, run.output
    assert run.output.strip().splitlines() == [
        f"infragate: {waivers}:5: waivers[0].expires: a waiver that still holds: the waiver of scenario "
        f"'{DISCLOSES}' (edge-team) expired on 2020-01-31; fix the deviation, or renew the waiver with its reason"
    ]
    assert not reports.exists()


def test_format_json_gives_pipelines_one_document_on_stdout(disclosing: local.SandboxState, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "infragate", "verify", "--target", disclosing.profile, *FEATURES]
    done = subprocess.run(
        [*command, "--waivers", str(_waivers(tmp_path)), "--reports", str(reports), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # nothing else on stdout
    assert (document["verdict"], document["counts"]) == ("conformant", {"conformant": 1, "waived": 2})
    (folder,) = reports.iterdir()
    assert document["reports"] == str(folder)
    assert "infragate: conformant: 1 conformant, 2 waived" in done.stderr  # the lines for people
    assert f"  waived            Security headers: {DISCLOSES} (" in done.stderr  # and the suite's own
    expired = subprocess.run(
        [*command, "--waivers", str(_waivers(tmp_path, expires="2020-01-31")), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert expired.returncode == 3
    assert json.loads(expired.stdout)["error"].endswith("renew the waiver with its reason")

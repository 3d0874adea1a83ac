"""The load engine and `infragate load` against the real reference deployment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infragate.loadgen.histogram import new_histogram, percentile_s, record_seconds
from infragate.loadgen.runner import WORKER_COMMAND_FILE, run_load
from infragate.probes.load import plan_for, scenario_of
from infragate.profile import load_profile
from infragate.safety import consent_for
from infragate.sandbox import local
from infragate.sandbox.host import free_ports
from infragate.sandbox.spec import SandboxSpec
from tests.conftest import CliRun, run_cli

# Load measures time: in the group of timing-sensitive tests that take one xdist worker in turn.
pytestmark = pytest.mark.xdist_group("timing")


def test_an_ad_hoc_load_run_reports_and_judges_the_objectives(reference: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli(
        "load",
        "--target",
        reference.profile,
        "--rate",
        "100",
        "--for",
        "3s",
        "--reports",
        str(tmp_path),
        reports=tmp_path,
    )
    assert run.code == 0, run.output
    assert "load   3/3 s  offered 100/s" in run.output  # live progress, a line a second
    assert "met      p95 below 200 ms" in run.output
    assert "infragate: conformant: every objective judged was met" in run.output
    assert "skipped  throughput at least 195/s: 100/s offered is less than that" in run.output
    (folder,) = tmp_path.iterdir()
    page = (folder / "load.html").read_text()
    assert page.count("<svg") == 4
    assert "latency per second" in page and "requests by latency" in page and "latency by percentile" in page
    assert "answers per request kind: browse " in page and "<h2>Per request kind</h2>" in page
    data = json.loads((folder / "load.json").read_text())
    assert data["result"]["scheduled"] == 300
    assert data["result"]["counts"]["ok"] == 300
    assert data["result"]["counts"]["sent"] == 300  # none lost at an interval's end
    outcomes = {check["name"]: check["outcome"] for check in data["checks"]}
    assert (outcomes["p95 below 200 ms"], outcomes["throughput at least 195/s"]) == ("met", "not judged")


def test_load_beyond_the_safety_caps_is_refused(reference: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli("load", "--target", reference.profile, "--rate", "5000", "--for", "2s", reports=tmp_path)
    assert run.code == 4, run.output
    assert run.output.strip().splitlines() == [
        "infragate: load of 5000/s for 2 s refused: the profile's safety caps ask for a rate within "
        "safety.max_rate (400/s), not 5000/s"
    ]


def test_a_kind_the_scenario_lacks_is_a_usage_error(reference: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli(
        "load",
        "--target",
        reference.profile,
        "--rate",
        "10",
        "--for",
        "1s",
        "--mix",
        "browse=1,checkout=2",
        "--reports",
        str(tmp_path),
        reports=tmp_path,
    )
    assert run.code == 3, run.output
    assert "the mix names checkout, which ReferenceApi does not define (it defines browse, login, search)" in run.output
    assert "Traceback" not in run.output


def test_bad_load_options_get_one_line(reference: local.SandboxState, tmp_path: Path) -> None:
    run = run_cli("load", "--target", reference.profile, "--rate", "fast", reports=tmp_path)
    assert run.code == 3
    assert (
        run.output.strip() == "infragate: load: argument --rate: expected a rate such as 100r/s or 1000r/m, got 'fast'"
    )


def test_two_workers_merge_into_the_histogram_of_all_their_samples(
    reference: local.SandboxState, tmp_path: Path
) -> None:
    profile = load_profile(Path(reference.profile))
    plan = plan_for(profile, rate_per_s=150, duration_s=3, workers=2)
    result = run_load(plan, scenario_of(profile), tmp_path, consent_for(profile.safety, False, True), raw_samples=True)
    assert result.self_check_problem() is None
    assert result.workers_reported == 2 and result.scheduled == 450
    union = new_histogram()
    samples = 0
    for worker in (0, 1):
        raw = json.loads((tmp_path / f"raw.{worker}.json").read_text())["samples"]
        samples += len(raw)
        for _, latency in raw:
            record_seconds(union, latency)
    assert samples == 450
    for percentile in (50, 90, 95, 99, 99.9, 100):
        assert result.percentile_ms(percentile) == percentile_s(union, percentile) * 1000
    assert sum(result.kinds.values()) == 450 and set(result.kinds) == {"browse", "search", "login"}
    # Each kind's answers, merged over both workers, add up to the run's counts.
    rows = result.per_kind
    assert sum(row.ok for row in rows) == result.count("ok") and sum(row.started for row in rows) == 450
    assert sum(row.throttled + row.errors for row in rows) == result.count("throttled") + result.count("errors")


def test_workers_started_elsewhere_join_a_master_bound_for_them(reference: local.SandboxState, tmp_path: Path) -> None:
    # What a Kubernetes Deployment of worker pods does, done here: infragate runs only the master,
    # and each "pod" runs the worker-command.sh the run folder holds. The profile's load.sources are
    # this machine's addresses, so they are not handed to workers elsewhere: both "pods" here send
    # from 127.0.0.1, at 60 requests/s in all, inside every route's per-client limit.
    port = free_ports(1)[0]
    command = [sys.executable, "-m", "infragate", "load", "--target", reference.profile, "--rate", "60"]
    command += ["--for", "3s", "--workers", "2", "--master-bind", f"127.0.0.1:{port}", "--reports", str(tmp_path)]
    master = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pods: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while not (scripts := list(tmp_path.glob(f"*/{WORKER_COMMAND_FILE}"))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scripts, "no worker command was written"
        # A pod: its python3 has infragate, and it is told where the master is.
        environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "INFRAGATE_MASTER_HOST": "127.0.0.1"}
        pods = [subprocess.Popen(["sh", str(scripts[0])], env=environment) for _ in range(2)]
        output = master.communicate(timeout=120)[0].decode()
    finally:
        for process in [master, *pods]:
            if process.poll() is None:
                process.kill()
            process.wait()
    assert master.returncode == 0, output
    assert f"waiting up to 300 s for 2 worker(s) on 127.0.0.1:{port}; start each with {scripts[0]}" in output
    assert [pod.returncode for pod in pods] == [0, 0]
    (report,) = tmp_path.glob("*/load.json")
    measured = json.loads(report.read_text())["result"]
    assert (measured["workers_reported"], measured["scheduled"]) == (2, 180), measured
    assert measured["plan"]["sources"] == []


def _p95_only(profile: str, folder: Path) -> Path:
    """The profile with only a p95 latency objective, the shape of the marketplace's."""
    import yaml

    data = yaml.safe_load(Path(profile).read_text())
    data["load"]["objectives"].pop("p99", None)
    copy = Path(profile).parent / f"p95-only-{folder.name}.yaml"
    copy.write_text(yaml.safe_dump(data))
    return copy


LATENCY = "Latency stays within the declared percentiles under the declared load"


def _slo_run(profile: Path, reports: Path) -> CliRun:
    """The load features against a profile, load allowed."""
    command = ["verify", "--target", str(profile), "--allow-load", "--features", "features/load/slo.feature"]
    return run_cli(*command, "--reports", str(reports), reports=reports)


def test_a_p95_only_objective_is_judged_and_the_missing_p99_is_named(
    reference: local.SandboxState, tmp_path: Path
) -> None:
    run = _slo_run(_p95_only(reference.profile, tmp_path), tmp_path)
    latency = run.verdicts()[LATENCY]
    assert latency["verdict"] == "conformant", run.output
    skipped = [item["data"] for item in latency["evidence"] if item["data"].get("outcome") == "not judged"]
    assert [(item["name"], item["observed"]) for item in skipped] == [("p99", "the profile declares no p99 objective")]


def test_a_p95_only_objective_fails_on_the_stalling_variant(sandbox_root: Path, tmp_path: Path) -> None:
    # Without the monitoring, which it does not look at (Prometheus scrapes every second: CPU the
    # load generator's schedule shares).
    state = local.up("p95-stall", "load-stall", root=sandbox_root, spec=SandboxSpec(monitoring=False))
    try:
        run = _slo_run(_p95_only(state.profile, tmp_path), tmp_path / "first")
        if "could not keep its schedule" in run.output:
            # The generator found itself late (CI's run of 88312b2: 2.5 % of its requests started over
            # 10 ms late, 1 % may): could not verify, as designed; the judgement is what is tested here.
            run = _slo_run(_p95_only(state.profile, tmp_path), tmp_path / "again")
    finally:
        assert not local.down("p95-stall", root=sandbox_root).left_running
    latency = run.verdicts()[LATENCY]
    assert run.code == 1 and latency["verdict"] == "non-conformant", run.output
    assert latency["failed_step"] == "Then the p95 latency is below the declared bound"

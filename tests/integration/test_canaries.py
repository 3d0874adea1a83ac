"""No secret reaches any artifact: canaries planted where a profile may hold secrets, looked for in
every file of passing, failing, erroring and interrupted runs, in what the command printed and in
the recovery journal, raw and in their obvious encodings."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from infragate.recovery.journal import Journal
from infragate.sandbox import local

CANARIES = {
    "CANARY_HEADER": "hdr-Canary/+&<9f1>",  # an expected header value: quoted back by a failing check
    "CANARY_BODY": "body-Canary:7c2e",  # sent in a request body on every auth route probe
    "CANARY_REDIS": "redisCanary4b7d",  # a wrong cache password: the persistence check errors
    "CANARY_DRILL": "drillCanary93a1",  # a wrong scratch password: the restore drill errors
    "CANARY_S3": "s3Canary5e0f",  # a wrong object store secret: the offsite set errors
}


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    return {secret, quote(secret, safe=""), json.dumps(secret)[1:-1], base64.b64encode(raw).decode().rstrip("=")}


def _leaks(secrets: list[str], *places: Path, printed: str = "") -> list[str]:
    found = []
    texts = {"stdout": printed}
    for place in places:
        for path in [place, *place.rglob("*")] if place.is_dir() else [place]:
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for where, text in texts.items():
        found += [f"{form!r} in {where}" for secret in secrets for form in _forms(secret) if form in text]
    return found


def _canary_profile(source: str, folder: Path) -> Path:
    data = yaml.safe_load(Path(source).read_text())
    data["gateway"]["security_headers"]["X-Frame-Options"] = "${CANARY_HEADER}"
    data["gateway"]["routes"]["auth"]["body"] = '{"user": "demo", "password": "${CANARY_BODY}"}'
    port = data["datastores"]["redis"]["url"].rsplit(":", 1)[1]
    data["datastores"]["redis"]["url"] = f"redis://:${{CANARY_REDIS}}@127.0.0.1:{port}"
    local, offsite = data["backups"]["postgres"][:2]
    local["scratch_dsn"] = local["scratch_dsn"].replace("${file:secrets/drill-password}", "${CANARY_DRILL}")
    offsite["s3"]["secret_access_key"] = "${CANARY_S3}"
    copy = Path(source).parent / f"canaries-{folder.name}.yaml"
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    return copy


def _real_secrets(state: local.SandboxState) -> list[str]:
    return [path.read_text().strip() for path in (Path(state.directory) / "secrets").iterdir()]


def _verify(profile: Path, reports: Path, features: list[str], interrupt_in: Path | None = None) -> tuple[int, str]:
    """Run verify with the canaries in its environment; with interrupt_in (a journal folder), SIGTERM it
    as soon as a disruption is journalled there."""
    env = {**os.environ, **CANARIES}
    command = [sys.executable, "-m", "infragate", "verify", "--target", str(profile), "--reports", str(reports)]
    for feature in features:
        command += ["--features", feature]
    run = subprocess.Popen([*command, "--allow-destructive"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    if interrupt_in is not None:
        deadline = time.monotonic() + 90
        while run.poll() is None and time.monotonic() < deadline:
            if any(Journal(folder).pending() for folder in interrupt_in.glob("*") if folder.is_dir()):
                break
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=600)[0].decode()
    return run.returncode, output


@pytest.fixture
def journal_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "journal"
    monkeypatch.setenv("INFRAGATE_JOURNAL_DIR", str(folder))
    return folder


def test_no_canary_in_any_artifact_of_a_failing_and_erroring_run(
    reference: local.SandboxState, tmp_path: Path, journal_dir: Path
) -> None:
    profile = _canary_profile(reference.profile, tmp_path)
    code, output = _verify(
        profile, tmp_path / "reports", ["features/gateway/security_headers.feature", "features/backup/backups.feature"]
    )
    assert code == 1, output
    verdicts = {
        s["scenario"]: s["verdict"]
        for f in (tmp_path / "reports").iterdir()
        for s in json.loads((f / "evidence.json").read_text())["scenarios"]
    }
    assert "non-conformant" in verdicts.values() and "could not verify" in verdicts.values(), verdicts
    assert "***" in output  # the failing header check quotes the expected value, masked
    assert (
        _leaks([*CANARIES.values(), *_real_secrets(reference)], tmp_path / "reports", journal_dir, printed=output) == []
    )


def test_no_canary_in_any_artifact_of_an_interrupted_run(
    reference: local.SandboxState, tmp_path: Path, journal_dir: Path
) -> None:
    profile = _canary_profile(reference.profile, tmp_path)
    code, output = _verify(
        profile,
        tmp_path / "reports",
        [
            "features/gateway/security_headers.feature",
            "features/resilience/failover.feature",
            "features/backup/backups.feature",
        ],
        interrupt_in=journal_dir,
    )
    assert code == 2 and "interrupted" in output, output
    assert (
        _leaks([*CANARIES.values(), *_real_secrets(reference)], tmp_path / "reports", journal_dir, printed=output) == []
    )


def test_no_secret_in_any_artifact_of_a_passing_run(
    reference: local.SandboxState, tmp_path: Path, journal_dir: Path
) -> None:
    data = yaml.safe_load(Path(reference.profile).read_text())
    data["gateway"]["routes"]["auth"]["body"] = '{"user": "demo", "password": "${CANARY_BODY}"}'
    profile = Path(reference.profile).parent / f"passing-{tmp_path.name}.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    code, output = _verify(
        profile, tmp_path / "reports", ["features/gateway/security_headers.feature", "features/backup/backups.feature"]
    )
    assert code == 0, output
    secrets = [CANARIES["CANARY_BODY"], *_real_secrets(reference)]
    assert _leaks(secrets, tmp_path / "reports", journal_dir, printed=output) == []


def _with_url_passwords(data: object, found: list[str]) -> object:
    """The profile's data with a password of its own written into every http(s):// URL (issue 28)."""
    if isinstance(data, dict):
        return {key: _with_url_passwords(value, found) for key, value in data.items()}
    if isinstance(data, list):
        return [_with_url_passwords(value, found) for value in data]
    if isinstance(data, str) and data.startswith(("http://", "https://")) and "@" not in data:
        password = f"urlCanary{len(found):02d}x7q"
        found.append(password)
        scheme, rest = data.split("://", 1)
        return f"{scheme}://infragate:{password}@{rest}"
    return data


def test_no_url_password_in_any_artifact_or_terminal_line(
    reference: local.SandboxState, tmp_path: Path, journal_dir: Path
) -> None:
    """Issue 28: `base_url: https://user:PASSWORD@host` was printed ("could not reach https://user:PASSWORD@...")
    and written into 16 report files. A password in every URL of the profile: the gateway's, the plain HTTP
    one, Prometheus's, Alertmanager's, the receiver's, the supervisor's, the object store's."""
    passwords: list[str] = []
    data = _with_url_passwords(yaml.safe_load(Path(reference.profile).read_text()), passwords)
    profile = Path(reference.profile).parent / f"url-passwords-{tmp_path.name}.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert len(passwords) >= 6, passwords
    code, output = _verify(
        profile,
        tmp_path / "reports",
        [
            "features/gateway/health.feature",
            "features/gateway/security_headers.feature",
            "features/tls/tls.feature",
            "features/monitoring/monitoring.feature",
            "features/backup/backups.feature",
        ],
    )
    assert code in (0, 1, 2), output
    assert "infragate:***@" in output or "infragate:***@" in "".join(
        path.read_text() for path in (tmp_path / "reports").rglob("*.json")
    ), "no URL with its password masked was written anywhere: the test saw none"
    assert _leaks(passwords, tmp_path / "reports", journal_dir, printed=output) == []

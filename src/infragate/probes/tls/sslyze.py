"""The optional deep TLS scan: sslyze's command line, run out of process (sslyze is AGPL-3.0).

infragate never imports sslyze. When an ``sslyze`` executable is on PATH (or named by
$INFRAGATE_SSLYZE), it is run with JSON output and a Mozilla profile; its accepted cipher suites
(TLS 1.3 included, which the standard library cannot enumerate), OCSP stapling and Mozilla
verdict are folded into one result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infragate.errors import ProbeError
from infragate.probes.tls.scan import Endpoint
from infragate.verdicts import Check

SSLYZE_TIMEOUT_S = 180.0
_SUITE_SCANS = {
    "ssl_2_0_cipher_suites": "SSLv2", "ssl_3_0_cipher_suites": "SSLv3", "tls_1_0_cipher_suites": "TLSv1",
    "tls_1_1_cipher_suites": "TLSv1.1", "tls_1_2_cipher_suites": "TLSv1.2", "tls_1_3_cipher_suites": "TLSv1.3",
}  # fmt: skip


def sslyze_executable() -> str | None:
    """The sslyze command to run, or None when it is not installed."""
    return os.environ.get("INFRAGATE_SSLYZE") or shutil.which("sslyze")


@dataclass(frozen=True)
class DeepScanResult:
    """What sslyze found on one endpoint."""

    url: str
    mozilla_profile: str
    compliant: bool
    findings: tuple[str, ...]
    accepted_suites: dict[str, tuple[str, ...]]
    ocsp_stapling: str

    def check(self) -> Check:
        """The endpoint meets the Mozilla profile according to sslyze."""
        expected = f"{self.url} to meet Mozilla '{self.mozilla_profile}' (sslyze)"
        observed = "compliant" if self.compliant else "; ".join(self.findings) or "not compliant"
        return Check.compare("sslyze Mozilla check", expected, observed, self.compliant)


def deep_scan(endpoint: Endpoint, mozilla_profile: str, ca_bundle: Path | None) -> DeepScanResult:
    """Run sslyze against one endpoint and fold its findings."""
    executable = sslyze_executable()
    if executable is None:
        raise ProbeError("sslyze is not installed")
    with tempfile.TemporaryDirectory(prefix="infragate-sslyze-") as folder:
        output = Path(folder) / "scan.json"
        command = [executable, f"--json_out={output}", f"--mozilla_config={mozilla_profile}"]
        if ca_bundle is not None:
            command.append(f"--certinfo_ca_file={ca_bundle}")
        target = f"{endpoint.host}:{endpoint.port}"
        if endpoint.server_name != endpoint.host:
            target += f"{{{endpoint.server_name}}}"
        command.append(target)
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=SSLYZE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ProbeError(f"sslyze did not finish scanning {endpoint.url} within {SSLYZE_TIMEOUT_S:g} s") from None
        if completed.returncode not in (0, 1) or not output.exists():
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ProbeError(f"sslyze failed on {endpoint.url} (exit {completed.returncode}): {tail[0]}")
        report: dict[str, Any] = json.loads(output.read_text())
    results = report.get("server_scan_results") or [{}]
    scan = results[0].get("scan_result") or {}
    if results[0].get("scan_status") not in (None, "COMPLETED"):
        raise ProbeError(f"sslyze could not scan {endpoint.url}: {results[0].get('connectivity_error_trace', '')}")
    suites = {
        version: tuple(
            entry["cipher_suite"]["openssl_name"]
            for entry in ((scan.get(key) or {}).get("result") or {}).get("accepted_cipher_suites", [])
        )
        for key, version in _SUITE_SCANS.items()
    }
    return DeepScanResult(
        url=endpoint.url,
        mozilla_profile=mozilla_profile,
        compliant=completed.returncode == 0,
        findings=_mozilla_findings(completed.stdout),
        accepted_suites={k: v for k, v in suites.items() if v},
        ocsp_stapling=_ocsp(scan),
    )


def _mozilla_findings(console: str) -> tuple[str, ...]:
    """The lines of sslyze's console output that name what fails the Mozilla check."""
    lines = console.splitlines()
    start = next((index for index, line in enumerate(lines) if "Mozilla" in line and "configuration" in line), None)
    if start is None:
        return ()
    return tuple(line.strip() for line in lines[start + 1 :] if line.strip() and not line.strip().startswith("--"))[:12]


def _ocsp(scan: dict[str, Any]) -> str:
    deployments = (((scan.get("certificate_info") or {}).get("result") or {}).get("certificate_deployments")) or []
    if not deployments:
        return "unknown"
    return "stapled" if deployments[0].get("ocsp_response") else "not stapled"

"""Cross-check: infragate's TLS verdicts beside testssl.sh's (and curl's, for the redirect).

For the reference deployment and each TLS variant, run infragate's TLS features and testssl.sh
(Debian package `testssl.sh`) against the same gateway, map testssl's findings to the same
questions, and print both verdicts side by side with the agreement count. testssl's findings are
judged against Mozilla's published intermediate configuration, copied below from the guideline
itself (not from infragate's tables), TLS 1.3 suites and key-exchange groups included. The
deep-scan scenario is sslyze's verdict and has no testssl counterpart here.
Run: `uv run python bench/tls_crosscheck.py`.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infragate.sandbox import local

CASES = (None, "tls10-enabled", "tls11-enabled", "tls-weak-cipher", "tls-extra-groups", "tls13-ccm8-suite",
         "cert-unknown-ca", "cert-wrong-host", "cert-expiring", "hsts-one-day", "http-not-redirected")  # fmt: skip
QUESTIONS = {
    "Only the declared TLS versions are accepted": "versions",
    "No cipher suite outside the declared Mozilla profile is accepted": "ciphers",
    "Key exchange stays within the declared Mozilla profile": "key exchange",
    "Certificates are trusted, match their name and are not about to expire": "certificate",
    "Browsers are told to stay on HTTPS": "hsts",
    "Plain HTTP is redirected to HTTPS": "redirect",
}
DECLARED_VERSIONS = {"TLS1_2", "TLS1_3"}
# The oracle: Mozilla's "intermediate" configuration, guideline 5.7
# (https://ssl-config.mozilla.org/guidelines/5.7.json), in OpenSSL's names as testssl prints them.
MOZILLA_TLS12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}  # fmt: skip
MOZILLA_TLS13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
MOZILLA_GROUPS = {"X25519", "prime256v1", "secp384r1"}
MIN_DAYS, MIN_HSTS_S = 30, 15_552_000


def infragate_verdicts(profile: str, reports: Path) -> dict[str, str]:
    """Scenario -> verdict from `infragate verify` over the TLS features."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "infragate",
            "verify",
            "--target",
            profile,
            "--features",
            "features/tls",
            "--reports",
            str(reports),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    (folder,) = [path for path in reports.iterdir() if path.is_dir()]
    evidence = json.loads((folder / "evidence.json").read_text())
    return {QUESTIONS.get(s["scenario"], "deep scan"): s["verdict"] for s in evidence["scenarios"]}


def testssl_verdicts(host_port: str, ca_bundle: str, http_url: str, https_url: str) -> dict[str, str]:
    """Question -> verdict from testssl.sh's JSON findings (and curl for the redirect)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "testssl.json"
        subprocess.run(
            [
                "testssl",
                "--quiet",
                "--color",
                "0",
                "--warnings",
                "off",
                "--add-ca",
                ca_bundle,
                "--jsonfile",
                str(out),
                "-p",
                "-E",
                "-S",
                "-f",
                "-h",
                host_port,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        findings = {item["id"]: item["finding"] for item in json.loads(out.read_text())}
    offered = {
        key
        for key in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
        if findings.get(key, "").startswith("offered")
    }
    ciphers = {
        value.split()[3]
        for key, value in findings.items()
        if key.startswith("cipher-tls1") or key.startswith("cipher-ssl")
    }  # "TLS 1.2   xc02c   ECDHE-ECDSA-AES256-GCM-SHA384 ..."; TLS 1.3 suites are named TLS_...
    tls13 = {cipher for cipher in ciphers if cipher.startswith("TLS_")}
    # Groups as testssl found them: elliptic curves, and finite-field groups for TLS 1.3 (or DHE).
    groups = set(findings.get("PFS_ECDHE_curves", findings.get("FS_ECDHE_curves", "")).split())
    groups |= {group for group in findings.get("DH_groups", "").split() if group.startswith("ffdhe")}
    not_after = datetime.datetime.strptime(findings.get("cert_notAfter", "1970-01-01 00:00"), "%Y-%m-%d %H:%M")
    days_left = (not_after - datetime.datetime.now()).total_seconds() / 86400
    certificate_ok = (
        findings.get("cert_chain_of_trust", "").startswith("passed")
        and findings.get("cert_trust", "").startswith("Ok")
        and days_left >= MIN_DAYS
    )
    hsts_seconds = findings.get("HSTS_time", "").partition("(=")[2].partition(" ")[0]
    hsts_ok = (
        hsts_seconds.isdigit() and int(hsts_seconds) >= MIN_HSTS_S and "includes" in findings.get("HSTS_subdomains", "")
    )
    curl = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            http_url + "/infragate/redirect-probe?from=http",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    code, _, location = curl.stdout.partition(" ")
    redirect_ok = code in ("301", "308") and location == https_url + "/infragate/redirect-probe?from=http"
    verdict = {True: "conformant", False: "non-conformant"}
    return {
        "versions": verdict[offered == DECLARED_VERSIONS],
        "ciphers": verdict[ciphers - tls13 <= MOZILLA_TLS12],
        "key exchange": verdict[tls13 <= MOZILLA_TLS13 and groups <= MOZILLA_GROUPS],
        "certificate": verdict[certificate_ok],
        "hsts": verdict[hsts_ok] if "HSTS_time" in findings else "could not verify",
        "redirect": verdict[redirect_ok],
    }


def main() -> None:
    """Every case, both tools, one table."""
    if shutil.which("testssl") is None:
        sys.exit("testssl.sh is not installed: apt-get install testssl.sh")
    agree = total = 0
    print(f"{'case':<22} {'question':<12} {'infragate':<17} {'testssl/curl':<17} agree")
    for case in CASES:
        name = f"bench-tls-{case or 'reference'}"
        state = local.up(name, case)
        try:
            started = time.monotonic()
            with tempfile.TemporaryDirectory() as reports:
                ours = infragate_verdicts(state.profile, Path(reports))
            ours_s = time.monotonic() - started
            started = time.monotonic()
            theirs = testssl_verdicts(
                f"127.0.0.1:{state.ports['https']}",
                str(Path(state.directory) / "pki/ca.pem"),
                f"http://127.0.0.1:{state.ports['http']}",
                state.gateway_url,
            )
            theirs_s = time.monotonic() - started
        finally:
            local.down(name)
        for question in (*theirs, "deep scan"):
            peer = theirs.get(question, "(sslyze itself)")
            same = ours.get(question) == peer
            if question in theirs:
                agree += same
                total += 1
            mark = "" if question not in theirs else ("yes" if same else "NO")
            print(f"{case or 'reference':<22} {question:<12} {ours.get(question, '-'):<17} {peer:<17} {mark}")
        print(f"{'':<22} {'time':<12} {ours_s:<17.1f} {theirs_s:<17.1f}")
    print(f"agreement: {agree} of {total}")


if __name__ == "__main__":
    main()

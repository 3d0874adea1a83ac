"""What the standard library cannot offer one at a time: TLS 1.3 cipher suites and key-exchange
groups. Each is offered alone by OpenSSL's own client (``openssl s_client``, Apache-2.0, run out
of process) and the server's answer is read: a handshake is an acceptance, a TLS alert a refusal,
anything else (silence, a reset, no such tool) "could not verify"."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from dataclasses import dataclass

from infragate.errors import ProbeError
from infragate.probes.silence import SILENT
from infragate.probes.survey import Survey
from infragate.probes.tls.mozilla import PROFILES
from infragate.probes.tls.scan import Endpoint, tls_endpoints
from infragate.profile.model import Profile
from infragate.verdicts import Check

TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
# OpenSSL's names (Mozilla's too); finite-field groups are negotiated by name only under TLS 1.3.
EC_GROUPS = ("X25519", "X448", "prime256v1", "secp384r1", "secp521r1")
FF_GROUPS = ("ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")
HANDSHAKE_TIMEOUT_S = 10.0
_REFUSED = ("alert", "no shared cipher", "no suitable", "wrong version number", "unsupported protocol")


@dataclass(frozen=True)
class KeyExchangeScan:
    """The TLS 1.3 suites and the key-exchange groups an endpoint accepts, each offered alone."""

    url: str
    version: str  # the version the groups were offered under
    tls13_suites: tuple[str, ...]
    groups: tuple[str, ...]

    def check(self, mozilla_profile: str) -> Check:
        """No suite or group accepted outside the declared Mozilla profile."""
        profile = PROFILES[mozilla_profile]
        outside = [suite for suite in self.tls13_suites if suite not in profile.tls13_suites]
        outside += [f"group {group}" for group in self.groups if group not in profile.groups]
        expected = f"only Mozilla '{mozilla_profile}' TLS 1.3 suites and key-exchange groups on {self.url}"
        accepted = [*self.tls13_suites, *(f"group {group}" for group in self.groups)]
        observed = (
            f"also {', '.join(outside)} ({self.version})" if outside else f"{', '.join(accepted) or 'nothing'} accepted"
        )
        return Check.compare("TLS 1.3 suites and groups", expected, observed, not outside)


def _openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise ProbeError(
            "no openssl program on PATH: TLS 1.3 suites and key-exchange groups cannot be offered one by one"
        )
    return found


def _offered_alone(endpoint: Endpoint, *options: str) -> bool:
    """Whether the server completes a handshake with what the options offer; False on its TLS alert."""
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    command = [_openssl(), "s_client", "-connect", f"{host}:{endpoint.port}", *options]
    try:
        ipaddress.ip_address(endpoint.server_name)  # an address is never sent as SNI
    except ValueError:
        command += ["-servername", endpoint.server_name]
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=HANDSHAKE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{endpoint.url} did not finish a TLS handshake within {HANDSHAKE_TIMEOUT_S:g} s") from None
    said = (done.stdout + done.stderr).lower()
    if done.returncode == 0 and ", cipher is " in said and "cipher is (none)" not in said:
        return True
    if any(word in said for word in _REFUSED):
        return False
    last = next((line for line in reversed(said.splitlines()) if line.strip()), "no output")
    raise ProbeError(f"{endpoint.url} gave no TLS answer to openssl s_client {' '.join(options)} ({last})")


def scan_key_exchange(endpoint: Endpoint) -> KeyExchangeScan:
    """Offer each TLS 1.3 suite alone, then each group alone (under TLS 1.3 when accepted, else TLS 1.2)."""
    SILENT.refuse_if_silent(endpoint.url)
    if _offered_alone(endpoint, "-tls1_3"):
        suites = tuple(suite for suite in TLS13_SUITES if _offered_alone(endpoint, "-tls1_3", "-ciphersuites", suite))
        groups = tuple(g for g in EC_GROUPS + FF_GROUPS if _offered_alone(endpoint, "-tls1_3", "-groups", g))
        return KeyExchangeScan(endpoint.url, "TLSv1.3", suites, groups)
    if _offered_alone(endpoint, "-tls1_2", "-cipher", "ECDHE"):
        groups = tuple(g for g in EC_GROUPS if _offered_alone(endpoint, "-tls1_2", "-cipher", "ECDHE", "-curves", g))
        return KeyExchangeScan(endpoint.url, "TLSv1.2", (), groups)
    return KeyExchangeScan(endpoint.url, "no TLS 1.2 or 1.3 with ECDHE", (), ())


def survey_key_exchange(profile: Profile) -> Survey[KeyExchangeScan]:
    """Offer suites and groups one by one to every TLS endpoint."""
    return Survey(tuple(scan_key_exchange(endpoint) for endpoint in tls_endpoints(profile)))

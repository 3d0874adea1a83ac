"""TLS probe on the standard library and cryptography: versions, cipher suites, certificate.

Each protocol version is tried on its own; each TLS 1.2 (and older) cipher suite the local OpenSSL
knows is offered alone. Enumeration does not trust the certificate (a weak endpoint with a bad
certificate is still weak); the certificate is judged separately: chain against the profile's CA
bundle or the system store, host name against its SubjectAltNames, days left, key and signature.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

from infragate.errors import ProbeError
from infragate.probes.silence import SILENT
from infragate.probes.survey import Survey
from infragate.probes.tls.mozilla import PROFILES
from infragate.profile.model import Profile, Tls
from infragate.verdicts import Check

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
HANDSHAKE_TIMEOUT_S = 5.0
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    _TLS_VERSIONS = {name: getattr(ssl.TLSVersion, name.replace(".", "_")) for name in VERSIONS}


@dataclass(frozen=True)
class Endpoint:
    """Where a TLS endpoint listens and the name a client asks for."""

    url: str
    host: str
    port: int
    server_name: str

    @classmethod
    def from_url(cls, url: str, server_name: str | None = None) -> Endpoint:
        """An endpoint from an https:// URL."""
        split = urlsplit(url)
        if split.scheme != "https" or not split.hostname:
            raise ProbeError(f"{url} is not an https:// URL")
        return cls(url, split.hostname, split.port or 443, server_name or split.hostname)


def _client(version: str | None, ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    """A client that verifies nothing and offers only what it is told: a probe, not a browser."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(ciphers)
    if version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = _TLS_VERSIONS[version]
    return context


@contextmanager
def _connected(endpoint: Endpoint, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
    SILENT.refuse_if_silent(endpoint.url)
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=HANDSHAKE_TIMEOUT_S)
    except OSError as exc:
        raise ProbeError(f"could not reach {endpoint.url}: {exc.strerror or exc}") from None
    sni = endpoint.server_name if not _is_ip(endpoint.server_name) else None
    with raw, context.wrap_socket(raw, server_hostname=sni) as tls:
        yield tls


# What the local OpenSSL says when the suite offered alone does not exist in the version tried: nothing
# was sent, and no server can accept it.
_NOT_OFFERABLE = ("NO_CIPHERS_AVAILABLE",)
# A server's own refusal comes as a TLS alert, or as a record of another version than the one offered.
_REFUSALS = ("ALERT", "WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION")


def _reason(error: OSError) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error)
    return error.strerror or type(error).__name__


def refusal_seen(error: ssl.SSLError) -> bool:
    """Whether a failed handshake was refused by the server in TLS's own words (an alert), or could not
    be offered at all; a close, a reset or silence says nothing about what the server would accept."""
    reason = str(error.reason or "")
    return any(word in reason for word in (*_REFUSALS, *_NOT_OFFERABLE))


def _handshake(endpoint: Endpoint, context: ssl.SSLContext) -> tuple[str, str] | None:
    """(version, cipher) of a successful handshake, or None when the server refuses it with an alert.

    A time-out, a reset or a close without an alert is a ProbeError: the endpoint did not answer,
    which is no refusal (and no acceptance either)."""
    try:
        with _connected(endpoint, context) as tls:
            cipher = tls.cipher()
            return (tls.version() or "", cipher[0] if cipher else "")
    except ssl.SSLError as exc:
        if refusal_seen(exc):
            return None
        if "NO_PROTOCOLS_AVAILABLE" in str(exc.reason):
            raise ProbeError(
                f"this machine's OpenSSL cannot offer the protocol version tried on {endpoint.url}"
            ) from None
        raise ProbeError(f"{endpoint.url} ended a TLS handshake without a TLS answer ({_reason(exc)})") from None
    except OSError as exc:
        raise ProbeError(
            f"{endpoint.url} gave no TLS answer ({_reason(exc)}): "
            "silence or a reset is no refusal, so the accepted versions cannot be told"
        ) from None


@dataclass(frozen=True)
class ProtocolScan:
    """Which protocol versions and TLS 1.2-and-older cipher suites an endpoint accepts."""

    url: str
    accepted_versions: tuple[str, ...]
    refused_versions: tuple[str, ...]
    ciphers: dict[str, tuple[str, ...]]
    tls13_suite: str | None

    def version_check(self, declared: tuple[str, ...]) -> Check:
        """Only the declared versions accepted, and every declared one."""
        extra = [version for version in self.accepted_versions if version not in declared]
        missing = [version for version in declared if version not in self.accepted_versions]
        problems = []
        if extra:
            problems.append(
                f"expected {self.url} to accept only {', '.join(declared)}, observed it also accepts {', '.join(extra)}"
            )
        if missing:
            problems.append(f"expected {self.url} to accept {', '.join(missing)}, observed it refuses")
        observed = f"{self.url} accepts {', '.join(self.accepted_versions) or 'no version'}"
        return Check.judged("TLS versions", f"only {', '.join(declared)}", observed, problems)

    def cipher_check(self, mozilla_profile: str) -> Check:
        """No accepted suite outside the declared Mozilla profile."""
        allowed = PROFILES[mozilla_profile].tls12_ciphers
        accepted = {f"{suite} ({version})" for version, suites in self.ciphers.items() for suite in suites}
        outside = sorted(suite for suite in accepted if suite.split(" ")[0] not in allowed)
        expected = f"only Mozilla '{mozilla_profile}' cipher suites on {self.url}"
        observed = f"also {', '.join(outside)}" if outside else f"{len(accepted)} suites, all within it"
        return Check.compare("cipher suites", expected, observed, not outside)


def scan_protocols(endpoint: Endpoint) -> ProtocolScan:
    """Try each protocol version alone, and under TLS 1.2 and older each cipher suite alone."""
    accepted, refused, ciphers = [], [], {}
    tls13_suite = None
    for version in VERSIONS:
        result = _handshake(endpoint, _client(version))
        if result is None:
            refused.append(version)
            continue
        accepted.append(version)
        if version == "TLSv1.3":
            tls13_suite = result[1]
            continue
        offered = [suite["name"] for suite in _client(version).get_ciphers() if suite["protocol"] != "TLSv1.3"]
        ciphers[version] = tuple(
            suite for suite in offered if _handshake(endpoint, _client(version, f"{suite}:@SECLEVEL=0")) is not None
        )
    return ProtocolScan(endpoint.url, tuple(accepted), tuple(refused), ciphers, tls13_suite)


@dataclass(frozen=True)
class CertificateReport:
    """The endpoint's certificate and what a client would make of it."""

    url: str
    subject: str
    issuer: str
    names: tuple[str, ...]
    not_after: str
    days_left: float
    key: str
    signature: str
    chain_verified: bool
    chain_error: str
    host_matches: bool
    checked_name: str
    ocsp_stapling: str
    min_days_valid: float  # the declared least number of days left, carried for the history's course

    def chain_check(self) -> Check:
        """The chain verifies against the trust anchors."""
        observed = f"{'verified' if self.chain_verified else self.chain_error} (issuer {self.issuer})"
        return Check.compare(
            "certificate chain", f"the certificate of {self.url} to verify", observed, self.chain_verified
        )

    def host_check(self) -> Check:
        """The certificate names the host clients ask for."""
        expected = f"the certificate of {self.url} to name {self.checked_name}"
        return Check.compare(
            "certificate name", expected, ", ".join(self.names) or "no subjectAltName", self.host_matches
        )

    def expiry_check(self) -> Check:
        """The certificate stays valid for at least the declared number of days."""
        expected = f"the certificate of {self.url} valid for at least {self.min_days_valid:g} more days"
        observed = f"{self.days_left:.1f} (until {self.not_after})"
        return Check.compare("certificate validity", expected, observed, self.days_left >= self.min_days_valid)


def inspect_certificate(endpoint: Endpoint, ca_bundle: Path | None, min_days_valid: float) -> CertificateReport:
    """Fetch the leaf certificate, verify the chain against the trust anchors, match the name; the
    report carries the declared least number of days left."""
    try:
        with _connected(endpoint, _client(None, "DEFAULT")) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; named for the reader
        raise ProbeError(f"could not fetch the certificate of {endpoint.url}: {_reason(exc)}") from None
    if not der:
        raise ProbeError(f"{endpoint.url} sent no certificate")
    certificate = x509.load_der_x509_certificate(der)
    verifying = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    verifying.check_hostname = False
    chain_error = ""
    try:
        with _connected(endpoint, verifying):
            pass
    except ssl.SSLCertVerificationError as exc:
        chain_error = exc.verify_message or str(exc)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"could not verify the chain of {endpoint.url}: {_reason(exc)}") from None
    names = _subject_alt_names(certificate)
    not_after = certificate.not_valid_after_utc
    return CertificateReport(
        url=endpoint.url,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        names=tuple(names),
        not_after=not_after.isoformat(),
        days_left=(not_after - datetime.datetime.now(datetime.UTC)).total_seconds() / 86400,
        key=_describe_key(certificate),
        signature=_signature(certificate),
        chain_verified=not chain_error,
        chain_error=chain_error,
        host_matches=_matches(endpoint.server_name, names),
        checked_name=endpoint.server_name,
        ocsp_stapling="not inspected (the standard library cannot request it; the deep scan reports it)",
        min_days_valid=min_days_valid,
    )


def _subject_alt_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [
        *extension.get_values_for_type(x509.DNSName),
        *(str(address) for address in extension.get_values_for_type(x509.IPAddress)),
    ]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _matches(name: str, names: list[str]) -> bool:
    """RFC 6125 matching: IP addresses exactly; DNS names case-insensitively, a wildcard for one left label."""
    if _is_ip(name):
        return any(
            _is_ip(candidate) and ipaddress.ip_address(candidate) == ipaddress.ip_address(name) for candidate in names
        )
    wanted = name.lower().rstrip(".")
    for candidate in (candidate.lower().rstrip(".") for candidate in names if not _is_ip(candidate)):
        if candidate == wanted:
            return True
        if candidate.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == candidate[2:]:
            return True
    return False


def _describe_key(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return type(key).__name__.removesuffix("PublicKey")
    return type(key).__name__


def _signature(certificate: x509.Certificate) -> str:
    algorithm = certificate.signature_hash_algorithm
    key = certificate.signature_algorithm_oid
    family = next((name for name, oids in _SIGNATURE_FAMILIES.items() if key in oids), key.dotted_string)
    return f"{family} with {algorithm.name if algorithm else 'no hash'}"


_SIGNATURE_FAMILIES = {
    "ECDSA": {
        SignatureAlgorithmOID.ECDSA_WITH_SHA256,
        SignatureAlgorithmOID.ECDSA_WITH_SHA384,
        SignatureAlgorithmOID.ECDSA_WITH_SHA512,
        SignatureAlgorithmOID.ECDSA_WITH_SHA1,
    },
    "RSA": {
        SignatureAlgorithmOID.RSA_WITH_SHA256,
        SignatureAlgorithmOID.RSA_WITH_SHA384,
        SignatureAlgorithmOID.RSA_WITH_SHA512,
        SignatureAlgorithmOID.RSA_WITH_SHA1,
        SignatureAlgorithmOID.RSASSA_PSS,
    },
    "Ed25519": {SignatureAlgorithmOID.ED25519},
    "Ed448": {SignatureAlgorithmOID.ED448},
}


def tls_endpoints(profile: Profile) -> tuple[Endpoint, ...]:
    """The profile's TLS endpoints (default: the gateway's base URL)."""
    tls = profile.tls
    urls = (tls.endpoints if tls and tls.endpoints else ()) or (profile.gateway.base_url,)
    return tuple(Endpoint.from_url(url, tls.server_name if tls else None) for url in urls)


def survey_protocols(profile: Profile) -> Survey[ProtocolScan]:
    """Scan versions and cipher suites of every TLS endpoint."""
    return Survey(tuple(scan_protocols(endpoint) for endpoint in tls_endpoints(profile)))


def survey_certificates(profile: Profile) -> Survey[CertificateReport]:
    """Inspect the certificate of every TLS endpoint."""
    least = (profile.tls or Tls()).min_days_valid
    return Survey(tuple(inspect_certificate(e, profile.gateway.ca_bundle, least) for e in tls_endpoints(profile)))

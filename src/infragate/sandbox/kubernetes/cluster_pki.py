"""The Kubernetes reference cluster's PKI, made anew for each cluster: one CA for the API server and
its clients (each component a user and group in its certificate's subject), one for the
aggregation layer's front proxy, and the key that signs service-account tokens."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from infragate.sandbox.pki import authority

VALID_DAYS = 30


@dataclass(frozen=True)
class Identity:
    """A certificate to issue: who (user, groups), for what (client, server, both), and its names."""

    file: str
    user: str
    groups: tuple[str, ...] = ()
    server_names: tuple[str, ...] = ()  # DNS names and IP addresses of a serving certificate
    client: bool = True


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


Authority = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _authority(directory: Path, stem: str, now: datetime.datetime) -> Authority:
    key, certificate = authority(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"infragate {stem}")]), now, VALID_DAYS
    )
    (directory / f"{stem}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _write_key(directory / f"{stem}.key", key)
    return key, certificate


def _leaf(
    directory: Path,
    identity: Identity,
    signer: Authority,
    now: datetime.datetime,
) -> None:
    signer_key, signer_certificate = signer
    key = _key()
    subject = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in identity.groups),
            x509.NameAttribute(NameOID.COMMON_NAME, identity.user),
        ]
    )
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if identity.client else []
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    if identity.server_names:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        names: list[x509.GeneralName] = []
        for host in identity.server_names:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False).sign(signer_key, hashes.SHA256())
    (directory / f"{identity.file}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _write_key(directory / f"{identity.file}.key", key)


def issue(directory: Path, cluster: tuple[Identity, ...], front_proxy: tuple[Identity, ...]) -> None:
    """Write ca.pem/.key with the cluster's certificates, front-proxy-ca with its own, and sa.key/.pub."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    now = datetime.datetime.now(datetime.UTC)
    for stem, identities in (("ca", cluster), ("front-proxy-ca", front_proxy)):
        made = _authority(directory, stem, now)
        for identity in identities:
            _leaf(directory, identity, made, now)
    signing = _key()
    _write_key(directory / "sa.key", signing)
    (directory / "sa.pub").write_bytes(
        signing.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

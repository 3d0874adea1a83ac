"""Mozilla's server-side TLS profiles (version 5.7 of their guidelines), as data: protocols and the
TLS 1.2 cipher suites each allows, in OpenSSL names. TLS 1.3 suites are all allowed by every profile."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MozillaProfile:
    """One of Mozilla's configurations."""

    name: str
    protocols: frozenset[str]
    tls12_ciphers: frozenset[str]


_INTERMEDIATE_CIPHERS = frozenset({
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
})  # fmt: skip

_OLD_EXTRA_CIPHERS = frozenset({
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
    "DHE-RSA-AES128-SHA256", "DHE-RSA-AES256-SHA256", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
    "AES128-SHA256", "AES256-SHA256", "AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
})  # fmt: skip

PROFILES = {
    "modern": MozillaProfile("modern", frozenset({"TLSv1.3"}), frozenset()),
    "intermediate": MozillaProfile("intermediate", frozenset({"TLSv1.2", "TLSv1.3"}), _INTERMEDIATE_CIPHERS),
    "old": MozillaProfile(
        "old", frozenset({"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}), _INTERMEDIATE_CIPHERS | _OLD_EXTRA_CIPHERS
    ),
}

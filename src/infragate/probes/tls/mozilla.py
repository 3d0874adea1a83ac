"""Mozilla's server-side TLS profiles, as data: the guidelines' own JSON (version in its name), read
once. Protocols, the TLS 1.2-and-older cipher suites (OpenSSL names), the TLS 1.3 cipher suites and
the key-exchange groups each profile allows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GUIDELINES = Path(__file__).with_name("mozilla-guidelines-5.7.json")


@dataclass(frozen=True)
class MozillaProfile:
    """One of Mozilla's configurations."""

    name: str
    protocols: frozenset[str]
    tls12_ciphers: frozenset[str]
    tls13_suites: frozenset[str]
    groups: frozenset[str]


def _load(path: Path) -> dict[str, MozillaProfile]:
    configurations = json.loads(path.read_text())["configurations"]
    return {
        name: MozillaProfile(
            name,
            frozenset(entry["tls_versions"]),
            frozenset(entry["ciphers_openssl"]),
            frozenset(entry["ciphersuites"]),
            frozenset(entry["tls_curves"]),
        )
        for name, entry in configurations.items()
    }


PROFILES = _load(GUIDELINES)
VERSION = json.loads(GUIDELINES.read_text())["version"]

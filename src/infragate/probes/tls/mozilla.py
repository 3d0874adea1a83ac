"""Mozilla's server-side TLS profiles, as data: the guidelines' own JSON (version in its name), read
once. Protocols, and the TLS 1.2-and-older cipher suites each profile allows, in OpenSSL names;
every TLS 1.3 suite is allowed by every profile."""

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


def _load(path: Path) -> dict[str, MozillaProfile]:
    configurations = json.loads(path.read_text())["configurations"]
    return {
        name: MozillaProfile(name, frozenset(entry["tls_versions"]), frozenset(entry["ciphers_openssl"]))
        for name, entry in configurations.items()
    }


PROFILES = _load(GUIDELINES)
VERSION = json.loads(GUIDELINES.read_text())["version"]

"""Target profiles: ``fields`` (durations, rates, URLs, paths), ``model`` (the gateway, services,
platform, resilience, load and safety sections), ``storage`` (datastores and backups), ``loader``
(YAML with line numbers, secret references, bounds), ``consistency`` (checks across sections) and
``secrets`` (references and redaction)."""

from infragate.profile.loader import load_profile, parse_profile
from infragate.profile.model import Profile
from infragate.profile.secrets import REDACTOR

__all__ = ["REDACTOR", "Profile", "load_profile", "parse_profile"]

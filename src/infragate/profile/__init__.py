"""Target profiles: schema, loading, secrets and redaction."""

from infragate.profile.loader import load_profile, parse_profile
from infragate.profile.model import Profile
from infragate.profile.secrets import REDACTOR

__all__ = ["REDACTOR", "Profile", "load_profile", "parse_profile"]

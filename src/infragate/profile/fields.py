"""The field types profiles are made of: durations, rates, shares, memory sizes, URLs, paths
relative to the profile, and the strict base model (unknown keys are errors)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
)

from infragate.quantities import Rate, parse_duration, parse_rate, parse_share

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _duration(value: object) -> float:
    return parse_duration(value)


def _rate(value: object) -> Rate:
    return value if isinstance(value, Rate) else parse_rate(value)


def profile_path(value: object, info: ValidationInfo) -> object:
    """Resolve a relative path against the profile's own folder, and insist that it exists."""
    if not isinstance(value, (str, Path)):
        return value
    path = Path(value).expanduser()
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.exists():
        raise ValueError(f"an existing file (no file at {path})")
    return path


BUILTIN_SCENARIOS = Path(__file__).resolve().parent.parent / "load"


def scenario_path(value: object, info: ValidationInfo) -> object:
    """A built-in load scenario by name, or a locustfile path resolved against the profile's folder."""
    if not isinstance(value, str):
        return value
    if "/" not in value and not value.endswith(".py"):
        if not (BUILTIN_SCENARIOS / f"{value}.py").is_file():
            known = ", ".join(sorted(path.stem for path in BUILTIN_SCENARIOS.glob("*.py")))
            raise ValueError(f"a built-in scenario ({known}) or a path to a locustfile ending in .py")
        return str(BUILTIN_SCENARIOS / f"{value}.py")
    return str(profile_path(value, info))


def server_url(value: str, schemes: tuple[str, ...], example: str, socket_scheme: str | None = None) -> str:
    """The URL when it has one of the schemes, a host and a port from 1 to 65535 (or none), and no
    spaces; ValueError naming what is expected otherwise, never quoting the value (it may hold a
    password). A local socket counts as a host: ``socket_scheme:///path``, or a ``host=/folder``
    query (libpq's form)."""
    expected = (
        f"a URL such as {example} ({' or '.join(f'{scheme}://' for scheme in schemes)}, a host, "
        "a port from 1 to 65535, no spaces)"
    )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(expected) from None
    on_socket = (parts.scheme == socket_scheme and parts.path.startswith("/")) or "host=/" in parts.query
    if parts.scheme not in (*schemes, socket_scheme) or any(c.isspace() for c in value) or port == 0:
        raise ValueError(expected)
    if not (parts.hostname or on_socket):
        raise ValueError(expected)
    return value


def _url(value: object) -> object:
    if not isinstance(value, str):
        return value
    return server_url(value, ("http", "https"), "https://host:8443").rstrip("/")


def _url_path(value: object) -> object:
    if isinstance(value, str) and not value.startswith("/"):
        raise ValueError("a path starting with /")
    return value


def replicas_bound(value: object) -> object:
    """A replica count as a bound: a plain number means exactly that many (min = max)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"min": value, "max": value}
    if isinstance(value, dict):
        return value
    raise ValueError("a replica count (a whole number) or bounds {min: N, max: M}")


def _share(value: object) -> float:
    return parse_share(value)


MAX_DURATION_S = 10 * 365 * 86400.0  # ten years: longer than any retention or RPO a design states


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("a duration above 0, such as 5s")
    return value


def _reasonable(value: float) -> float:
    if value > MAX_DURATION_S:
        raise ValueError(f"a duration of at most ten years ({MAX_DURATION_S:.0f} s)")
    return value


Duration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive), AfterValidator(_reasonable)]
DurationOrZero = Annotated[float, BeforeValidator(_duration), AfterValidator(_reasonable)]
Share = Annotated[float, BeforeValidator(_share)]
RateValue = Annotated[Rate, BeforeValidator(_rate)]
ExistingPath = Annotated[Path, BeforeValidator(profile_path)]
Url = Annotated[str, BeforeValidator(_url)]
UrlPath = Annotated[str, BeforeValidator(_url_path)]


class StrictModel(BaseModel):
    """Base of every profile model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _memory(value: object) -> object:
    """Bytes from 268435456, "256M", "256MiB", "1G" (binary units, as Docker reads them)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", value.lower())
        if match is None:
            raise ValueError("a memory size such as 256M or 1G")
        return float(match.group(1)) * _MEMORY_UNITS[match.group(2)]
    return value


Memory = Annotated[float, BeforeValidator(_memory), Field(gt=0)]

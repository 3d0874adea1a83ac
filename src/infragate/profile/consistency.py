"""Checks across a profile's sections that one model cannot make alone: routes referred to exist,
scratch databases are not the source, a WAL archive names a backup set, a load run fits the
safety caps. Each failure names the file, the key path and its line."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from infragate.errors import ProfileError
from infragate.loadgen.plan import expand_sources
from infragate.profile.model import Profile

KeyPath = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted(key: KeyPath) -> str:
    """A key path as people write it: services.api.replicas; odd keys quoted, list items as [n]."""
    text = ""
    for part in key:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + (part if _PLAIN_KEY.fullmatch(part) else repr(part))
    return text


def check_references(profile: Profile, file: str, lines: dict[KeyPath, int]) -> None:
    """Every route a profile refers to must be declared under gateway.routes."""
    references: list[tuple[KeyPath, str | None]] = [
        (("services", name, "route"), service.route) for name, service in profile.services.items()
    ]
    gateway = profile.gateway
    references += [
        (("gateway", "cors", "route"), gateway.cors.route if gateway.cors else None),
        (("gateway", "compression", "route"), gateway.compression.route if gateway.compression else None),
    ]
    if profile.resilience is not None:
        references.append((("resilience", "route"), profile.resilience.route))
        if profile.resilience.service not in profile.services:
            key: KeyPath = ("resilience", "service")
            services = ", ".join(sorted(profile.services)) or "none declared"
            raise ProfileError(
                file, dotted(key), f"a service declared under services (known: {services})", lines.get(key)
            )
    known = ", ".join(sorted(gateway.routes)) or "none declared"
    for key, route in references:
        if route is not None and route not in gateway.routes:
            raise ProfileError(
                file, dotted(key), f"a route declared under gateway.routes (known: {known})", lines.get(key)
            )


def check_scratch(profile: Profile, file: str, lines: dict[KeyPath, int]) -> None:
    """A restore drill never writes to the source database, nor to its server unless allowed."""
    sets = profile.backups.postgres if profile.backups else ()
    source_dsn = profile.datastores.postgres.dsn.get_secret_value() if profile.datastores.postgres else None
    for index, backups in enumerate(sets):
        if backups.scratch_dsn is None:
            continue
        key: KeyPath = ("backups", "postgres", index, "scratch_dsn")
        if key not in lines:  # a single set written as a mapping
            key = ("backups", "postgres", "scratch_dsn")
        if source_dsn is None:
            raise ProfileError(
                file,
                "datastores.postgres.dsn",
                "the source database's DSN (backups.postgres needs it)",
                lines.get(("datastores",)),
            )
        source, scratch = urlsplit(source_dsn), urlsplit(backups.scratch_dsn.get_secret_value())
        same_server = (source.hostname, source.port or 5432) == (scratch.hostname, scratch.port or 5432)
        if same_server and source.path.strip("/") == scratch.path.strip("/"):
            raise ProfileError(file, dotted(key), "a scratch database other than the source database", lines.get(key))
        if same_server and not backups.allow_same_server:
            raise ProfileError(
                file,
                dotted(key),
                "a scratch database on another server than the source (or allow_same_server: true)",
                lines.get(key),
            )


def check_wal_archive(profile: Profile, file: str, lines: dict[KeyPath, int]) -> None:
    """WAL archiving is read on a database the profile names, against a pgBackRest set it declares."""
    wal = profile.backups.wal_archive if profile.backups else None
    if profile.backups is None or wal is None:
        return
    if wal.dsn is None and profile.datastores.postgres is None:
        key: KeyPath = ("backups", "wal_archive", "dsn")
        raise ProfileError(file, dotted(key), "a DSN of the primary (or datastores.postgres.dsn)", lines.get(key[:2]))
    if wal.repository is not None:
        repository = profile.backups.wal_repository()
        if repository is None or repository.holds_dumps:
            key = ("backups", "wal_archive", "repository")
            sets = [config.name for config in profile.backups.postgres if not config.holds_dumps and config.name]
            known = ", ".join(sets) or "none declared"
            raise ProfileError(
                file, dotted(key), f"the name of a pgbackrest: backup set (known: {known})", lines.get(key)
            )


def check_load(profile: Profile, file: str, lines: dict[KeyPath, int]) -> None:
    """The declared load stays inside the profile's own safety caps, and its sources are addresses."""
    load = profile.load
    if load is None:
        return
    try:
        expand_sources(load.sources)
    except ValueError as exc:
        raise ProfileError(file, "load.sources", str(exc), lines.get(("load", "sources"))) from None
    problem = load_cap_problem(profile, load.rate.per_second, load.duration)
    if problem is not None:
        raise ProfileError(file, "load.rate", problem, lines.get(("load", "rate")))


def check_traffic(profile: Profile, file: str, lines: dict[KeyPath, int]) -> None:
    """Steady traffic during faults stays inside the profile's own rate cap, as the declared load must."""
    resilience = profile.resilience
    if resilience is not None and resilience.traffic_rate > profile.safety.max_rate:
        key: KeyPath = ("resilience", "traffic_rate")
        raise ProfileError(
            file,
            dotted(key),
            f"a rate within safety.max_rate ({profile.safety.max_rate:g}/s), not {resilience.traffic_rate:g}/s",
            lines.get(key, lines.get(key[:1])),
        )


def load_cap_problem(profile: Profile, rate_per_s: float, duration_s: float) -> str | None:
    """Why a load exceeds the profile's safety caps (max_rate, max_duration, max_requests), or None."""
    safety = profile.safety
    if rate_per_s > safety.max_rate:
        return f"a rate within safety.max_rate ({safety.max_rate:g}/s), not {rate_per_s:g}/s"
    if duration_s > safety.max_duration:
        return f"a duration within safety.max_duration ({safety.max_duration:g} s), not {duration_s:g} s"
    if rate_per_s * duration_s > safety.max_requests:
        return (
            f"at most safety.max_requests ({safety.max_requests}) requests in all, "
            f"not {rate_per_s:g}/s x {duration_s:g} s = {rate_per_s * duration_s:.0f}"
        )
    return None

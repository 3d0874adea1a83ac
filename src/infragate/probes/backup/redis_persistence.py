"""Redis persistence: what the running server says about its append-only file and snapshots,
asked over its own protocol (no client library), against what the profile declares."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from infragate.errors import ProbeError
from infragate.profile.model import Profile
from infragate.verdicts import Check


@dataclass(frozen=True)
class RedisPersistenceResult:
    """Redis's persistence settings as the server reports them."""

    appendonly: str
    save: str
    declared_appendonly: bool | None
    declared_save: str | None

    def check(self) -> Check:
        """The persistence settings as declared."""
        declared = []
        if self.declared_appendonly is not None:
            declared.append(f"appendonly {'yes' if self.declared_appendonly else 'no'}")
        if self.declared_save is not None:
            declared.append(f"save {self.declared_save!r}")
        observed = f"appendonly {self.appendonly}, save {self.save!r}"
        return Check.judged("Redis persistence", ", ".join(declared) or "nothing", observed, self._problems())

    def _problems(self) -> list[str]:
        problems = []
        if self.declared_appendonly is not None and (self.appendonly == "yes") != self.declared_appendonly:
            problems.append(
                f"expected Redis appendonly {'yes' if self.declared_appendonly else 'no'}, observed {self.appendonly}"
            )
        if self.declared_save is not None and self.save.split() != self.declared_save.split():
            problems.append(f"expected Redis save {self.declared_save!r}, observed {self.save!r}")
        return problems


def _resp(command: list[str]) -> bytes:
    parts = [f"*{len(command)}\r\n".encode()]
    for word in command:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _reply(stream: socket.SocketIO) -> object:
    line = stream.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise ProbeError(f"Redis refused: {rest.decode()}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else stream.read(length + 2)[:-2].decode()
    if kind == b"*":
        return [_reply(stream) for _ in range(int(rest))]
    raise ProbeError(f"unexpected answer from Redis: {line[:40]!r}")


def redis_persistence(profile: Profile) -> RedisPersistenceResult:
    """Ask Redis (CONFIG GET) how it persists."""
    if profile.backups is None or profile.backups.redis is None or profile.datastores.redis is None:
        raise ProbeError("the profile declares no backups.redis section or no datastores.redis URL")
    url = urlsplit(profile.datastores.redis.url.get_secret_value())
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=5) as connection:
            stream = socket.SocketIO(connection, "rwb")
            if url.password:
                stream.write(_resp(["AUTH", unquote(url.password)]))
                _reply(stream)
            settings = {}
            for name in ("appendonly", "save"):
                stream.write(_resp(["CONFIG", "GET", name]))
                answer = _reply(stream)
                settings[name] = str(answer[1]) if isinstance(answer, list) and len(answer) == 2 else ""
    except OSError as exc:
        raise ProbeError(f"could not reach Redis at {url.hostname}:{url.port}: {exc}") from None
    declared = profile.backups.redis
    return RedisPersistenceResult(settings["appendonly"], settings["save"], declared.appendonly, declared.save)

"""What every sandbox runtime shares on this machine: its root folder, free ports, file locks, the
accounts its servers run as (PostgreSQL's and Redis's own), and which processes of a sandbox are still alive."""

from __future__ import annotations

import fcntl
import os
import pwd
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infragate.errors import SandboxError, UsageError
from infragate.probes.backup.postgres import SERVER_USER

REDIS_USER = "redis"


def default_root() -> Path:
    """Where sandboxes live: $INFRAGATE_SANDBOX_ROOT, else a per-user folder in /tmp.

    Not under $HOME: PostgreSQL runs as another user when infragate runs as root, and must be able
    to reach its data folder.
    """
    configured = os.environ.get("INFRAGATE_SANDBOX_ROOT")
    return Path(configured) if configured else Path("/tmp") / f"infragate-{os.getuid()}"


def sandbox_dir(name: str, root: Path | None = None) -> Path:
    """The folder of a named sandbox."""
    if not name or not all(char.isalnum() or char in "-_" for char in name):
        raise UsageError(f"--name: '{name}' is not a sandbox name (expected letters, digits, - and _)")
    return (root or default_root()) / name


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that nothing listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_root() -> bool:
    """Whether infragate runs as root (PostgreSQL then runs as its own user)."""
    return os.geteuid() == 0


# The servers that run as their own account when infragate runs as root: Debian's packages create it.
ACCOUNTS = {SERVER_USER: "postgresql", REDIS_USER: "redis-server"}


def account(name: str) -> pwd.struct_passwd:
    """A server's own account (postgres, redis), which must exist when running as root."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        package = ACCOUNTS.get(name, name)
        raise SandboxError(f"running as root needs the '{name}' user (apt-get install {package} creates it)") from None


def postgres_user() -> pwd.struct_passwd:
    """The PostgreSQL server's user, which must exist when running as root."""
    return account(SERVER_USER)


def runs_as(name: str) -> str:
    """The user a server of that account runs as: the account itself as root, else the user running
    infragate (who cannot switch)."""
    return name if is_root() else pwd.getpwuid(os.geteuid()).pw_name


def chown_to(path: Path, name: str) -> None:
    """Give a folder tree (or a file) to a server's account (when running as root)."""
    if is_root():
        user = account(name)
        for item in [path, *path.rglob("*")]:
            os.chown(item, user.pw_uid, user.pw_gid, follow_symlinks=False)


def chown_to_postgres(path: Path) -> None:
    """Give a folder tree to the PostgreSQL server's user (when running as root)."""
    chown_to(path, SERVER_USER)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file: one process (or thread) at a time builds a shared thing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def alive(pid: int) -> bool:
    """Whether a process of that pid exists (perhaps another user's). No pid (0, a missing pid file
    read as 0) is no process: os.kill(0, 0) would ask about the caller's own process group."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every live process we may see.

    Zombies are left out: they have exited and hold nothing (no port, file or memory) but a pid
    until their parent reaps them, which, for daemonised supervisord, is whatever runs as pid 1.
    """
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: fields start after the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[3]))
    return table


def sandbox_processes(leader: int) -> list[int]:
    """Every process of a sandbox: supervisord's session, and every descendant of it.

    Descendants count too because some programs (PostgreSQL's workers) start sessions of their own.
    """
    table = process_table()
    found = {pid for pid, (_, session) in table.items() if session == leader}
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in table.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return sorted(found)

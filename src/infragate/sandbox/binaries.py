"""Finding the server programs the reference deployment runs, with an install hint when one is missing."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

from infragate.errors import SandboxError

_EXTRA_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_HINTS = {
    "nginx": "apt-get install nginx-light",
    "redis-server": "apt-get install redis-server",
    "postgres": "apt-get install postgresql",
}


def find(program: str) -> Path:
    """The path of a server program on PATH or in the usual sbin folders."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_DIRS])
    found = shutil.which(program, path=search)
    if found is None:
        raise SandboxError(f"{program} is not installed ({_HINTS.get(program, 'install it')})")
    return Path(found)


def postgres_bindir() -> Path:
    """The folder holding postgres, initdb, pg_ctl and psql of the newest installed PostgreSQL."""
    pg_config = shutil.which("pg_config")
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    if candidates:
        return Path(candidates[-1])
    if pg_config is not None:
        return Path(pg_config).resolve().parent
    postgres = shutil.which("postgres")
    if postgres is not None:
        return Path(postgres).resolve().parent
    raise SandboxError(f"PostgreSQL is not installed ({_HINTS['postgres']})")

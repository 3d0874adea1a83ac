"""The Swarm reference stack's images, built here and never pulled.

One Debian rootfs from debootstrap (cached) holds every package of the stack; each role (gateway,
api, postgres, redis, monitoring) gets its own image cut from it: Debian's required packages, the role's own
packages with what they depend on, and the stack's scripts. It matters because vfs, the storage
driver that works on any machine, gives every container a full copy of its image: one image with
everything made each container cost 350 MB to create and to remove. Which file belongs to which
package, and what depends on what, comes from dpkg's own records inside the rootfs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import NotFound

from infragate.errors import SandboxError
from infragate.probes.monitoring import receiver
from infragate.sandbox import backend
from infragate.sandbox.docker_engine import engine
from infragate.sandbox.host import file_lock

IMAGE_REPOSITORY = "infragate/stack"
RECIPE = 5  # bump when what goes into an image changes in a way the digest cannot see
ROLES: dict[str, tuple[str, ...]] = {
    "gateway": ("nginx-light", "python3"),  # python3 for its health check
    "api": ("python3-aiohttp",),
    "postgres": ("postgresql-15",),
    "redis": ("redis-server",),
    # Prometheus, Alertmanager, the Redis exporter and infragate's webhook receiver, in one task.
    "monitoring": ("prometheus", "prometheus-alertmanager", "prometheus-redis-exporter", "python3"),
}
BASE = ("procps", "ca-certificates")  # in every image, beside Debian's required packages
# Installed as dependencies, never run by the stack, left out of every image: PostgreSQL's JIT (off
# here) and the library only it uses, a third of the rootfs; Perl with postgresql-common's wrapper
# scripts (the stack starts the server's binaries directly) and locale sources; apt.
UNUSED = (
    "libjs-moment-timezone",  # 218 MB of time zones for the web UI of Prometheus; its API needs none
    "libllvm15",
    "libz3-4",
    "perl",
    "perl-base",
    "perl-modules-5.36",
    "libperl5.36",
    "locales",
    "apt",
    "libapt-pkg6.0",
)
# What debootstrap installs (this order is part of the rootfs cache key).
PACKAGES = (
    "python3",
    "python3-aiohttp",
    "nginx-light",
    "postgresql-15",
    "redis-server",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-redis-exporter",
    *BASE,
)
# Scripts of infragate's own each image carries in /opt/infragate (stdlib and aiohttp only).
PROGRAMS = {"backend.py": Path(backend.__file__), "receiver.py": Path(receiver.__file__)}
MIRROR = os.environ.get("INFRAGATE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
CACHE = Path(os.environ.get("INFRAGATE_IMAGE_CACHE", "/var/lib/infragate-images"))
# Never in an image: apt's caches, documentation, and the cluster postgresql-common creates on install.
_SLIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "var/lib/postgresql/15",
)

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ENTRY_SCRIPTS = {
    "api.sh": """#!/bin/sh
# One API replica: the reference backend, named after the task's hostname (api-<slot>).
set -e
faults=""
for fault in $(echo "${INFRAGATE_FAULTS:-}" | tr ',' ' '); do faults="$faults --fault $fault"; done
exec python3 /opt/infragate/backend.py --name "$(hostname)" --host 0.0.0.0 --port 8000 $faults
""",
    "postgres.sh": """#!/bin/sh
set -e
PGDATA=/var/lib/postgresql/data
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" /run/postgresql && chown postgres "$PGDATA" /run/postgresql
    runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" -U postgres \\
        --auth-local=trust --auth-host=scram-sha-256 --pwfile=/run/secrets/postgres_password >/dev/null
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
mkdir -p /run/postgresql && chown postgres /run/postgresql
exec runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D "$PGDATA" \\
    -c listen_addresses='*' -c shared_buffers=32MB -c jit=off
""",
    "redis.sh": """#!/bin/sh
set -e
exec redis-server --requirepass "$(cat /run/secrets/redis_password)" --appendonly yes --save "900 1" \\
    --dir /var/lib/redis
""",
    "monitoring.sh": """#!/bin/bash
# The stack's monitoring in one task; it ends (and Swarm starts it again) when any part ends.
# Redis by its task's address (tasks.redis), as the gateway finds the API: a service's virtual
# address needs IPVS, which these machines lack.
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
REDIS_PASSWORD="$(cat /run/secrets/redis_password)" prometheus-redis-exporter \
    -redis.addr=redis://tasks.redis:6379 -web.listen-address=127.0.0.1:9121 &
prometheus-alertmanager --config.file=/etc/infragate/alertmanager.yml --storage.path=/tmp/alertmanager \
    --web.listen-address=:9093 --cluster.listen-address= &
prometheus --config.file=/etc/infragate/prometheus.yml --storage.tsdb.path=/tmp/prometheus \
    --storage.tsdb.retention.time=2h --web.listen-address=:9090 &
python3 /opt/infragate/receiver.py --host 0.0.0.0 --port 9095 &
wait -n
exit 1
""",
}


@dataclass(frozen=True)
class Images:
    """The stack's image per role, and the seconds building them took (0 when all were there)."""

    tags: dict[str, str]
    build_s: float


def image_tag(role: str) -> str:
    """A role's image tag: a digest of the recipe, the packages, the backend and the entry scripts."""
    digest = hashlib.sha256(f"{RECIPE} {SUITE} {' '.join(PACKAGES)} {role} {' '.join(ROLES[role])}".encode())
    for program in PROGRAMS.values():
        digest.update(program.read_bytes())
    for name, text in sorted(ENTRY_SCRIPTS.items()):
        digest.update(name.encode() + text.encode())
    return f"{IMAGE_REPOSITORY}-{role}:{digest.hexdigest()[:12]}"


def _rootfs() -> Path:
    """A Debian rootfs with every package of the stack, built once per package list and cached."""
    key = hashlib.sha256(f"{SUITE} {' '.join(PACKAGES)}".encode()).hexdigest()[:12]
    rootfs = CACHE / f"rootfs-{key}"
    if rootfs.is_dir():
        return rootfs
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / f".partial-{key}"
    shutil.rmtree(partial, ignore_errors=True)
    done = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(partial), MIRROR],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SandboxError(f"debootstrap failed: {(done.stderr or done.stdout).strip()[-300:]}")
    partial.rename(rootfs)
    return rootfs


@dataclass(frozen=True)
class Package:
    """One installed package as dpkg records it."""

    name: str
    depends: tuple[tuple[str, ...], ...]  # each entry: alternatives, any one satisfies it
    provides: tuple[str, ...]
    required: bool


def _names(field: str) -> Iterator[tuple[str, ...]]:
    for entry in filter(None, (part.strip() for part in field.split(","))):
        yield tuple(re.split(r"[\s(:]", alternative.strip(), maxsplit=1)[0] for alternative in entry.split("|"))


def installed_packages(rootfs: Path) -> dict[str, Package]:
    """Every package dpkg's status file in the rootfs records as installed."""
    found = {}
    for paragraph in (rootfs / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", paragraph, flags=re.MULTILINE))
        if "Package" not in fields or not fields.get("Status", "").endswith(" installed"):
            continue
        found[fields["Package"]] = Package(
            fields["Package"],
            (*_names(fields.get("Pre-Depends", "")), *_names(fields.get("Depends", ""))),
            tuple(name for (name, *_) in _names(fields.get("Provides", ""))),
            fields.get("Essential") == "yes" or fields.get("Priority") == "required",
        )
    return found


def closure(packages: dict[str, Package], roots: Iterable[str]) -> set[str]:
    """The roots and everything they depend on, through the first installed alternative or provider."""
    providers: dict[str, str] = {}
    for package in packages.values():
        for virtual in package.provides:
            providers.setdefault(virtual, package.name)
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in packages:
            continue
        seen.add(name)
        for alternatives in packages[name].depends:
            chosen = [a if a in packages else providers[a] for a in alternatives if a in packages or a in providers]
            pending += chosen[:1]
    return seen


def _owned_files(rootfs: Path, package: str) -> set[str]:
    """The files dpkg installed for a package, as paths inside the rootfs (usr-merged links followed)."""
    merged = {top: os.readlink(rootfs / top) for top in ("bin", "sbin", "lib", "lib64") if (rootfs / top).is_symlink()}
    info = rootfs / "var/lib/dpkg/info"
    files = set()
    for listing in (info / f"{package}.list", *info.glob(f"{package}:*.list")):
        if not listing.exists():
            continue
        for line in listing.read_text().splitlines():
            top, _, rest = line.strip().lstrip("/").partition("/")
            if top in merged and rest:
                files.add(f"{merged[top].strip('/')}/{rest}")
            elif top not in ("", "."):
                files.add(f"{top}/{rest}".rstrip("/"))
    return files


def role_files(rootfs: Path, role: str) -> list[str]:
    """Every path of the rootfs the role's image holds: all but what only other roles (or nothing) use."""
    return package_files(rootfs, ROLES[role])


def package_files(rootfs: Path, roots: Iterable[str]) -> list[str]:
    """Every path of the rootfs an image of these packages holds: Debian's required packages, the
    base ones, the roots and what they depend on; none of what only other packages (or nothing) use."""
    packages = installed_packages(rootfs)
    kept = closure(packages, [*(p.name for p in packages.values() if p.required), *BASE, *roots])
    kept -= set(UNUSED)
    keep_paths = set().union(*(_owned_files(rootfs, name) for name in kept))
    dropped = set().union(*(_owned_files(rootfs, name) for name in set(packages) - kept)) - keep_paths
    slim = tuple(f"{folder}/" for folder in _SLIM)
    chosen = []
    for folder, directories, files in os.walk(rootfs):
        relative_folder = os.path.relpath(folder, rootfs)
        base = "" if relative_folder == "." else f"{relative_folder}/"
        # A folder only dropped packages own goes whole, with what they left unrecorded (Python's caches).
        if base.startswith(slim) or relative_folder in dropped:
            directories[:] = []
            continue
        chosen.append(base.rstrip("/") or ".")
        for name in [*files, *(d for d in directories if (Path(folder) / d).is_symlink())]:
            if f"{base}{name}" not in dropped:
                chosen.append(f"{base}{name}")
    return chosen


def _install_scripts(rootfs: Path) -> None:
    opt = rootfs / "opt" / "infragate"
    opt.mkdir(parents=True, exist_ok=True)
    for name, program in PROGRAMS.items():
        shutil.copy(program, opt / name)
    for name, text in ENTRY_SCRIPTS.items():
        (opt / name).write_text(text)
        (opt / name).chmod(0o755)


def cached_rootfs() -> Path:
    """The cached Debian rootfs every image is cut from (built by debootstrap when missing)."""
    with file_lock(CACHE / ".build.lock"):
        return _rootfs()


def role_layer(role: str, destination: Path) -> None:
    """A role's files as one tar layer (what `docker import` takes), for runtimes without Docker."""
    with file_lock(CACHE / ".build.lock"):
        rootfs = _rootfs()
        _install_scripts(rootfs)
        paths = role_files(rootfs, role)
    with tempfile.NamedTemporaryFile("w", suffix=".list") as listing:
        listing.write("\0".join(paths))
        listing.flush()
        done = subprocess.run(
            ["tar", "-C", str(rootfs), "--null", "--no-recursion", "-T", listing.name, "-cf", str(destination)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SandboxError(f"the {role} image's layer could not be written: {done.stderr.strip()[-300:]}")


def _import(rootfs: Path, paths: list[str], tag: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".list") as listing:
        listing.write("\0".join(paths))
        listing.flush()
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "--null", "--no-recursion", "-T", listing.name, "-c"], stdout=subprocess.PIPE
        )
        imported = subprocess.run(
            ["docker", "import", "--change", f"ENV PATH={_PATH}", "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        tar.wait()
    if imported.returncode != 0 or tar.returncode != 0:
        raise SandboxError(f"docker import of {tag} failed: {imported.stderr.strip()[-300:]}")


def account_ids() -> dict[str, int]:
    """Every account of the images by name, with its uid (the rootfs they are cut from gives them out
    in the order its packages were installed, so they are read, not assumed)."""
    with file_lock(CACHE / ".build.lock"):
        passwd = (_rootfs() / "etc" / "passwd").read_text()
    return {fields[0]: int(fields[2]) for line in passwd.splitlines() if len(fields := line.split(":")) > 2}


def build_images(client: Any) -> Images:
    """Each role's image, built from the cached rootfs where missing."""
    tags = {role: image_tag(role) for role in ROLES}
    with file_lock(CACHE / ".build.lock"):  # stacks deployed side by side build once
        missing = []
        for role, tag in tags.items():
            try:
                client.images.get(tag)
            except NotFound:
                missing.append(role)
        if not missing:
            return Images(tags, 0.0)
        started = time.monotonic()
        rootfs = _rootfs()
        _install_scripts(rootfs)
        for role in missing:
            _import(rootfs, role_files(rootfs, role), tags[role])
        return Images(tags, time.monotonic() - started)


def main() -> int:
    """Build the images now (or wait for a build under way), so that a later `sandbox up` finds them."""
    try:
        images = build_images(engine())
    except SandboxError as exc:
        print(f"swarm images: {exc}", file=sys.stderr)
        return 2
    done = f"built in {images.build_s:.1f} s" if images.build_s else "already built"
    print(f"swarm images {done}: {' '.join(images.tags.values())}")
    return 0

"""An image with some of its packages pinned back: a role's image with older Debian packages, which
Debian's archive still serves, installed over its own by dpkg inside the image (a known-bad
variant's image that lags behind on security updates). The packages are fetched once by apt on this
machine and kept in the image cache; the image is built by the Docker Engine, never pulled."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from docker.errors import BuildError, NotFound

from infragate.errors import SandboxError
from infragate.probes.hosts.versions import at_least, version_key
from infragate.sandbox.host import file_lock
from infragate.sandbox.swarm.images import CACHE


def offered_versions(package: str) -> list[str]:
    """Every version of a package apt on this machine can fetch, oldest first."""
    done = subprocess.run(["apt-cache", "madison", package], capture_output=True, text=True, check=False)
    versions = {line.split("|")[1].strip() for line in done.stdout.splitlines() if line.count("|") >= 2}
    return sorted(versions, key=version_key)


def newest_below(packages: tuple[str, ...], floor: str) -> str:
    """The newest version below the floor that apt offers of every one of the packages (built from
    one source, they go back together); SandboxError when the archive has none left."""
    common = set.intersection(*(set(offered_versions(package)) for package in packages))
    older = sorted((version for version in common if not at_least(version, floor)), key=version_key)
    if not older:
        raise SandboxError(
            f"apt offers no version of {', '.join(packages)} below {floor} on this machine (apt-cache madison "
            f"{packages[0]}), so an image lagging behind cannot be built"
        )
    return older[-1]


def pinned_image(client: Any, base: str, packages: dict[str, str]) -> str:
    """The base image with each package at its given version (dpkg -i of Debian's own .deb)."""
    key = hashlib.sha256(f"{base} {sorted(packages.items())}".encode()).hexdigest()[:12]
    tag = f"{base.partition(':')[0]}-pinned:{key}"
    with file_lock(CACHE / ".build.lock"):
        try:
            client.images.get(tag)
            return tag
        except NotFound:
            pass
        debs = _download(packages, CACHE / "pinned" / key)
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            dockerfile = (
                f"FROM {base}\nUSER root\nCOPY *.deb /tmp/pinned/\nRUN dpkg -i /tmp/pinned/*.deb && rm -r /tmp/pinned\n"
            ).encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
            for deb in debs:
                tar.add(deb, arcname=deb.name)
        context.seek(0)
        try:
            client.images.build(fileobj=context, custom_context=True, tag=tag, pull=False, rm=True, forcerm=True)
        except BuildError as exc:
            raise SandboxError(f"the image {tag} could not be built: {str(exc)[-300:]}") from None
    return tag


def _download(packages: dict[str, str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [f"{name}={version}" for name, version in sorted(packages.items())]
    if len(list(folder.glob("*.deb"))) != len(wanted):
        done = subprocess.run(
            ["apt-get", "download", "-q", *wanted], cwd=folder, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SandboxError(f"apt-get download {' '.join(wanted)} failed: {done.stderr.strip()[-300:]}")
    return sorted(folder.glob("*.deb"))

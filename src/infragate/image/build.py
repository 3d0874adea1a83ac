"""Build infragate's container image here, with no registry: Debian's Python (and the PostgreSQL
client programs, for restore drills) cut from the cached Debian rootfs the reference stack's images
come from, infragate installed from this checkout with the locked versions of its dependencies and
every extra a gate uses (Swarm, Kubernetes, hosts, S3), and sslyze (AGPL-3.0) installed apart, run
only as its own process. One layer, written as a docker-archive that `docker load` and containerd's
`ctr images import` both take; it is cached by a digest of what goes into it.

The image runs `infragate` as nobody (uid 65534) in /work, with HOME and Matplotlib's cache in /tmp,
so that it also runs with a read-only root file system; the built-in features are at /features.
The recovery journal is in /var/lib/infragate/journal, where a volume is meant to be mounted: a
container killed during a disruption leaves its journal for `infragate recover` in the next one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import infragate
from infragate.errors import SandboxError
from infragate.sandbox.host import file_lock
from infragate.sandbox.kubernetes.containerd_images import ImageConfig, write_archive
from infragate.sandbox.swarm.images import CACHE, cached_rootfs, package_files

RECIPE = 1  # bump when what goes into the image changes in a way the digest cannot see
REPOSITORY = "infragate/infragate"
VERSION = version("infragate")
DEBIAN_PACKAGES = ("python3", "postgresql-client-15")
EXTRAS = ("swarm", "kubernetes", "hosts", "s3")
SSLYZE = "sslyze==6.3.1"
# Debian 12's Python and C library: the wheels chosen are those that run there.
PYTHON_VERSION = "3.11"
PLATFORM = "x86_64-manylinux_2_36"
SITE = "/opt/infragate/site"
SSLYZE_SITE = "/opt/sslyze/site"
NOBODY = "65534:65534"
STATE = "/var/lib/infragate"  # mount a volume here: the journal (and, as the CronJob does, reports and history)
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WRAPPERS = {
    "infragate": f'#!/bin/sh\nexport PYTHONPATH={SITE}\nexec python3 -m infragate "$@"\n',
    # Its own folder, never on infragate's path: infragate runs it as a program, never imports it.
    "sslyze": f'#!/bin/sh\nexport PYTHONPATH={SSLYZE_SITE}\nexec python3 -m sslyze "$@"\n',
}
# What the project's tree holds that goes into the image (the digest reads them).
SOURCES = ("src/infragate", "steps", "features", "load", "pyproject.toml", "uv.lock")


@dataclass(frozen=True)
class Image:
    """A built image: its tags (the one naming its digest first), the docker-archive that holds it,
    its size, and the seconds it took."""

    tags: tuple[str, ...]
    archive: Path
    size_bytes: int
    build_s: float

    @property
    def tag(self) -> str:
        """The tag that names this build's digest."""
        return self.tags[0]


def project_root() -> Path:
    """The checkout infragate runs from; the image is built from it."""
    root = Path(infragate.__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "uv.lock").is_file():
        raise SandboxError(f"the image is built from a checkout of infragate; {root} has no pyproject.toml and uv.lock")
    return root


def digest(root: Path) -> str:
    """A digest of the recipe and every source file that goes into the image."""
    summed = hashlib.sha256(f"{RECIPE} {DEBIAN_PACKAGES} {EXTRAS} {SSLYZE} {PLATFORM} {cached_rootfs().name}".encode())
    for source in SOURCES:
        path = root / source
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" not in file.parts:
                summed.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return summed.hexdigest()[:12]


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=900)
    except FileNotFoundError:
        raise SandboxError(f"{what} needs `{command[0]}`, which is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise SandboxError(f"{what} took more than 900 s") from None
    if done.returncode != 0:
        raise SandboxError(f"{what} failed: {(done.stderr or done.stdout).strip()[-400:]}")


def _install(root: Path, staging: Path) -> None:
    """infragate and its locked dependencies in one folder, sslyze with its own in another."""
    wheels, requirements = staging.parent / "wheels", staging.parent / "requirements.txt"
    _run(["uv", "build", "--wheel", "--quiet", "-o", str(wheels)], "building infragate's wheel", root)
    extras = [argument for extra in EXTRAS for argument in ("--extra", extra)]
    export = ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", *extras]
    _run([*export, "--quiet", "-o", str(requirements)], "exporting the locked dependencies", root)
    target = ["--python-platform", PLATFORM, "--python-version", PYTHON_VERSION, "--compile-bytecode", "--quiet"]
    (wheel,) = wheels.glob("infragate-*.whl")
    site = staging / SITE.lstrip("/")
    install = ["uv", "pip", "install", "--target", str(site), *target, "--no-deps", "-r", str(requirements)]
    _run([*install, str(wheel)], "installing infragate")
    _run(["uv", "pip", "install", "--target", str(staging / SSLYZE_SITE.lstrip("/")), *target, SSLYZE], "sslyze")
    bin_folder = staging / "usr/local/bin"
    bin_folder.mkdir(parents=True)
    for name, text in WRAPPERS.items():
        (bin_folder / name).write_text(text)
        (bin_folder / name).chmod(0o755)
    (staging / "features").symlink_to(f"{SITE}/infragate/features")
    for folder in ("work", STATE.lstrip("/")):
        (staging / folder).mkdir(parents=True)
        (staging / folder).chmod(0o1777)


def _layer(rootfs: Path, staging: Path, destination: Path) -> None:
    """The rootfs's files for the Debian packages, then the staged ones, as one tar; a folder both
    have (usr/local/bin) is written once, as a layer may not hold a path twice."""
    debian = package_files(rootfs, DEBIAN_PACKAGES)
    known = set(debian)
    staged = []
    for folder, directories, files in os.walk(staging):
        base = os.path.relpath(folder, staging)
        for name in [*directories, *files]:
            path = name if base == "." else f"{base}/{name}"
            if path not in known:
                staged.append(path)
    with (
        tempfile.NamedTemporaryFile("w", suffix=".list") as from_debian,
        tempfile.NamedTemporaryFile("w", suffix=".list") as from_staging,
    ):
        for listing, paths in ((from_debian, debian), (from_staging, staged)):
            listing.write("\0".join(paths))
            listing.flush()
        _run(
            ["tar", "-cf", str(destination), "--null", "--no-recursion", "-C", str(rootfs), "-T", from_debian.name,
             "-C", str(staging), "-T", from_staging.name],
            "writing the image's layer",
        )  # fmt: skip


def build_image(root: Path | None = None) -> Image:
    """The image's docker-archive, built when missing (a build under way elsewhere is waited for)."""
    root = root or project_root()
    key = digest(root)
    tag = f"{REPOSITORY}:{VERSION}-{key}"
    tags = (tag, f"{REPOSITORY}:{VERSION}")
    archive = CACHE / f"infragate-image-{key}.tar"
    started = time.monotonic()
    with file_lock(CACHE / ".infragate-image.lock"):
        if not archive.is_file():
            rootfs = cached_rootfs()
            with tempfile.TemporaryDirectory(prefix="infragate-image-", dir=CACHE) as scratch:
                staging = Path(scratch) / "staging"
                staging.mkdir()
                _install(root, staging)
                layer = Path(scratch) / "layer.tar"
                _layer(rootfs, staging, layer)
                config = ImageConfig(
                    tag,
                    ("infragate",),
                    user=NOBODY,
                    env=(
                        f"PATH={_PATH}",
                        "HOME=/tmp",
                        "MPLCONFIGDIR=/tmp/matplotlib",
                        "PYTHONUNBUFFERED=1",
                        f"INFRAGATE_JOURNAL_DIR={STATE}/journal",
                    ),
                    cmd=("--help",),
                    workdir="/work",
                    more_tags=tags[1:],
                )
                partial = Path(scratch) / "image.tar"
                write_archive(config, layer, partial)
                partial.rename(archive)
            for older in CACHE.glob("infragate-image-*.tar"):  # 600 MB each: only the newest is kept
                if older != archive:
                    older.unlink(missing_ok=True)
    return Image(tags, archive, archive.stat().st_size, time.monotonic() - started)


def load_into_docker(image: Image) -> None:
    """`docker load` the archive, unless the engine has the image already."""
    try:
        known = subprocess.run(["docker", "image", "inspect", image.tag], capture_output=True, check=False, timeout=60)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        raise SandboxError("loading the image needs a Docker Engine and its `docker` client") from None
    if known.returncode != 0:
        _run(["docker", "load", "-q", "-i", str(image.archive)], f"docker load of {image.tag}")

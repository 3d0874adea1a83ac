"""Images for the reference cluster, made here and imported into its containerd: nothing is pulled.

An image is written as a docker-archive (the format `docker save` writes and `ctr images import`
reads): one layer, a config naming its entry point, and a manifest with its tag. The pause image
holds the cluster's own pause program; the workload's images are the Swarm stack's roles, cut
from the same cached Debian rootfs, without a Docker Engine.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infragate.errors import SandboxError
from infragate.sandbox.kubernetes.config import NAMESPACE, Layout
from infragate.sandbox.swarm.images import image_tag, role_layer


@dataclass(frozen=True)
class ImageFile:
    """A file of an image's one layer."""

    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class ImageConfig:
    """What an image runs, and as whom, where and with what (its tag, and any further tags)."""

    tag: str
    entrypoint: tuple[str, ...]
    user: str = ""
    env: tuple[str, ...] = field(default=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",))
    cmd: tuple[str, ...] = ()
    workdir: str = ""
    more_tags: tuple[str, ...] = ()


def write_layer(files: Mapping[str, ImageFile], destination: Path) -> None:
    """One layer holding these files (and the folders they are in)."""
    with tarfile.open(destination, mode="w", format=tarfile.PAX_FORMAT) as layer:
        folders: set[str] = set()
        for path in sorted(files):
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    layer.addfile(info)
            item = files[path]
            info = tarfile.TarInfo(path.strip("/"))
            info.size, info.mode = len(item.content), item.mode
            layer.addfile(info, io.BytesIO(item.content))


def write_archive(config: ImageConfig, layer: Path, destination: Path) -> None:
    """The image of one layer as a docker-archive tar."""
    digest = hashlib.sha256()
    with layer.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": list(config.entrypoint),
            "Cmd": list(config.cmd),
            "Env": list(config.env),
            "User": config.user,
            "WorkingDir": config.workdir,
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]},
    }
    manifest = [{"Config": "config.json", "RepoTags": [config.tag, *config.more_tags], "Layers": ["layer.tar"]}]
    with tarfile.open(destination, mode="w") as image:
        image.add(layer, arcname="layer.tar")
        for name, content in (("config.json", image_config), ("manifest.json", manifest)):
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            image.addfile(info, io.BytesIO(data))


def import_archive(layout: Layout, archive: Path, tag: str) -> None:
    """Import a docker-archive into the cluster's containerd, where the kubelet finds it by tag."""
    import_into(layout.containerd_socket, archive, tag)


def import_into(socket: Path, archive: Path, tag: str) -> None:
    """Import a docker-archive into the containerd at this socket, in the kubelet's namespace."""
    done = subprocess.run(
        ["ctr", "--address", str(socket), "--namespace", NAMESPACE, "images", "import", str(archive)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise SandboxError(f"containerd refused image {tag}: {done.stderr.decode(errors='replace').strip()[-300:]}")


def import_pause(layout: Layout, tag: str, scratch: Path) -> None:
    """The pod sandbox's image: the cluster's own pause program (build/kubernetes/pause), as nobody."""
    layer, archive = scratch / "pause-layer.tar", scratch / "pause.tar"
    write_layer({"pause": ImageFile((layout.binaries / "pause").read_bytes(), 0o755)}, layer)
    write_archive(ImageConfig(tag, ("/pause",), user="65535"), layer, archive)
    import_archive(layout, archive, tag)


def import_role(layout: Layout, role: str, scratch: Path) -> str:
    """A role of the Swarm stack's images (the same Debian packages and scripts), imported; its tag."""
    tag = f"infragate.local/{image_tag(role).partition('/')[2]}"
    layer, archive = scratch / f"{role}-layer.tar", scratch / f"{role}.tar"
    role_layer(role, layer)
    write_archive(ImageConfig(tag, ()), layer, archive)
    import_archive(layout, archive, tag)
    return tag

"""`python -m infragate.image`: build infragate's container image (or find it built) and load it
into the Docker Engine; `--no-load` only writes its docker-archive (for `ctr images import`)."""

from __future__ import annotations

import argparse
import sys

from infragate.errors import SandboxError
from infragate.image.build import build_image, load_into_docker


def main() -> int:
    """Build, load, and say where the archive is, its tags and its size."""
    parser = argparse.ArgumentParser(prog="python -m infragate.image", description=__doc__)
    parser.add_argument("--no-load", action="store_true", help="write the docker-archive only")
    args = parser.parse_args()
    try:
        image = build_image()
        if not args.no_load:
            load_into_docker(image)
    except SandboxError as exc:
        print(f"infragate image: {exc}", file=sys.stderr)
        return 2
    done = f"built in {image.build_s:.0f} s" if image.build_s > 1 else "already built"
    size = f"{image.size_bytes / 1e6:.0f} MB"
    loaded = "" if args.no_load else ", loaded into Docker"
    print(f"infragate image {done}{loaded}: {' '.join(image.tags)} ({size}, {image.archive})")
    return 0


sys.exit(main())

"""The image builder's parts that need no Docker: a missing program or a failing step is one line;
sslyze's folder is never on infragate's import path (AGPL-3.0: run only as a program); the digest
changes with what goes into the image and not with Python's caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.errors import SandboxError
from infragate.image import build


def test_a_missing_program_or_a_failing_step_is_one_line() -> None:
    with pytest.raises(SandboxError, match=r"^writing the image's layer needs `no-such-tar`, which is not on PATH$"):
        build._run(["no-such-tar", "-cf", "x"], "writing the image's layer")
    with pytest.raises(SandboxError, match=r"^exporting the locked dependencies failed: oops$"):
        build._run(["sh", "-c", "echo oops >&2; exit 3"], "exporting the locked dependencies")


def test_sslyze_runs_from_its_own_folder_never_from_infragates() -> None:
    assert f"PYTHONPATH={build.SITE}\n" in build.WRAPPERS["infragate"]
    assert build.SSLYZE_SITE not in build.WRAPPERS["infragate"]
    assert f"PYTHONPATH={build.SSLYZE_SITE}\n" in build.WRAPPERS["sslyze"]


def test_the_digest_follows_the_sources_and_not_pythons_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "cached_rootfs", lambda: tmp_path / "rootfs-abc")
    for source in build.SOURCES:
        target = tmp_path / source
        if "." in source:
            target.write_text("one")
        else:
            (target / "sub").mkdir(parents=True)
            (target / "sub" / "a.py").write_text("one")
    first = build.digest(tmp_path)
    (tmp_path / "steps" / "__pycache__").mkdir()
    (tmp_path / "steps" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert build.digest(tmp_path) == first
    (tmp_path / "features" / "sub" / "a.py").write_text("two")
    assert build.digest(tmp_path) != first

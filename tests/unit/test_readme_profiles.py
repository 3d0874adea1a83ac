"""Every profile snippet in the README and docs/ loads: the examples people copy cannot rot."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import yaml

from infragate.profile.loader import parse_profile
from infragate.waivers.waiver_file import parse_waivers

ROOT = Path(__file__).resolve().parents[2]
# The README holds the whole example profile first; docs/ hold the sections they explain.
TEXT = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
YAML = re.findall(r"^```yaml\n(.*?)^```", TEXT, flags=re.S | re.M)
# Waivers files are not profiles: they are read as what they are (test_waivers_examples_are_valid).
BLOCKS = [block for block in YAML if not block.startswith("waivers:")]
WAIVERS = [block for block in YAML if block.startswith("waivers:")]
SECRETS = {name: f"s3cret-{name.lower()}" for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)", TEXT)}


def test_the_waivers_examples_are_valid_waivers_files() -> None:
    assert WAIVERS, "the README shows a waivers file"
    for block in WAIVERS:
        assert parse_waivers(block, "README", datetime.date(2026, 12, 1))


@pytest.fixture
def secret_folder(tmp_path: Path) -> Path:
    for match in re.findall(r"\$\{file:([^}]+)\}", TEXT):
        path = tmp_path / match
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("file-secret\n")
    for name in ("registry.json", "ca.pem", "kubeconfig.yaml"):  # files the examples name beside the profile
        (tmp_path / name).write_text("{}")
    return tmp_path


def test_the_readme_has_a_whole_profile_and_its_sections() -> None:
    assert len(BLOCKS) >= 5 and "version: 1" in BLOCKS[0]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_readme_snippet_loads_within_the_whole_profile(index: int, secret_folder: Path) -> None:
    whole = yaml.safe_load(BLOCKS[0])
    section = yaml.safe_load(BLOCKS[index])
    merged = {**whole, **section}
    if "platform" in section and section["platform"].get("kind") in ("swarm", "kubernetes"):
        merged["services"] = section["services"]  # the Swarm and Kubernetes examples describe their own services
    # Absolute paths of the example's machine, moved to folders and files that exist here.
    (secret_folder / "pgbackrest.conf").write_text("[global]\n")
    text = yaml.safe_dump(merged).replace("/srv/backups/postgres", str(secret_folder))
    text = text.replace("/etc/pgbackrest/pgbackrest.conf", str(secret_folder / "pgbackrest.conf"))
    text = text.replace("/var/tmp/infragate-drills", str(secret_folder))
    parse_profile(text, file=f"README or docs block {index + 1}", base_dir=secret_folder, environ=SECRETS)

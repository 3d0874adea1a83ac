"""The CI templates in deploy/ci/ (GitHub Actions, GitLab CI): every infragate command in them is
one this infragate accepts, the gate publishes JUnit, the reports and the JSON verdict, and the
history of figures is kept between runs. (They are not run here: no GitHub or GitLab is reachable.)"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infragate.cli import _build_parser

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "ci"


def _shell(node: Any) -> list[str]:
    """Every shell command in a workflow or pipeline: GitHub's `run:`, GitLab's script lists."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key in ("script", "after_script", "before_script") and isinstance(value, list):
                found += [str(line) for line in value]
            else:
                found += _shell(value)
    elif isinstance(node, list):
        for value in node:
            found += _shell(value)
    return found


# The shell's way of passing --waivers only when the project has a waivers file, as it expands then.
WAIVERS_WHEN_PRESENT = ('"${waivers[@]}"', "--waivers waivers.yaml")


def _infragate_calls(path: Path) -> list[list[str]]:
    """Every infragate command of a template, as its words, wherever it stands in a line (after `then`,
    `;` or `&&`) and up to a redirection, a pipe or the end of its command."""
    calls = []
    for command in _shell(yaml.safe_load(path.read_text())):
        for line in command.splitlines():
            for found in re.findall(r"(?:^|;|&&|\bthen)\s*(infragate\s[^;>|&]*)", line.strip()):
                calls.append(shlex.split(found.replace(*WAIVERS_WHEN_PRESENT))[1:])
    return calls


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_every_infragate_command_of_a_template_is_accepted(name: str) -> None:
    calls = _infragate_calls(TEMPLATES / name)
    assert [call[0] for call in calls] == ["waivers", "verify", "trend"]
    for call in calls:
        _build_parser().parse_args(call)  # a UsageError here names the option this infragate refuses
    verify = _build_parser().parse_args(calls[1])
    assert (verify.format, verify.history, verify.fail_on_regression) == ("json", "infragate-history", True)
    assert verify.waivers == "waivers.yaml" and verify.reports == "reports"
    assert "destructive" in verify.tags and "load" in verify.tags  # a gate disrupts nothing by default


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_a_template_runs_on_first_use(name: str) -> None:
    """Issue 29: no waivers file stopped both templates with exit 3, neither installed sslyze, the GitHub
    one lacked the permission its JUnit action needs, the GitLab one named a stage no pipeline has."""
    text = (TEMPLATES / name).read_text()
    commands = "\n".join(_shell(yaml.safe_load(text)))
    assert "if [ -f waivers.yaml ]" in commands or "hashFiles('waivers.yaml')" in text
    verify = [line for line in commands.splitlines() if line.strip().startswith("infragate verify")]
    assert len(verify) == 1 and '"${waivers[@]}"' in verify[0]  # --waivers only when the file exists
    assert 'pip" install --quiet sslyze' in commands or "pip install --quiet sslyze" in commands
    assert "INFRAGATE_SSLYZE=" in commands
    assert "[kubernetes] @ " in text  # the source names the extras the target needs
    # Every command is shell bash reads (GitHub's `${{ }}` expressions are filled in before bash runs).
    script = re.sub(r"\$\{\{[^}]*\}\}", "x", commands)
    checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    if name == "github-actions.yml":
        assert yaml.safe_load(text)["permissions"] == {"contents": "read", "checks": "write"}
    else:
        assert yaml.safe_load(text)["infragate"]["stage"] == ".post"


def test_the_templates_publish_the_reports_and_keep_the_history() -> None:
    github = (TEMPLATES / "github-actions.yml").read_text()
    assert "report_paths: reports/*/junit.xml" in github and "verdict.json" in github
    assert "actions/cache/restore@v4" in github and "actions/cache/save@v4" in github
    gitlab = yaml.safe_load((TEMPLATES / "gitlab-ci.yml").read_text())["infragate"]
    assert gitlab["artifacts"]["reports"]["junit"] == "reports/*/junit.xml"
    assert gitlab["cache"]["paths"] == ["infragate-history/"] and gitlab["cache"]["when"] == "always"
    assert "infragate-history/trend.html" in gitlab["artifacts"]["paths"]

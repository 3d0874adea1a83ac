"""The manifests in deploy/kubernetes, read without a cluster (tests/kubernetes/test_nightly.py and
test_rbac.py apply them on the reference cluster): the nightly CronJob's profile is one infragate
accepts, its arguments are a verify infragate accepts, it runs as the service account rbac.yaml
binds, as nobody on a read-only root, never twice at once and never again on failure; the read-only
Role grants no verb that changes anything, and the destructive one is only in rbac-disrupt.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infragate.cli import _build_parser
from infragate.image.build import NOBODY, REPOSITORY, VERSION
from infragate.profile import parse_profile

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
READING = {"get", "list", "watch"}


def _documents(name: str) -> list[dict[str, Any]]:
    return [item for item in yaml.safe_load_all((DEPLOY / name).read_text()) if item]


def _one(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [item for item in documents if item["kind"] == kind]
    return found


def test_the_nightly_cronjob_runs_a_verify_infragate_accepts_as_nobody_on_a_read_only_root() -> None:
    nightly = _documents("nightly.yaml")
    config_map, cronjob = _one(nightly, "ConfigMap"), _one(nightly, "CronJob")
    profile = parse_profile(config_map["data"]["profile.yaml"])
    assert profile.platform.kind == "kubernetes" and profile.platform.in_cluster
    assert not profile.safety.allow_destructive
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"{REPOSITORY}:{VERSION}"
    args = _build_parser().parse_args(container["args"])
    assert args.command == "verify" and not args.allow_destructive and not args.allow_load
    assert args.history and args.reports.startswith("/var/lib/infragate")
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert mounts["/etc/infragate"] == "target" and args.target.startswith("/etc/infragate/")
    assert mounts["/var/lib/infragate"] == "state" and mounts["/tmp"] == "tmp"  # the image's HOME
    context = pod["securityContext"]
    assert context["runAsNonRoot"] and f"{context['runAsUser']}:{context['runAsGroup']}" == NOBODY
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert security["capabilities"]["drop"] == ["ALL"]
    rbac = _documents("rbac.yaml")
    assert pod["serviceAccountName"] == _one(rbac, "ServiceAccount")["metadata"]["name"]


def test_the_read_only_role_only_reads_and_the_destructive_one_is_apart() -> None:
    rbac, disrupt = _documents("rbac.yaml"), _documents("rbac-disrupt.yaml")
    verbs = {verb for rule in _one(rbac, "Role")["rules"] for verb in rule["verbs"]}
    assert verbs <= READING
    assert _one(rbac, "RoleBinding")["roleRef"]["name"] == _one(rbac, "Role")["metadata"]["name"]
    destructive = {verb for rule in _one(disrupt, "Role")["rules"] for verb in rule["verbs"]} - READING
    assert destructive == {"delete", "patch"}
    assert _one(disrupt, "RoleBinding")["subjects"] == _one(rbac, "RoleBinding")["subjects"]

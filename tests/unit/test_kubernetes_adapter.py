"""The Kubernetes adapter against a stand-in API server on loopback (canned answers over real HTTP):
what it makes of pods, and what it says when the API refuses or does not answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from infragate.errors import ProbeError, SafetyError
from infragate.platforms.kubernetes import KubernetesPlatform
from infragate.profile.model import Profile
from infragate.safety import Consent

DEPLOYMENT = {
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "api"}},
        "template": {"spec": {"containers": [{"name": "api", "image": "api:1"}]}},
    }
}


def _pod(name: str, phase: str, ready: str, deleting: bool = False) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "uid": f"uid-{name}", "creationTimestamp": "2026-12-02T10:00:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T10:05:00Z"
    return {"metadata": meta, "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}}


class Api(BaseHTTPRequestHandler):
    answers: ClassVar[dict[tuple[str, str], tuple[int, object]]] = {}
    seen: ClassVar[list[str]] = []
    bodies: ClassVar[list[object]] = []

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        self.seen.append(f"{self.command} {self.path}")
        if self.command == "PATCH":
            self.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        status, body = self.answers.get((self.command, path), (404, {"kind": "Status", "code": 404}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_DELETE = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[str, type[Api]]]:
    Api.answers = {("GET", "/api/v1/namespaces/shop/pods"): (200, {"items": []})}
    Api.seen = []
    Api.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", Api
    server.shutdown()


def _profile(tmp_path: Path, server: str) -> Profile:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": server}}],
        "users": [{"name": "t", "user": {"token": "x"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
    }))  # fmt: skip
    return Profile.model_validate(
        {
            "version": 1,
            "name": "k",
            "platform": {"kind": "kubernetes", "kubeconfig": str(kubeconfig), "namespace": "shop"},
            "gateway": {"base_url": "https://127.0.0.1:1"},
            "safety": {"environment": "sandbox"},
        }
    )


def test_replicas_are_the_pods_not_being_deleted_ready_by_their_condition(
    api: tuple[str, type[Api]], tmp_path: Path
) -> None:
    url, handler = api
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, DEPLOYMENT)
    pods = [_pod("api-a", "Running", "True"), _pod("api-b", "Running", "False"), _pod("api-c", "Running", "True", True)]
    handler.answers[("GET", "/api/v1/namespaces/shop/pods")] = (200, {"items": pods})
    platform = KubernetesPlatform(_profile(tmp_path, url))
    found = platform.replicas("api")
    assert [(r.id, r.instance, r.running, r.ready) for r in found.replicas] == [
        ("api-a", "uid-api-a", True, True),
        ("api-b", "uid-api-b", True, False),
    ]
    assert "labelSelector=app%3Dapi" in handler.seen[-1]
    assert platform.desired("api") == 3 and platform.restart_policy("api") == "always"


def test_a_refusing_api_is_a_probe_error_naming_the_status(api: tuple[str, type[Api]], tmp_path: Path) -> None:
    url, handler = api
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (403, {"kind": "Status"})
    platform = KubernetesPlatform(_profile(tmp_path, url))
    with pytest.raises(ProbeError, match="could not read deployment api in namespace shop: 403"):
        platform.replicas("api")


def test_a_silent_api_is_a_probe_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="the API server did not answer"):
        KubernetesPlatform(_profile(tmp_path, "http://127.0.0.1:9"))


def test_killing_needs_consent_and_a_pod_of_the_service(api: tuple[str, type[Api]], tmp_path: Path) -> None:
    url, handler = api
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, DEPLOYMENT)
    handler.answers[("GET", "/api/v1/namespaces/shop/pods")] = (200, {"items": [_pod("api-a", "Running", "True")]})
    handler.answers[("DELETE", "/api/v1/namespaces/shop/pods/api-a")] = (200, {"kind": "Status"})
    refused = KubernetesPlatform(_profile(tmp_path, url))
    with pytest.raises(SafetyError, match="refused by the safety policy: kill replica api-a of api"):
        refused.kill("api", "api-a")
    platform = KubernetesPlatform(_profile(tmp_path, url), Consent(destructive=True, load=False))
    with pytest.raises(ProbeError, match="api-z is not a pod of api"):
        platform.kill("api", "api-z")
    platform.kill("api", "api-a")
    assert handler.seen[-1].startswith("DELETE /api/v1/namespaces/shop/pods/api-a?gracePeriodSeconds=0")


def test_scaling_to_what_is_already_so_writes_nothing(
    api: tuple[str, type[Api]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undo after a refused disruption must not need the rights the disruption was refused."""
    monkeypatch.setattr("infragate.platforms.kubernetes.SCALE_TAKEN_S", 0.5)
    url, handler = api
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, DEPLOYMENT)
    hpa = {
        "metadata": {"name": "api"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "minReplicas": 3, "maxReplicas": 10},
    }
    handler.answers[("GET", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers")] = (200, {"items": [hpa]})
    platform = KubernetesPlatform(_profile(tmp_path, url), Consent(destructive=True, load=False))
    platform.scale("api", 3)
    assert not [call for call in handler.seen if not call.startswith("GET ")]
    handler.answers[("PATCH", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/api")] = (200, hpa)
    handler.answers[("PATCH", "/apis/apps/v1/namespaces/shop/deployments/api/scale")] = (200, {"spec": {}})
    with pytest.raises(ProbeError, match="did not take 5 replicas"):  # the canned Deployment stays at 3
        platform.scale("api", 5)
    writes = [call.split("?")[0] for call in handler.seen if not call.startswith("GET ")]
    assert writes == [
        "PATCH /apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/api",
        "PATCH /apis/apps/v1/namespaces/shop/deployments/api/scale",
    ]


def test_a_rolling_restart_is_the_deployments_own_rollout_watched_until_it_is_over(
    api: tuple[str, type[Api]], tmp_path: Path
) -> None:
    url, handler = api
    status = {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}
    rolled = DEPLOYMENT | {"metadata": {"name": "api", "generation": 2}, "status": status}
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, rolled)
    handler.answers[("PATCH", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, rolled)
    pods = [_pod(f"api-{name}", "Running", "True") for name in "abc"]
    handler.answers[("GET", "/api/v1/namespaces/shop/pods")] = (200, {"items": pods})
    with pytest.raises(SafetyError):
        KubernetesPlatform(_profile(tmp_path, url)).roll("api")
    platform = KubernetesPlatform(_profile(tmp_path, url), Consent(destructive=True, load=False))
    platform.roll("api")
    assert [call for call in handler.seen if not call.startswith("GET ")] == [
        "PATCH /apis/apps/v1/namespaces/shop/deployments/api"
    ]
    stalled = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    stuck: dict[str, object] = {**status, "updatedReplicas": 1, "replicas": 4, "conditions": stalled}
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, rolled | {"status": stuck})
    platform.roll("api")  # a stalled rollout is over too: the old pods it left are judged by the scenario


def test_scaling_back_puts_the_declared_minimum_back_whatever_count_the_run_started_from(
    api: tuple[str, type[Api]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that began at 4 replicas (the autoscaler's choice under load, 3 declared) scaled out to
    5 and was killed: the undo asks for 4 and must leave the minimum at 3, not at 4."""
    monkeypatch.setattr("infragate.platforms.kubernetes.SCALE_TAKEN_S", 0.5)
    url, handler = api
    five = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": 5}}
    handler.answers[("GET", "/apis/apps/v1/namespaces/shop/deployments/api")] = (200, five)
    raised = {
        "metadata": {"name": "api", "annotations": {"infragate.dev/declared-min-replicas": "3"}},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "minReplicas": 5, "maxReplicas": 10},
    }
    handler.answers[("GET", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers")] = (
        200,
        {"items": [raised]},
    )
    handler.answers[("PATCH", "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/api")] = (200, raised)
    handler.answers[("PATCH", "/apis/apps/v1/namespaces/shop/deployments/api/scale")] = (200, {"spec": {}})
    platform = KubernetesPlatform(_profile(tmp_path, url), Consent(destructive=True, load=False))
    with pytest.raises(ProbeError, match="did not take 4 replicas"):  # the canned Deployment stays at 5
        platform.scale("api", 4)
    minimum, count = handler.bodies
    assert minimum == {
        "metadata": {"annotations": {"infragate.dev/declared-min-replicas": None}},
        "spec": {"minReplicas": 3},
    }
    assert count == {"spec": {"replicas": 4}}
    handler.bodies.clear()
    with pytest.raises(ProbeError, match="did not take 6 replicas"):
        platform.scale("api", 6)  # a scale-out holds the minimum up, and keeps the declared one noted
    assert handler.bodies[0] == {
        "metadata": {"annotations": {"infragate.dev/declared-min-replicas": "3"}},
        "spec": {"minReplicas": 6},
    }

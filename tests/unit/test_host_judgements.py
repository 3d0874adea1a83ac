"""Host judgements from observations, and the `hosts` section's validation, without a host."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from infragate.errors import ProbeError, ProfileError
from infragate.probes.hosts import hardening as checks
from infragate.probes.hosts import inventory
from infragate.probes.hosts.inventory import (
    CommandResult,
    FileState,
    HostObservation,
    Listener,
    ProcessState,
    SecretCopy,
    expand,
    parse_listener,
)
from infragate.profile import parse_profile
from infragate.profile.host_promises import Host
from infragate.profile.secrets import Redactor
from tests.unit.test_profile import VALID

HOST = Host.model_validate(
    {
        "spec": "local://",
        "processes": {
            "redis": {"command": r"redis-server .*/srv/redis\.conf", "users": ["redis"]},
            "gateway": {"command": "nginx: master", "users": ["root", "www"]},
        },
        "files": {"/srv/pki/server.key": {"max_mode": "0600", "owner": "www"}, "/srv/secrets/db": {"max_mode": 0o640}},
        "listens": {5432: ["127.0.0.1"], 443: ["0.0.0.0"]},
        "config_tests": ["nginx -t"],
    }
)


def test_a_service_declared_without_users_may_run_as_anyone_but_root() -> None:
    anyone = Host.model_validate({"spec": "docker://api-1", "processes": {"api": {"command": "node"}}})
    app = ProcessState("api", 7, "node", "node dist/main.js")
    assert checks.processes_check({"edge": anyone}, {"edge": _seen(processes=(app,))}).met
    by_number = ProcessState("api", 8, "0", "node dist/worker.js")  # uid 0 with no passwd entry
    found = checks.processes_check({"edge": anyone}, {"edge": _seen(processes=(app, by_number))})
    assert found.problems == (
        "edge: api pid 8 runs as root, declared to run as any user but root: node dist/worker.js",
    )


def _seen(
    files: tuple[FileState, ...] = (),
    listeners: tuple[Listener, ...] = (),
    rc: int = 0,
    processes: tuple[ProcessState, ...] = (),
) -> HostObservation:
    commands = (CommandResult("nginx -t", rc, "line 1\nbad line"),)
    return HostObservation("edge", "local://", processes, files, listeners, commands)


def test_a_service_running_as_a_user_it_was_not_declared_to_run_as_is_named() -> None:
    redis = ProcessState("redis", 41, "redis", "redis-server 127.0.0.1:6379 /srv/redis.conf")
    master = ProcessState("gateway", 7, "root", "nginx: master process /usr/sbin/nginx")
    assert checks.processes_check({"edge": HOST}, {"edge": _seen(processes=(redis, master))}).met
    as_root = ProcessState("redis", 42, "root", redis.args)
    found = checks.processes_check({"edge": HOST}, {"edge": _seen(processes=(redis, as_root))})
    assert found.problems == (
        "edge: redis pid 42 runs as root, declared to run as redis only: redis-server 127.0.0.1:6379 /srv/redis.conf",
        "edge: no process of gateway runs (none matches /nginx: master/)",
    )
    assert "edge: redis as redis, root (2 processes)" in found.observed


def test_a_file_more_open_than_declared_or_owned_by_another_is_named() -> None:
    good = (FileState("/srv/pki/server.key", True, 0o600, "www"), FileState("/srv/secrets/db", True, 0o440, "root"))
    assert checks.files_check({"edge": HOST}, {"edge": _seen(good)}).met
    bad = (FileState("/srv/pki/server.key", True, 0o644, "root"), FileState("/srv/secrets/db", False))
    found = checks.files_check({"edge": HOST}, {"edge": _seen(bad)})
    assert found.problems == (
        "edge: /srv/pki/server.key: mode 0644 (rw-r--r--), expected at most 0600 (rw-------): group read, "
        "others read beyond it",
        "edge: /srv/pki/server.key: owned by root, expected www",
        "edge: /srv/secrets/db: no such file",
    )


def test_ports_listen_on_their_declared_addresses_and_no_other() -> None:
    # The loopback of either family stays on the host; a declared wildcard admits any address of its family.
    fine = (Listener("127.0.0.1", 5432), Listener("::1", 5432), Listener("0.0.0.0", 443), Listener("10.0.0.5", 443))
    assert checks.listens_check({"edge": HOST}, {"edge": _seen(listeners=fine)}).met
    everywhere = (Listener("0.0.0.0", 5432), Listener("::", 5432), Listener("0.0.0.0", 443))
    found = checks.listens_check({"edge": HOST}, {"edge": _seen(listeners=everywhere)})
    assert found.problems == (
        "edge: port 5432 listens on 0.0.0.0 (every address of the host), declared only on 127.0.0.1",
        "edge: port 5432 listens on :: (every address of the host), declared only on 127.0.0.1",
        "edge: port 5432 does not listen on 127.0.0.1, listens on 0.0.0.0, ::",
    )
    silent = checks.listens_check({"edge": HOST}, {"edge": _seen(listeners=(Listener("0.0.0.0", 443),))})
    assert silent.problems == ("edge: nothing listens on port 5432, declared on 127.0.0.1",)
    v6_only = checks.listens_check({"edge": HOST}, {"edge": _seen(listeners=(Listener("::", 443), *fine[:2]))})
    assert v6_only.problems == ("edge: port 443 listens on :: (every address of the host), declared only on 0.0.0.0",)


def test_a_failing_configuration_test_is_named_with_its_last_line() -> None:
    assert checks.config_check({"edge": _seen()}).met
    assert checks.config_check({"edge": _seen(rc=1)}).problems == ("edge: `nginx -t` exited 1: bad line",)


def test_listening_sockets_are_read_from_testinfra_urls() -> None:
    assert parse_listener("tcp://0.0.0.0:22") == Listener("0.0.0.0", 22)
    assert parse_listener("tcp://:::22") == Listener("::", 22)
    assert parse_listener("tcp://::1:5432") == Listener("::1", 5432)
    assert parse_listener("tcp://127.0.0.1:6379") == Listener("127.0.0.1", 6379)
    assert parse_listener("unix:///run/docker.sock") is None
    assert parse_listener("udp://0.0.0.0:53") is None


@pytest.mark.parametrize(
    ("host", "says"),
    [
        ({"spec": "telnet://box"}, "expected a testinfra host spec"),
        ({"spec": "local://", "files": {"pki/key.pem": {"max_mode": "0600"}}}, "must be absolute: pki/key.pem"),
        ({"spec": "local://", "files": {"/k": {"max_mode": "0999"}}}, "expected an octal file mode"),
        ({"spec": "local://", "no_secrets_in": ["srv"]}, "must be absolute: srv"),
        ({"spec": "local://", "listens": {70000: ["127.0.0.1"]}}, "expected ports 1-65535"),
        ({"spec": "local://", "listen": {}}, "hosts.edge.listen"),
        ({"spec": "local://", "processes": {"db": {"command": "post(gres", "users": ["pg"]}}}, "regular expression"),
        ({"spec": "local://", "processes": {"db": {"command": "postgres", "users": "pg"}}}, "processes.db.users"),
    ],
)
def test_a_bad_hosts_section_is_one_line_naming_file_and_key(host: dict[str, object], says: str) -> None:
    text = yaml.safe_dump({**VALID, "hosts": {"edge": host}}, sort_keys=False)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, file="shop.yaml", environ={})
    message = str(caught.value)
    assert message.startswith("shop.yaml:") and "\n" not in message and says in message, message


class _Tasks:
    """The part of a platform adapter that names its replicas' hosts."""

    def host_specs(self, service: str) -> dict[str, str]:
        return {f"{service}-1": "docker://c1", f"{service}-2": "docker://c2"}


def test_a_service_selector_becomes_a_host_per_running_replica() -> None:
    selected = Host.model_validate({"service": "api", "processes": {"api": {"command": "backend", "users": ["app"]}}})
    expanded = expand({"api": selected, "edge": HOST}, _Tasks())
    assert {name: host.spec for name, host in expanded.items()} == {
        "api/api-1": "docker://c1",
        "api/api-2": "docker://c2",
        "edge": "local://",
    }
    assert expanded["api/api-1"].processes == selected.processes
    with pytest.raises(ProbeError, match="cannot name the replicas of api as hosts"):
        expand({"api": selected}, object())


@pytest.mark.parametrize("host", [{"spec": "local://", "service": "api"}, {"files": {}}])
def test_a_host_is_named_by_a_spec_or_a_service_not_both(host: dict[str, object]) -> None:
    text = yaml.safe_dump({**VALID, "hosts": {"edge": host}}, sort_keys=False)
    with pytest.raises(ProfileError, match="expected exactly one of spec"):
        parse_profile(text, file="shop.yaml", environ={})


class _Slim:
    """A host as testinfra sees a slim image: only some commands exist."""

    def __init__(self, *present: str) -> None:
        self.present = present

    def exists(self, command: str) -> bool:
        return command in self.present


def test_a_missing_ps_or_ss_is_named_with_its_remedy() -> None:
    declared = Host.model_validate(
        {"spec": "docker://api-1", "processes": {"api": {"command": "app", "users": ["app"]}}, "listens": {80: ["*"]}}
    )
    with pytest.raises(ProbeError) as caught:
        inventory._require_tools(_Slim("ss"), declared)
    assert str(caught.value) == (
        "host docker://api-1: ps is not installed there; testinfra's Process module reads processes with it "
        "(install procps or iproute2 there, or declare no processes for it)"
    )
    with pytest.raises(ProbeError, match="ss or netstat is not installed there"):
        inventory._require_tools(_Slim("ps"), declared)
    inventory._require_tools(_Slim("ps", "netstat"), declared)
    inventory._require_tools(_Slim(), Host.model_validate({"spec": "docker://api-1", "files": {}}))


def test_a_secret_copied_where_others_can_read_it_is_named_without_the_secret() -> None:
    searched = Host.model_validate({"spec": "local://", "no_secrets_in": ["/srv"]})
    clean = HostObservation("edge", "local://", (), (), (), (), (), 12)
    assert checks.secret_copies_check({"edge": searched}, {"edge": clean}).observed == (
        "edge: 12 files others may read in /srv"
    )
    leaked = HostObservation("edge", "local://", (), (), (), (), (SecretCopy("/srv/app.env", 0o644),), 12)
    assert checks.secret_copies_check({"edge": searched}, {"edge": leaked}).problems == (
        "edge: /srv/app.env (mode 0644, group read, others read) holds a secret of the profile",
    )


def test_the_redactor_knows_a_secret_in_its_encodings() -> None:
    redactor = Redactor()
    redactor.register("s3cr3t-pa55word")
    assert redactor.holds_secret("DATABASE_URL=postgresql://app:s3cr3t-pa55word@db/app")
    assert redactor.holds_secret("Authorization: Basic " + base64.b64encode(b"app:s3cr3t-pa55word").decode())
    assert not redactor.holds_secret("DATABASE_URL=postgresql://app@db/app")


def test_a_declared_link_is_judged_by_the_file_it_leads_to(tmp_path: Path) -> None:
    # A Kubernetes Secret's file is a link into the Secret's current version; a link's own mode is 0777.
    version = tmp_path / "..2026_12_03" / "database-password"
    version.parent.mkdir()
    version.write_text("s3cret\n")
    version.chmod(0o440)
    (tmp_path / "..data").symlink_to(version.parent.name)
    (tmp_path / "database-password").symlink_to("..data/database-password")
    host = Host.model_validate(
        {"spec": "local://", "files": {str(tmp_path / "database-password"): {"max_mode": "0440"}}}
    )
    (state,) = inventory.observe("pod", host).files
    assert (state.path, state.exists, state.mode) == (str(tmp_path / "database-password"), True, 0o440)


def test_a_backend_whose_client_is_not_installed_is_named_before_testinfra_runs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In infragate's container image there is no docker client: the host cannot be read (could not
    # verify), and the line says why instead of testinfra's "exit code 127".
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ProbeError, match=r"^host docker://abc: testinfra's docker backend runs `docker`, which is not"):
        inventory.connect("docker://abc")
    with pytest.raises(ProbeError, match="kubectl backend runs `kubectl`"):
        inventory.connect("kubectl://api-0?namespace=marketplace")
    assert inventory.connect("local://").run("echo here").stdout == "here\n"  # the local backend runs no client

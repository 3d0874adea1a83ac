"""Hostile and broken profiles: each ends in one line and exit code 3, quickly and in bounded memory.

Every case runs `infragate profile check` in this process under a 2 s alarm, with its allocations
traced; a few run as a real command too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infragate.cli import main

BASE = (
    "name: shop\n"
    "gateway:\n"
    "  base_url: https://127.0.0.1:8443\n"
    "  timeout: 5s\n"
    "  routes:\n"
    "    api: {path: /api, rate_limit: {rate: 100r/s, burst: 20}}\n"
    "services:\n"
    "  api: {replicas: 3, route: api}\n"
    "safety: {environment: staging, max_rate: 50}\n"
)
CANARY = "hunter2-canary-7f3a"


def _set(old: str, new: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        assert old in BASE, old
        return BASE.replace(old, new, 1)

    return make


def _add(text: str) -> Callable[[Path], str]:
    return lambda folder: BASE + text


def _secret_file(kind: str) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        target = folder / f"secret-{kind}"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "binary":
            target.write_bytes(bytes(range(256)) * 4)
        elif kind == "big":
            target.write_text("x" * 200_000)
        elif kind == "folder":
            target.mkdir()
        elif kind == "zero":
            target = Path("/dev/zero")
        return BASE + f"datastores: {{redis: {{url: 'redis://:${{file:{target}}}@127.0.0.1:6379/0'}}}}\n"

    return make


BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    # YAML itself
    "alias-bomb": (lambda folder: BOMB, "uses of YAML aliases"),
    "alias-bomb-inside-a-profile": (lambda folder: BASE + "description: " + BOMB.replace("\n", "\n  ", 0), "valid"),
    "self-referencing-alias": (lambda folder: BASE + "x: &loop [*loop]\n", "self-referencing alias"),
    "self-referencing-mapping": (lambda folder: BASE + "x: &loop {y: *loop}\n", "self-referencing alias"),
    "deep-flow-list": (lambda folder: "name: " + "[" * 5000 + "]" * 5000 + "\n", "nested at most"),
    "deep-flow-mapping": (lambda folder: "name: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "nested at most"),
    "deep-block-mapping": (
        lambda folder: "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(60)) + "  " * 60 + "v: 1\n",
        "nested at most",
    ),
    "empty-file": (lambda folder: "", "a mapping of profile keys"),
    "only-a-comment": (lambda folder: "# nothing\n", "a mapping of profile keys"),
    "top-level-list": (lambda folder: "- name: shop\n", "a mapping of profile keys"),
    "top-level-scalar": (lambda folder: "shop\n", "a mapping of profile keys"),
    "tab-indentation": (lambda folder: "name: shop\ngateway:\n\tbase_url: x\n", "valid YAML"),
    "unclosed-flow": (lambda folder: "name: shop\ngateway: {base_url: x\n", "valid YAML"),
    "duplicate-key": (_add("name: again\n"), "each key once"),
    "integer-key": (_add("1: one\n"), "1: unknown key"),
    "complex-key": (_add("? [a, b]\n: c\n"), "string keys"),
    "merge-key": (_add("x: &base {a: 1}\ny: {<<: *base}\n"), "unknown key"),
    "python-tag": (_add("description: !!python/object:os.system ls\n"), "a valid value"),
    "huge-integer": (_set("max_rate: 50", "max_rate: " + "9" * 5000), "a valid value"),
    "huge-file": (lambda folder: BASE + "#" * (1024 * 1024 + 10) + "\n", "larger than 1024 KiB"),
    # values
    "timeout-nan": (_set("timeout: 5s", "timeout: .nan"), "gateway.timeout: a finite duration"),
    "timeout-inf": (_set("timeout: 5s", "timeout: .inf"), "gateway.timeout: a finite duration"),
    "timeout-zero": (_set("timeout: 5s", "timeout: 0"), "gateway.timeout: a duration above 0"),
    "timeout-zero-seconds": (_set("timeout: 5s", "timeout: 0s"), "gateway.timeout: a duration above 0"),
    "timeout-negative": (_set("timeout: 5s", "timeout: -1"), "gateway.timeout: a duration that is not negative"),
    "timeout-words": (_set("timeout: 5s", "timeout: 5 parsecs"), "gateway.timeout: a duration such as"),
    "timeout-boolean": (_set("timeout: 5s", "timeout: yes"), "gateway.timeout: a duration such as"),
    "max-rate-inf": (_set("max_rate: 50", "max_rate: .inf"), "safety.max_rate"),
    "max-rate-nan": (_set("max_rate: 50", "max_rate: .nan"), "safety.max_rate"),
    "max-rate-zero": (_set("max_rate: 50", "max_rate: 0"), "safety.max_rate"),
    "max-rate-negative": (_set("max_rate: 50", "max_rate: -5"), "safety.max_rate"),
    "max-requests-zero": (_set("max_rate: 50", "max_rate: 50, max_requests: 0"), "safety.max_requests"),
    "max-requests-fraction": (_set("max_rate: 50", "max_rate: 50, max_requests: 1.5"), "safety.max_requests"),
    "max-duration-zero": (_set("max_rate: 50", "max_rate: 50, max_duration: 0s"), "safety.max_duration"),
    "max-duration-inf": (_set("max_rate: 50", "max_rate: 50, max_duration: .inf"), "safety.max_duration"),
    "url-no-host": (_set("https://127.0.0.1:8443", "'https://'"), "gateway.base_url: a URL such as"),
    "url-port-too-big": (_set("127.0.0.1:8443", "127.0.0.1:99999"), "gateway.base_url: a URL such as"),
    "url-port-zero": (_set("127.0.0.1:8443", "127.0.0.1:0"), "gateway.base_url: a URL such as"),
    "url-port-words": (_set("127.0.0.1:8443", "127.0.0.1:https"), "gateway.base_url: a URL such as"),
    "url-space-in-host": (_set("https://127.0.0.1:8443", "'https://gate way.test'"), "gateway.base_url: a URL"),
    "url-ftp": (_set("https://127.0.0.1:8443", "ftp://127.0.0.1"), "gateway.base_url: a URL such as"),
    "url-a-number": (_set("https://127.0.0.1:8443", "8443"), "gateway.base_url"),
    "route-path-relative": (_set("path: /api", "path: api"), "gateway.routes.api.path: a path starting with /"),
    "rate-words": (_set("rate: 100r/s", "rate: fast"), "rate_limit.rate: a rate such as"),
    "rate-zero": (_set("rate: 100r/s", "rate: 0r/s"), "rate_limit.rate: a rate such as"),
    "rate-inf": (_set("rate: 100r/s", "rate: .inf"), "rate_limit.rate: a rate such as"),
    "burst-negative": (_set("burst: 20", "burst: -1"), "rate_limit.burst"),
    "status-not-an-error": (_set("burst: 20", "burst: 20, status: 200"), "rate_limit.status"),
    "replicas-words": (_set("replicas: 3", "replicas: three"), "services.api.replicas"),
    "replicas-negative": (_set("replicas: 3", "replicas: {min: -1, max: 3}"), "services.api.replicas"),
    "environment-typo": (_set("environment: staging", "environment: prod"), "safety.environment"),
    "production-destructive": (
        _set("environment: staging", "environment: production, allow_destructive: true"),
        "allow_destructive must be false",
    ),
    "top-level-typo": (_add("servics: {}\n"), "did you mean 'services'?"),
    "typo-in-optional-section": (
        _add("tls: {versoins: [TLSv1.2]}\n"),
        "tls.versoins: unknown key; did you mean 'versions'?",
    ),
    "typo-in-route": (_set("burst: 20", "burts: 20"), "did you mean 'burst'?"),
    "platform-kind": (_add("platform: {kind: k8s}\n"), "platform.kind"),
    "name-empty": (_set("name: shop", "name: ''"), "name"),
    "version-2": (_add("version: 2\n"), "version"),
    "gateway-missing": (lambda folder: "name: shop\nsafety: {environment: staging}\n", "gateway"),
    "safety-missing": (lambda folder: BASE.split("safety:")[0], "safety"),
    "tls-version-unknown": (_add("tls: {versions: [SSLv2]}\n"), "tls.versions"),
    "mozilla-profile-unknown": (_add("tls: {mozilla_profile: ultra}\n"), "tls.mozilla_profile"),
    "resilience-service-unknown": (_add("resilience: {service: web}\n"), "resilience.service"),
    "cors-route-unknown": (
        _set("  routes:\n", "  cors: {route: nope, allowed_origins: ['https://a.test']}\n  routes:\n"),
        "gateway.cors.route: a route declared under gateway.routes",
    ),
    "share-over-one": (_add("resilience: {service: api, error_budget: 2}\n"), "resilience.error_budget"),
    # values beyond reason, and values of the wrong kind (issue 28)
    "max-requests-thirty-digits": (
        _set("max_rate: 50", "max_rate: 50, max_requests: " + "9" * 30),
        "safety.max_requests: a number below 1e+15",
    ),
    "max-requests-beyond-a-day": (
        _set("max_rate: 50", "max_rate: 50, max_requests: 200000000"),
        "safety.max_requests: Input should be less than or equal to 100000000",
    ),
    "replicas-thirty-digits": (_set("replicas: 3", "replicas: " + "9" * 30), "services.api.replicas"),
    "replicas-beyond-a-cluster": (_set("replicas: 3", "replicas: {min: 1, max: 20000}"), "less than or equal to 10000"),
    "duration-beyond-ten-years": (
        _set("max_rate: 50", "max_rate: 50, max_duration: 99999999999s"),
        "safety.max_duration: a duration of at most ten years",
    ),
    "traffic-rate-above-the-cap": (
        _add("resilience: {service: api, traffic_rate: 100000}\n"),
        "resilience.traffic_rate: a rate within safety.max_rate (50/s), not 100000/s",
    ),
    "postgres-dsn-of-mysql": (
        _add("datastores: {postgres: {dsn: 'mysql://app:pw@127.0.0.1:3306/app'}}\n"),
        "datastores.postgres.dsn: a URL such as postgresql://",
    ),
    "postgres-dsn-port-too-big": (
        _add("datastores: {postgres: {dsn: 'postgresql://app:pw@127.0.0.1:99999/app'}}\n"),
        "datastores.postgres.dsn: a URL such as postgresql://",
    ),
    "redis-url-of-http": (
        _add("datastores: {redis: {url: 'http://127.0.0.1:6379'}}\n"),
        "datastores.redis.url: a URL such as redis://",
    ),
    "postgres-dsn-no-host": (
        _add("datastores: {postgres: {dsn: 'postgresql://'}}\n"),
        "datastores.postgres.dsn: a URL such as postgresql://",
    ),
    "nul-byte": (lambda folder: BASE.replace("name: shop", "name: sh\0op"), ":1: (syntax): text without control"),
    "control-character": (lambda folder: BASE + "description: a\x01b\n", "(syntax): text without control"),
    "escape-sequence-in-a-name": (
        _set("name: shop", 'name: "shop\\e[31m"'),
        "name: text without control or direction-changing characters (U+001B",
    ),
    "right-to-left-override-in-a-name": (
        _set("name: shop", 'name: "shop\\u202egnp.exe"'),
        "name: text without control or direction-changing characters (U+202E RIGHT-TO-LEFT OVERRIDE)",
    ),
    # secrets
    "secret-file-fifo": (_secret_file("fifo"), "not a regular file"),
    "secret-file-dev-zero": (_secret_file("zero"), "not a regular file"),
    "secret-file-binary": (_secret_file("binary"), "not UTF-8 text"),
    "secret-file-big": (_secret_file("big"), "larger than 64 KiB"),
    "secret-file-folder": (_secret_file("folder"), "not a regular file"),
    "secret-file-missing": (
        _add("datastores: {redis: {url: 'redis://:${file:/nonexistent/secret}@127.0.0.1:6379/0'}}\n"),
        "No such file or directory",
    ),
    "secret-variable-unset": (
        _add("datastores: {redis: {url: 'redis://:${INFRAGATE_TEST_UNSET}@127.0.0.1:6379/0'}}\n"),
        "environment variable INFRAGATE_TEST_UNSET to be set",
    ),
    "secret-echoed-as-a-bad-value": (_set("timeout: 5s", "timeout: ${INFRAGATE_TEST_CANARY}"), "gateway.timeout"),
}


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INFRAGATE_TEST_CANARY", CANARY)
    monkeypatch.delenv("INFRAGATE_TEST_UNSET", raising=False)
    yield


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError("the profile check took longer than 2 s")


def test_there_are_at_least_sixty_hostile_profiles() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_profile_ends_in_one_line_and_exit_3_quickly(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], canary: None
) -> None:
    make, expected = CASES[case]
    profile = tmp_path / "profile.yaml"
    profile.write_text(make(tmp_path))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SystemExit) as ended:
            main(["profile", "check", str(profile)])
    finally:
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    output = capsys.readouterr()
    lines = output.out.splitlines()
    assert ended.value.code == 3, output.out
    assert len(lines) == 1 and output.err == "", output
    assert lines[0].startswith(f"infragate: {profile}"), lines[0]
    assert expected in lines[0], lines[0]
    assert CANARY not in lines[0]
    assert took < 2.0 and peak < 64 * 1024 * 1024, (took, peak)


@pytest.mark.parametrize("case", ["alias-bomb", "deep-flow-list", "secret-file-fifo", "secret-file-dev-zero"])
def test_the_command_itself_answers_in_one_line(case: str, tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(CASES[case][0](tmp_path))
    completed = subprocess.run(
        [sys.executable, "-m", "infragate", "profile", "check", str(profile)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 3 and completed.stderr == ""
    assert len(completed.stdout.splitlines()) == 1 and CASES[case][1] in completed.stdout

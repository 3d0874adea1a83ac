from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infragate.errors import ProfileError
from infragate.profile import REDACTOR, Profile, load_profile, parse_profile

VALID: dict[str, Any] = {
    "name": "shop",
    "platform": {"kind": "none"},
    "gateway": {
        "base_url": "https://gateway.example.test",
        "health_path": "/healthz",
        "timeout": "3s",
        "routes": {
            "api": {"path": "/api/items", "rate_limit": {"rate": "100r/s", "burst": 20}},
            "auth": {"path": "/auth/login", "method": "POST", "rate_limit": {"rate": "1000r/m", "status": 429}},
        },
    },
    "services": {"api": {"replicas": {"min": 3, "max": 10}, "route": "api", "replica_header": "X-Replica"}},
    "safety": {"environment": "staging", "allow_destructive": True, "max_rate": 200},
}


def _text(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _error(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, file="shop.yaml", environ={})
    return caught.value


def test_a_valid_profile_loads_frozen_with_parsed_quantities() -> None:
    profile = parse_profile(_text(VALID), file="shop.yaml", environ={})
    assert profile.gateway.timeout == 3.0
    assert profile.gateway.routes["auth"].rate_limit is not None
    assert profile.gateway.routes["auth"].rate_limit.rate.per_second == pytest.approx(1000 / 60)
    assert profile.services["api"].replicas.min == 3 and profile.services["api"].replicas.max == 10
    with pytest.raises(Exception, match="frozen"):
        profile.name = "other"  # type: ignore[misc]


def test_a_replica_count_is_a_fixed_bound() -> None:
    data = copy.deepcopy(VALID)
    data["services"]["api"]["replicas"] = 5
    bounds = parse_profile(_text(data), environ={}).services["api"].replicas
    assert (bounds.min, bounds.max) == (5, 5)
    assert bounds.contains(5) and not bounds.contains(4)


def test_a_typo_names_file_line_key_and_suggestion() -> None:
    text = _text(VALID).replace("replica_header", "replica_headr")
    error = _error(text)
    line = next(number for number, content in enumerate(text.splitlines(), 1) if "replica_headr" in content)
    assert str(error).startswith(
        f"shop.yaml:{line}: services.api.replica_headr: unknown key; did you mean 'replica_header'?"
    )
    assert "\n" not in str(error)


def test_a_wrong_type_says_what_was_given() -> None:
    data = copy.deepcopy(VALID)
    data["gateway"]["routes"]["api"]["rate_limit"]["rate"] = "fast"
    error = _error(_text(data))
    assert error.key == "gateway.routes.api.rate_limit.rate"
    assert "a rate such as 100r/s" in str(error)


def test_a_missing_section_is_named() -> None:
    data = copy.deepcopy(VALID)
    del data["gateway"]
    assert _error(_text(data)).key == "gateway"


def test_an_unknown_platform_kind_lists_the_known_ones() -> None:
    data = copy.deepcopy(VALID)
    data["platform"]["kind"] = "nomad"
    error = _error(_text(data))
    assert error.key == "platform.kind" and "'local'" in str(error) and "'nomad'" in str(error)


def test_duplicate_keys_are_errors_not_silent_overrides() -> None:
    error = _error("name: a\nname: b\n")
    assert (error.key, error.line) == ("name", 2)


def test_yaml_syntax_errors_carry_the_line() -> None:
    error = _error("name: a\ngateway: [unclosed\n")
    assert error.key == "(syntax)" and error.line is not None


def test_production_never_allows_destructive_work() -> None:
    data = copy.deepcopy(VALID)
    data["safety"]["environment"] = "production"
    error = _error(_text(data))
    assert error.key == "safety" and "production" in str(error)


def test_a_service_route_must_be_declared() -> None:
    data = copy.deepcopy(VALID)
    data["services"]["api"]["route"] = "graphql"
    error = _error(_text(data))
    assert error.key == "services.api.route" and "known: api, auth" in str(error)


def test_secrets_expand_from_environment_and_files_and_are_redacted(tmp_path: Path) -> None:
    (tmp_path / "pg-password").write_text("s3cret-from-file\n")
    data = copy.deepcopy(VALID)
    data["datastores"] = {
        "postgres": {"dsn": "postgresql://app:${file:pg-password}@db/app"},
        "redis": {"url": "redis://:${REDIS_PASSWORD}@cache:6379/0"},
    }
    path = tmp_path / "shop.yaml"
    path.write_text(_text(data))
    profile = load_profile(path, environ={"REDIS_PASSWORD": "env-secret-value"})
    assert profile.datastores.postgres is not None
    assert profile.datastores.postgres.dsn.get_secret_value() == "postgresql://app:s3cret-from-file@db/app"
    assert "s3cret-from-file" not in repr(profile)
    assert (
        REDACTOR.redact("dsn=postgresql://app:s3cret-from-file@db, redis env-secret-value")
        == "dsn=postgresql://app:***@db, redis ***"
    )


def test_a_missing_secret_names_the_key_and_variable() -> None:
    data = copy.deepcopy(VALID)
    data["datastores"] = {"redis": {"url": "redis://:${NOT_SET_ANYWHERE}@cache"}}
    error = _error(_text(data))
    assert error.key == "datastores.redis.url" and "NOT_SET_ANYWHERE" in str(error)


def test_a_missing_file_is_one_line() -> None:
    with pytest.raises(ProfileError, match=r"^/nonexistent/p.yaml: \(file\): a readable YAML profile"):
        load_profile("/nonexistent/p.yaml")


def test_a_relative_ca_bundle_resolves_against_the_profile(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked here")
    data = copy.deepcopy(VALID)
    data["gateway"]["ca_bundle"] = "ca.pem"
    (tmp_path / "p.yaml").write_text(_text(data))
    assert load_profile(tmp_path / "p.yaml").gateway.ca_bundle == tmp_path / "ca.pem"
    data["gateway"]["ca_bundle"] = "missing.pem"
    (tmp_path / "p.yaml").write_text(_text(data))
    with pytest.raises(ProfileError, match=r"gateway\.ca_bundle: an existing file"):
        load_profile(tmp_path / "p.yaml")


def _assert_one_clear_line(text: str) -> None:
    try:
        result = parse_profile(text, file="fuzz.yaml", environ={})
    except ProfileError as error:
        message = str(error)
        assert message.startswith("fuzz.yaml")
        assert "\n" not in message and "Traceback" not in message
        assert error.key
    else:
        assert isinstance(result, Profile)


@given(st.text(max_size=300))
def test_any_text_ends_in_a_profile_or_one_clear_line(text: str) -> None:
    _assert_one_clear_line(text)


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["5s", "100r/s", "https://x.test", "/p", "local", "none"]),
)
_values = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    return found


@given(st.data())
def test_any_mutation_of_a_valid_profile_ends_in_a_profile_or_one_clear_line(data: st.DataObject) -> None:
    profile = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(profile)))
        parent: Any = profile
        for key in path[:-1]:
            parent = parent[key]
        if not path:
            profile[data.draw(st.text(max_size=12))] = data.draw(_values)
        elif data.draw(st.booleans()):
            parent[path[-1]] = data.draw(_values)
        elif isinstance(parent, dict):
            parent.pop(path[-1], None)
    _assert_one_clear_line(yaml.safe_dump(profile))


def test_an_environment_default_applies_when_the_variable_is_unset_and_is_not_a_secret() -> None:
    data = copy.deepcopy(VALID)
    data["gateway"]["base_url"] = "${SHOP_GATEWAY:-https://default.example.test}"
    assert parse_profile(_text(data), environ={}).gateway.base_url == "https://default.example.test"
    assert REDACTOR.redact("https://default.example.test") == "https://default.example.test"
    assert parse_profile(_text(data), environ={"SHOP_GATEWAY": "https://set.example.test"}).gateway.base_url == (
        "https://set.example.test"
    )


def test_a_secret_is_redacted_in_its_obvious_encodings() -> None:
    import base64
    import html
    import json
    from urllib.parse import quote

    from infragate.profile.secrets import Redactor, encodings

    secret = "p@ss:w0rd/+&<x>'\"é"
    redactor = Redactor()
    redactor.register(secret)
    for variant in encodings(secret) | {secret}:
        assert secret not in redactor.redact(f"before {variant} after"), variant
    assert redactor.redact(f"postgresql://app:{quote(secret, safe='')}@db/app") == "postgresql://app:***@db/app"
    assert redactor.redact(json.dumps({"dsn": secret})) == '{"dsn": "***"}'
    assert redactor.redact(html.escape(secret)) == "***"
    for prefix in (b"", b"u", b"us", b"user:"):  # inside a Basic authorization header, at any offset
        encoded = base64.b64encode(prefix + secret.encode() + b"-and-more").decode()
        clean = redactor.redact(encoded)
        # all but the two groups at its edges, which it shares with its neighbours, is masked
        assert "***" in clean and len(encoded) - len(clean) >= len(secret.encode()) - 6, (encoded, clean)


def test_a_password_in_any_url_of_a_profile_is_a_secret(tmp_path: Path) -> None:
    """Issue 28: `https://user:PASSWORD@host` was accepted and the password printed and written into
    every report. Any URL-valued key: the password is masked in the URL and on its own."""
    text = (
        "name: shop\n"
        "gateway: {base_url: 'https://gate:Gateway-Pass-7@127.0.0.1:8443', routes: {api: {path: /api}}}\n"
        "tls: {http_redirect_from: 'http://gate:Redirect-Pass-8@127.0.0.1:8080'}\n"
        "datastores: {redis: {url: 'redis://:Redis%2FPass-9@127.0.0.1:6379/0'}}\n"
        "monitoring: {prometheus: 'http://prom:Prom-Pass-10@127.0.0.1:9090'}\n"
        "safety: {environment: staging}\n"
    )
    profile = parse_profile(text, base_dir=tmp_path)
    assert profile.gateway.base_url.startswith("https://gate:Gateway-Pass-7@")  # the probes still use it
    printed = REDACTOR.redact(f"could not reach {profile.gateway.base_url}/api/items; {text}")
    for password in ("Gateway-Pass-7", "Redirect-Pass-8", "Redis%2FPass-9", "Redis/Pass-9", "Prom-Pass-10"):
        assert password not in printed, printed
    assert "could not reach https://gate:***@127.0.0.1:8443/api/items" in printed
    assert REDACTOR.redact("the password was Prom-Pass-10") == "the password was ***"


def test_any_url_password_is_masked_even_when_never_registered() -> None:
    from infragate.profile.secrets import Redactor

    redactor = Redactor()
    assert redactor.redact("GET http://u:pw@h:1/x and postgresql://:p%40w@db/app, not http://h/a:b@c") == (
        "GET http://u:***@h:1/x and postgresql://:***@db/app, not http://h/a:b@c"
    )


def test_a_kept_path_is_not_masked_inside_but_a_secret_overlapping_it_is() -> None:
    """Issue 28: a secret that also spelled part of the reports folder was masked inside that path."""
    from infragate.profile.secrets import Redactor

    redactor = Redactor()
    redactor.register("secret")
    redactor.register("mysecretreports")
    redactor.keep("/tmp/rep-39_secret_file", "reports")
    assert (
        redactor.redact("reports in /tmp/rep-39_secret_file/x; secret") == "reports in /tmp/rep-39_secret_file/x; ***"
    )
    assert redactor.redact("mysecretreports and reports") == "*** and reports"


_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_VALUES = st.text(alphabet="ABCDEFGHJKLMNQRSTUVWXYZ0123456789", min_size=6, max_size=24)


@given(
    name=_NAMES, value=_VALUES, form=st.sampled_from(["${{{}}}", "${{env:{}}}", "${{{}:-unused}}", "${{env:{}:-x}}"])
)
def test_every_environment_form_expands_and_is_a_secret(name: str, value: str, form: str) -> None:
    """Issue 29: `${env:NAME}`, the documented form, stayed literal and was never treated as a secret."""
    from infragate.profile.secrets import expand

    expanded = expand(f"pre-{form.format(name)}-post", None, {name: value})
    assert expanded == f"pre-{value}-post"
    assert value not in REDACTOR.redact(expanded)


@given(text=st.text(alphabet="${}:-=/ aZ_9", max_size=30))
def test_no_dollar_brace_is_ever_left_literal(text: str) -> None:
    """Any `${` that is not a known form is an error naming the forms; only `$${` gives a literal `${`."""
    from infragate.profile.secrets import SecretReferenceError, expand

    try:
        expanded = expand(text, None, {"aZ_9": "value-of-the-variable"})
    except SecretReferenceError as exc:
        assert "${env:NAME}" in str(exc) or "environment variable" in str(exc)
        return
    assert expanded.count("${") == text.count("$${")


def test_an_unknown_reference_in_a_profile_is_one_line_naming_its_key(tmp_path: Path) -> None:
    text = (
        "name: shop\ngateway: {base_url: 'https://127.0.0.1:8443'}\n"
        "datastores: {redis: {url: 'redis://:${vault:x}@h:6379/0'}}\nsafety: {environment: staging}\n"
    )
    with pytest.raises(
        ProfileError, match=r"datastores.redis.url: a secret reference of a known form \(\$\{NAME\}, \$\{env:NAME\}"
    ):
        parse_profile(text, base_dir=tmp_path)

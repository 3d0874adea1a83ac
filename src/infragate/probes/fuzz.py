"""A bounded, reproducible series of odd requests through the gateway, generated with Hypothesis.

Nothing is asserted here: every answer is kept, and the Then-steps judge them. The series is
derandomized, so the same profile always sends the same requests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from infragate.probes.http import Exchange, GatewayClient
from infragate.profile.fields import HTTP_METHODS
from infragate.profile.model import Profile
from infragate.verdicts import Check

FUZZ_REQUESTS = 120
FUZZ_RATE_PER_S = 40.0
# Characters that break naive parsers, quoting and templating; mixed into generated text.
_AWKWARD_TOKENS = ("'", '"', ";", "\\", "%", "..", "<", ">", "{{", "}}", "$(", "\u00e9", "\u202e", "%00")
_AWKWARD = st.sampled_from(_AWKWARD_TOKENS)
_TEXT = st.lists(st.one_of(st.text(min_size=1, max_size=8), _AWKWARD), max_size=6).map("".join)
_HEADER_NAME = st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
# Header values a client library will send: printable ASCII without surrounding blanks.
_HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.strip)


@dataclass(frozen=True)
class FuzzResult:
    """Every odd request and its answer."""

    sent: int
    exchanges: tuple[Exchange, ...]
    origins: tuple[str | None, ...]
    allowed_origins: tuple[str, ...]

    def server_error_check(self) -> Check:
        """No answer with a 5xx status."""
        problems = [
            f"expected no server error, observed {e.status} for {e.method} {e.url} (body: {e.body_excerpt[:80]!r})"
            for e in self.exchanges
            if e.status >= 500
        ]
        observed = f"{len(problems)} server errors in {len(self.exchanges)} answers"
        return Check.judged("no server error", "no server error", observed, problems)

    def origin_check(self) -> Check:
        """No answer lets an origin outside the allowlist read it (echoed, or a wildcard)."""
        problems = []
        for origin, exchange in zip(self.origins, self.exchanges, strict=True):
            allowed = exchange.header("access-control-allow-origin")
            if origin and origin not in self.allowed_origins and allowed in (origin, "*"):
                problems.append(
                    f"expected origin {origin} refused on {exchange.method} {exchange.url}, observed "
                    f"Access-Control-Allow-Origin {allowed}"
                )
        observed = f"{len(problems)} of {sum(1 for origin in self.origins if origin)} odd origins allowed"
        return Check.judged("unknown origins", "every origin outside the allowlist refused", observed, problems)


def send_odd_requests(client: GatewayClient, profile: Profile, count: int = FUZZ_REQUESTS) -> FuzzResult:
    """Send count generated requests to the declared routes and to random paths, paced under every limit."""
    # Each declared route with the names of its query parameters; odd values go into those first.
    targets: list[tuple[str, str, tuple[str, ...]]] = [
        (route.method, split.path, tuple(parse_qs(split.query, keep_blank_values=True)))
        for route, split in ((route, urlsplit(route.path)) for route in profile.gateway.routes.values())
    ]
    targets.append(("GET", "/", ()))
    # Mostly the method each route is declared with (so requests reach the code behind it), sometimes any.
    requests = st.sampled_from(targets).flatmap(
        lambda target: st.tuples(st.just(target), st.sampled_from((target[0],) * len(HTTP_METHODS) + HTTP_METHODS))
    )
    allowed_origins = profile.gateway.cors.allowed_origins if profile.gateway.cors else ()
    # No Origin, an allowlisted one, or a generated one (which must never be let in).
    origin_strategy = st.one_of(
        st.none(),
        st.sampled_from(allowed_origins) if allowed_origins else st.none(),
        st.builds(
            "{}://{}".format,
            st.sampled_from(["https", "http"]),
            st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,8}){1,2}", fullmatch=True),
        ),
    )
    rate = min(FUZZ_RATE_PER_S, profile.safety.max_rate)
    origins: list[str | None] = []
    exchanges: list[Exchange] = []
    started = time.monotonic()

    def send(method: str, path: str, headers: dict[str, str], body: str | None, origin: str | None) -> None:
        delay = started + len(exchanges) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        exchanges.append(client.request(method, path, headers=headers, body=body))
        origins.append(origin)

    # Boundary values first, whatever the generator draws later: every awkward token alone as the
    # value of every declared query parameter.
    for method, base, names in targets:
        for name in names:
            for token in _AWKWARD_TOKENS:
                send(method, f"{base}?{quote(name, safe='')}={quote(token, safe='')}", {}, None, None)

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        request=requests,
        segments=st.one_of(st.just([]), st.lists(_TEXT, min_size=1, max_size=2)),
        values=st.lists(_TEXT, min_size=4, max_size=4),
        extra=st.dictionaries(_TEXT, _TEXT, max_size=2),
        headers=st.dictionaries(_HEADER_NAME, _HEADER_VALUE, max_size=3),
        body=st.none() | _TEXT,
        origin=origin_strategy,
    )
    def one(
        request: tuple[tuple[str, str, tuple[str, ...]], str],
        segments: list[str],
        values: list[str],
        extra: dict[str, str],
        headers: dict[str, str],
        body: str | None,
        origin: str | None,
    ) -> None:
        (_, base, names), method = request
        query = dict(zip(names, values, strict=False)) | extra
        path = base.rstrip("/") + "".join("/" + quote(segment, safe="") for segment in segments) or "/"
        if query:
            path += "?" + "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in query.items())
        if origin is not None:
            headers = {**headers, "Origin": origin}
        send(method, path, headers, body, origin)

    one()
    return FuzzResult(len(exchanges), tuple(exchanges), tuple(origins), tuple(allowed_origins))

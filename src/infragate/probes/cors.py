"""Probes of the CORS policy: who may read responses from a browser, and preflight answers."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from infragate.errors import ProbeError
from infragate.probes.http import Exchange, GatewayClient
from infragate.profile.model import Cors, Profile
from infragate.verdicts import Check


def unknown_origins(allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Origins that must not be allowed: unrelated, "null", and look-alikes of the first allowed one."""
    sample = urlsplit(allowed[0])
    host = sample.hostname or "app.example.test"
    return (
        "https://attacker.example.net",
        "null",
        f"{sample.scheme}://{host}.attacker.example.net",  # suffix trick
        f"{sample.scheme}://attacker-{host}",  # prefix trick
        f"{'http' if sample.scheme == 'https' else 'https'}://{host}",  # other scheme
    )


@dataclass(frozen=True)
class OriginAnswer:
    """What the gateway told a browser from one origin."""

    origin: str
    allow_origin: str | None
    allow_credentials: str | None
    status: int


@dataclass(frozen=True)
class CorsResult:
    """Answers to an allowlisted origin and to unknown ones."""

    route: str
    allowed: tuple[OriginAnswer, ...]
    unknown: tuple[OriginAnswer, ...]

    def allowed_check(self) -> Check:
        """Every allowlisted origin allowed."""
        problems = [
            f"expected route {self.route} to allow origin {answer.origin}, observed Access-Control-Allow-Origin "
            f"{answer.allow_origin or 'absent'}"
            for answer in self.allowed
            if answer.allow_origin not in (answer.origin, "*")
        ]
        observed = f"{len(self.allowed) - len(problems)} of {len(self.allowed)} allowed"
        return Check.judged("allowed origins", f"route {self.route} to allow every listed origin", observed, problems)

    def unknown_check(self) -> Check:
        """No unknown origin allowed (echoed, or a wildcard)."""
        problems = []
        for answer in self.unknown:
            if answer.allow_origin in (answer.origin, "*"):
                credentials = " with credentials" if (answer.allow_credentials or "").lower() == "true" else ""
                problems.append(
                    f"expected route {self.route} to refuse origin {answer.origin}, observed "
                    f"Access-Control-Allow-Origin {answer.allow_origin}{credentials}"
                )
        observed = f"{len(problems)} of {len(self.unknown)} unknown origins allowed"
        return Check.judged("unknown origins", f"route {self.route} to refuse unknown origins", observed, problems)


def _answer(origin: str, exchange: Exchange) -> OriginAnswer:
    return OriginAnswer(
        origin,
        exchange.header("access-control-allow-origin"),
        exchange.header("access-control-allow-credentials"),
        exchange.status,
    )


def probe_origins(client: GatewayClient, profile: Profile) -> CorsResult:
    """Call the CORS route as browsers from allowed and unknown origins would."""
    cors = _declared(profile)
    route = profile.gateway.routes[cors.route]
    allowed = tuple(_answer(origin, client.call(route, headers={"Origin": origin})) for origin in cors.allowed_origins)
    unknown = tuple(
        _answer(origin, client.call(route, headers={"Origin": origin}))
        for origin in unknown_origins(cors.allowed_origins)
    )
    return CorsResult(cors.route, allowed, unknown)


@dataclass(frozen=True)
class PreflightResult:
    """A preflight request and its answer."""

    route: str
    origin: str
    requested_method: str
    requested_headers: tuple[str, ...]
    declared_methods: tuple[str, ...]
    exchange: Exchange

    def check(self) -> Check:
        """The preflight allows the origin, the declared methods and the requested headers."""
        where = f"preflight from {self.origin} to route {self.route}"
        expected = f"the {where} to allow the origin, methods {', '.join(self.declared_methods)}"
        expected += f" and headers {', '.join(self.requested_headers)}" if self.requested_headers else ""
        observed = f"{self.exchange.status}" + "".join(
            f", {name} {self.exchange.header(name)}"
            for name in ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers")
            if self.exchange.header(name)
        )
        return Check.judged("preflight", expected, observed, self._problems(where))

    def _problems(self, where: str) -> list[str]:
        answer = self.exchange
        if answer.status not in (200, 204):
            return [f"expected the {where} answered 200 or 204, observed {answer.status}"]
        problems = []
        if answer.header("access-control-allow-origin") not in (self.origin, "*"):
            problems.append(
                f"expected the {where} to allow the origin, observed "
                f"{answer.header('access-control-allow-origin') or 'no Access-Control-Allow-Origin'}"
            )
        methods = {item.strip().upper() for item in (answer.header("access-control-allow-methods") or "").split(",")}
        missing_methods = [method for method in self.declared_methods if method.upper() not in methods | {"*"}]
        if missing_methods:
            problems.append(
                f"expected the {where} to allow methods {', '.join(missing_methods)}, observed "
                f"{answer.header('access-control-allow-methods') or 'none'}"
            )
        headers = {item.strip().lower() for item in (answer.header("access-control-allow-headers") or "").split(",")}
        missing_headers = [name for name in self.requested_headers if name.lower() not in headers | {"*"}]
        if missing_headers:
            problems.append(
                f"expected the {where} to allow headers {', '.join(missing_headers)}, observed "
                f"{answer.header('access-control-allow-headers') or 'none'}"
            )
        return problems


def probe_preflight(client: GatewayClient, profile: Profile) -> PreflightResult:
    """Send the preflight a browser sends before a non-simple cross-origin request."""
    cors = _declared(profile)
    route = profile.gateway.routes[cors.route]
    origin = cors.allowed_origins[0]
    method = next((m for m in cors.allowed_methods if m.upper() not in ("GET", "HEAD")), cors.allowed_methods[0])
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if cors.allowed_headers:
        headers["Access-Control-Request-Headers"] = ", ".join(cors.allowed_headers)
    exchange = client.request("OPTIONS", route.path, headers=headers)
    return PreflightResult(cors.route, origin, method, cors.allowed_headers, cors.allowed_methods, exchange)


def _declared(profile: Profile) -> Cors:
    if profile.gateway.cors is None:
        raise ProbeError("the profile declares no gateway.cors policy")
    return profile.gateway.cors

"""The HTTP client every probe of the gateway uses: trust anchors and timeouts from the profile,
each exchange returned as evidence, and every failure to get an answer as a ProbeError."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from infragate.errors import ProbeError
from infragate.probes.silence import SILENT

if TYPE_CHECKING:
    from infragate.profile.model import Gateway, Route

BODY_EXCERPT = 300


@dataclass(frozen=True)
class Exchange:
    """One request and the answer to it."""

    method: str
    url: str
    status: int
    elapsed_s: float
    headers: tuple[tuple[str, str], ...]
    body_excerpt: str

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class GatewayClient:
    """Sends requests to a target's gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.base_url = gateway.base_url
        self._session = requests.Session()
        # Proxies from the environment would sit between us and the target and distort every figure.
        self._session.trust_env = False
        self._verify: bool | str = str(gateway.ca_bundle) if gateway.ca_bundle else gateway.verify_tls

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request; an answer of any status is an Exchange, no answer at all is a ProbeError."""
        return self.request_url(method, self.base_url + path, headers=headers, body=body, timeout=timeout)

    def request_url(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request to a full URL (another port or scheme of the same gateway)."""
        SILENT.refuse_if_silent(url)
        started = time.perf_counter()
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                data=body,
                verify=self._verify,
                timeout=timeout or self.gateway.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise ProbeError(f"could not reach {url}: TLS handshake failed ({_reason(exc)})") from None
        except requests.exceptions.Timeout:
            silence = f"no answer within {timeout or self.gateway.timeout:g} s"
            SILENT.noted(url, silence)
            raise ProbeError(f"could not reach {url}: {silence}") from None
        except requests.RequestException as exc:
            raise ProbeError(f"could not reach {url}: {_reason(exc)}") from None
        elapsed = time.perf_counter() - started
        SILENT.answered(url)
        return Exchange(
            method, url, response.status_code, elapsed, tuple(response.headers.items()), response.text[:BODY_EXCERPT]
        )

    def call(self, route: Route, *, headers: dict[str, str] | None = None) -> Exchange:
        """Call a declared route the way the profile says a client calls it."""
        return self.request(route.method, route.path, headers={**route.headers(), **(headers or {})}, body=route.body)


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests error, without the adapter noise."""
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "certificate verify failed",
        "Connection reset",
    ):
        if marker in text:
            return marker.lower() if marker != "certificate verify failed" else "certificate verify failed"
    return text.splitlines()[0][:200] if text else type(exc).__name__

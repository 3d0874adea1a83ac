"""Probe of a WebSocket endpoint through the gateway: upgrade, then an echo."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from dataclasses import dataclass

import aiohttp

from infragate.errors import ProbeError
from infragate.probes.silence import SILENT
from infragate.probes.traffic import ssl_context
from infragate.profile.model import Profile
from infragate.verdicts import Check


@dataclass(frozen=True)
class WebSocketResult:
    """Whether the upgrade happened, and what came back."""

    url: str
    upgraded: bool
    status: int
    sent: str
    received: str | None

    def upgrade_check(self) -> Check:
        """The connection was upgraded."""
        return Check.compare("upgrade", f"{self.url} to switch protocols (101)", f"{self.status}", self.upgraded)

    def echo_check(self) -> Check:
        """The message came back as sent."""
        expected = f"{self.sent!r} echoed by {self.url}"
        return Check.compare("echo", expected, repr(self.received), self.received == self.sent)


def probe_websocket(profile: Profile) -> WebSocketResult:
    """Open a WebSocket to the declared path, send one message and read one back."""
    gateway = profile.gateway
    if gateway.websocket is None:
        raise ProbeError("the profile declares no gateway.websocket")
    url = gateway.base_url.replace("https://", "wss://").replace("http://", "ws://") + gateway.websocket.path
    message = f"infragate-{secrets.token_hex(8)}"
    context = ssl_context(gateway.ca_bundle, gateway.verify_tls)
    SILENT.refuse_if_silent(gateway.base_url)
    return asyncio.run(_exchange(url, message, context, gateway.timeout))


async def _exchange(url: str, message: str, context: ssl.SSLContext, timeout: float) -> WebSocketResult:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        try:
            async with session.ws_connect(url, ssl=context) as socket:
                await socket.send_str(message)
                reply = await socket.receive(timeout=timeout)
                received = reply.data if reply.type == aiohttp.WSMsgType.TEXT else None
                return WebSocketResult(url, True, 101, message, received)
        except aiohttp.WSServerHandshakeError as exc:
            return WebSocketResult(url, False, exc.status, message, None)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ProbeError(f"could not reach {url}: {type(exc).__name__}: {exc}") from None

"""A typed client of supervisord's XML-RPC interface (unix socket or http)."""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from infragate.errors import ProbeError


@dataclass(frozen=True)
class ProcessInfo:
    """One supervised process as supervisord reports it."""

    name: str
    group: str
    state: str
    pid: int
    started_at: int
    description: str

    @property
    def running(self) -> bool:
        """Whether supervisord reports the process as running."""
        return self.state == "RUNNING"


class SupervisorClient:
    """Talks to one supervisord; every failure to reach it is a ProbeError."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, url))

    def _call(self, method: str, *args: object) -> Any:
        try:
            return getattr(self._proxy.supervisor, method)(*args)
        except xmlrpc.client.Fault as fault:
            raise ProbeError(f"supervisor at {self.url}: {method}{args!r} failed: {fault.faultString}") from None
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            raise ProbeError(f"could not reach the supervisor at {self.url}: {exc}") from None

    def processes(self) -> tuple[ProcessInfo, ...]:
        """Every process supervisord knows, in its order."""
        infos = cast(list[dict[str, Any]], self._call("getAllProcessInfo"))
        return tuple(
            ProcessInfo(
                name=info["name"],
                group=info["group"],
                state=info["statename"],
                pid=int(info["pid"]),
                started_at=int(info["start"]),
                description=info["description"],
            )
            for info in infos
        )

    def process(self, name: str) -> ProcessInfo | None:
        """One process by name, or None when supervisord does not know it."""
        return next((info for info in self.processes() if info.name == name), None)

    def start(self, name: str) -> None:
        """Start a process and wait until supervisord sees it running."""
        self._call("startProcess", name, True)

    def stop(self, name: str) -> None:
        """Stop a process and wait until it has exited."""
        self._call("stopProcess", name, True)

    def signal(self, name: str, signal_name: str) -> None:
        """Send a signal (such as "KILL") to a process."""
        self._call("signalProcess", name, signal_name)

    def reload_config(self) -> None:
        """Read program files again (new ones become known; nothing starts yet)."""
        self._call("reloadConfig")

    def add_group(self, name: str) -> None:
        """Start managing a program whose file reload_config found (it starts if autostart)."""
        self._call("addProcessGroup", name)

    def remove_group(self, name: str) -> None:
        """Forget a stopped program."""
        self._call("removeProcessGroup", name)

    def config(self, name: str) -> dict[str, Any]:
        """supervisord's configuration of one program."""
        infos = cast(list[dict[str, Any]], self._call("getAllConfigInfo"))
        found = next((info for info in infos if info.get("name") == name), None)
        if found is None:
            raise ProbeError(f"supervisor at {self.url} has no program {name}")
        return found

    def pid(self) -> int:
        """The pid of supervisord itself."""
        return int(self._call("getPID"))

    def stop_all(self) -> None:
        """Send every running process its stop signal at once, without waiting (supervisord's own
        shutdown stops one program group after the other, each on its one-second tick)."""
        self._call("stopAllProcesses", False)

    def shutdown(self) -> None:
        """Stop every process and supervisord."""
        self._call("shutdown")

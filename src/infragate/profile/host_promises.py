"""What the deployment's hosts and containers must hold (a profile's `hosts` section), each reached
through a testinfra backend: the users each service's processes run as, files that must not be
readable by others (keys, secrets), the addresses each service port may listen on,
configuration tests that must pass, the lowest version of each security-relevant package and the
values of kernel settings; and what the machine answers on seen from outside (`exposure`)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from infragate.profile.fields import Duration, StrictModel

# testinfra's backends that reach a host or a container (testinfra.backend.BACKENDS has more).
SCHEMES = ("local", "ssh", "paramiko", "docker", "podman", "kubectl", "ansible", "lxc")


def _mode(value: object) -> object:
    """A file mode as octal text ("0600", "600") or an int; its permission bits only."""
    if isinstance(value, str):
        if not re.fullmatch(r"0?[0-7]{3}", value.strip()):
            raise ValueError(f"expected an octal file mode such as 0600, got {value!r}")
        return int(value.strip(), 8)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return value
    raise ValueError(f"expected an octal file mode such as 0600, got {value!r}")


FileMode = Annotated[int, BeforeValidator(_mode)]


class HostFile(StrictModel):
    """A file that must exist with no permission beyond a mode, owned by a user."""

    max_mode: FileMode = Field(description="no permission bit beyond these, e.g. 0600 for a private key")
    owner: str | None = Field(default=None, description="the user that must own it")


class HostProcess(StrictModel):
    """A service's processes, found by their command line, and the users they may run as."""

    command: str = Field(
        description="a regular expression searched in each process's command line, e.g. 'redis-server .*6379'"
    )
    users: list[str] = Field(
        default_factory=list,
        description="the users its processes may run as, root only if named; when absent, any user but root",
    )

    @field_validator("command")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"expected a regular expression, got {value!r}: {exc}") from None
        if not value.strip():
            raise ValueError("expected a regular expression that names the service's command, got nothing")
        return value


class Host(StrictModel):
    """One host or container, and what must hold on it."""

    spec: str | None = Field(
        default=None,
        description="a testinfra host spec: local://, ssh://user@host, docker://container, "
        "kubectl://pod?namespace=NS, ansible://host?ansible_inventory=FILE (or `service` instead)",
    )
    service: str | None = Field(
        default=None,
        description="instead of a spec: every running replica of this service, as the platform adapter "
        "reaches it (a Swarm task's container, this machine for the local platform)",
    )
    processes: dict[str, HostProcess] = Field(
        default_factory=dict,
        description="service -> its command line and the users it may run as: at least one of its processes "
        "runs, and each as one of these users (or as any user but root)",
    )
    files: dict[str, HostFile] = Field(default_factory=dict, description="absolute path -> mode and owner")
    no_secrets_in: list[str] = Field(
        default_factory=list,
        description="absolute folders where no file that others may read holds a secret of the profile (or an "
        "encoding of one): a password copied into a log, an env file, a dump",
    )
    listens: dict[int, list[str]] = Field(
        default_factory=dict,
        description="service port -> the addresses it may listen on (127.0.0.1, 10.0.0.5, 0.0.0.0 for every "
        "address): it must listen there and nowhere else",
    )
    config_tests: list[str] = Field(
        default_factory=list, description="commands that must exit 0, e.g. nginx -t -c /etc/nginx/nginx.conf"
    )
    packages: dict[str, str] = Field(
        default_factory=dict,
        description="package -> the lowest version allowed, e.g. libssl3: 3.0.18 (installed, at that version or "
        "above in Debian's version order)",
    )
    sysctls: dict[str, int | str] = Field(
        default_factory=dict,
        description="kernel setting -> its value, e.g. net.ipv4.tcp_syncookies: 1 (as the host's network "
        "namespace sees it: a container's own for net.*)",
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> Host:
        if (self.spec is None) == (self.service is None):
            raise ValueError("expected exactly one of spec (a testinfra host spec) and service (a service's replicas)")
        return self

    @field_validator("spec")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme = value.partition("://")[0]
        if "://" not in value or scheme not in SCHEMES:
            raise ValueError(f"expected a testinfra host spec starting with one of {', '.join(SCHEMES)}://")
        return value

    @field_validator("files", "no_secrets_in")
    @classmethod
    def _absolute(cls, value: dict[str, HostFile] | list[str]) -> dict[str, HostFile] | list[str]:
        relative = [path for path in value if not path.startswith("/")]
        if relative:
            raise ValueError(f"file paths on a host must be absolute: {', '.join(relative)}")
        return value

    @field_validator("packages", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        # YAML reads 1.20 as the number 1.2: a version must be quoted to keep what was written.
        if isinstance(value, dict):
            numbers = [f"{name}: {floor!r}" for name, floor in value.items() if not isinstance(floor, str)]
            if numbers:
                listed = ", ".join(numbers)
                raise ValueError(f"expected each version quoted, e.g. '1.20' (YAML reads 1.20 as 1.2): {listed}")
        return value

    @field_validator("packages")
    @classmethod
    def _floors(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{name}: {floor!r}" for name, floor in value.items() if not re.fullmatch(r"[\w.+~:-]+", str(floor))]
        if bad:
            raise ValueError(f"expected a version such as 3.0.18 or 1:2.3-4, got {', '.join(bad)}")
        return value

    @field_validator("sysctls")
    @classmethod
    def _settings(cls, value: dict[str, int | str]) -> dict[str, int | str]:
        bad = [name for name in value if not re.fullmatch(r"[a-z0-9_]+(\.[\w-]+)+", name)]
        if bad:
            raise ValueError(f"expected kernel setting names such as net.ipv4.tcp_syncookies, got {', '.join(bad)}")
        return value

    @field_validator("listens")
    @classmethod
    def _ports(cls, value: dict[int, list[str]]) -> dict[int, list[str]]:
        bad = [str(port) for port, addresses in value.items() if not 0 < port < 65536 or not addresses]
        if bad:
            raise ValueError(f"expected ports 1-65535, each with at least one address: {', '.join(bad)}")
        return value


MAX_SCANNED = 65535


def parse_ports(value: object) -> object:
    """Ports as a list of numbers and "FIRST-LAST" ranges (or one such text, comma-separated)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"expected ports as a list of numbers and FIRST-LAST ranges, got {value!r}")
    ports: set[int] = set()
    for item in items:
        text = str(item).strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
        first, last = (int(match[1]), int(match[2] or match[1])) if match else (0, -1)
        if isinstance(item, bool) or not match or not 0 < first <= last < 65536:
            raise ValueError(f"expected a port 1-65535 or a range FIRST-LAST of them, got {item!r}")
        ports.update(range(first, last + 1))
    return sorted(ports)


PortList = Annotated[list[int], BeforeValidator(parse_ports)]


class Exposure(StrictModel):
    """What this machine answers on to a neighbour: a client in a network namespace of the run's own,
    linked to the machine by a veth pair, connects to every scanned port of the machine's end."""

    exposed: PortList = Field(description="the ports that may answer from outside, e.g. [443, 80]; any other fails")
    ports: PortList | None = Field(
        default=None, description="the ports scanned: numbers and FIRST-LAST ranges; every port when absent"
    )
    connect_timeout: Duration = Field(default=1.0, description="how long one connection may take to be answered")
    within: Duration = Field(
        default=120.0, description="the bound of the whole scan; one not finished by then is could not verify"
    )

    @property
    def scanned(self) -> list[int]:
        """The ports the scan connects to."""
        return self.ports if self.ports is not None else [*range(1, MAX_SCANNED + 1)]

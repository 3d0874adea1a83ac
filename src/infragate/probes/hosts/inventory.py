"""What a host holds, read through testinfra's modules (Process, File, Socket, run) over the backend its spec
names: a frozen observation per host, or a ProbeError naming the spec when the host cannot be read."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infragate.errors import ProbeError
from infragate.platforms.base import ReachesHosts
from infragate.profile.host_promises import Host
from infragate.profile.secrets import REDACTOR

COMMAND_TIMEOUT_S = 20  # a configuration test that takes longer is stopped and fails
SEARCHED_MAX = 2000  # files searched for secrets per host, at most
SEARCHED_MAX_KIB = 1024  # larger files (data, archives) are not searched
OUTPUT_KEPT = 400  # characters of a failed command's output kept in the observation


@dataclass(frozen=True)
class ProcessState:
    """A running process of a declared service: its pid, the user it runs as and its command line."""

    service: str
    pid: int
    user: str
    args: str


@dataclass(frozen=True)
class FileState:
    """A file as the host reports it."""

    path: str
    exists: bool
    mode: int | None = None
    owner: str | None = None


@dataclass(frozen=True)
class SecretCopy:
    """A file others may read that holds a secret of the profile (the secret itself is never kept)."""

    path: str
    mode: int


@dataclass(frozen=True)
class Listener:
    """A TCP socket in the listening state: its address (0.0.0.0 or :: for every one) and port."""

    address: str
    port: int


@dataclass(frozen=True)
class CommandResult:
    """A configuration test: its exit status and the end of what it printed."""

    command: str
    rc: int
    output: str


@dataclass(frozen=True)
class PackageState:
    """A package as the host's package manager records it: installed or not, and at which version."""

    name: str
    installed: bool
    version: str | None = None


@dataclass(frozen=True)
class SysctlState:
    """A kernel setting as the host sees it (None: the kernel has no such setting there)."""

    name: str
    value: int | str | None


@dataclass(frozen=True)
class HostObservation:
    """One host's processes of declared services, files, listening sockets and configuration tests."""

    name: str
    spec: str
    processes: tuple[ProcessState, ...]
    files: tuple[FileState, ...]
    listeners: tuple[Listener, ...]
    commands: tuple[CommandResult, ...]
    secret_copies: tuple[SecretCopy, ...] = ()
    searched: int = 0  # files others may read that were searched for secrets
    packages: tuple[PackageState, ...] = ()
    sysctls: tuple[SysctlState, ...] = ()


def parse_listener(url: str) -> Listener | None:
    """A listener from testinfra's socket URL (tcp://0.0.0.0:22, tcp://:::22, tcp://::1:5432); None
    for anything but TCP (unix sockets, UDP)."""
    scheme, _, rest = url.partition("://")
    if scheme != "tcp" or ":" not in rest:
        return None
    address, _, port = rest.rpartition(":")
    if not port.isdigit():
        return None
    return Listener(address.strip("[]") or "::", int(port))


# testinfra's backends that run a client program, by the scheme of a host's spec.
CLIENTS = {"docker": "docker", "kubectl": "kubectl", "podman": "podman", "ssh": "ssh", "lxc": "lxc"}


def connect(spec: str) -> Any:
    """The testinfra host of a spec; ProbeError when testinfra is missing, the backend's client
    program is not on PATH, or the backend refuses it."""
    try:
        import testinfra  # an optional dependency (the `hosts` extra)
    except ImportError:
        raise ProbeError("testinfra is not installed (install infragate's `hosts` extra)") from None
    scheme = spec.partition("://")[0]
    client = CLIENTS.get(scheme)
    if client is not None and shutil.which(client) is None:
        raise ProbeError(f"host {spec}: testinfra's {scheme} backend runs `{client}`, which is not on PATH here")
    try:
        return testinfra.get_host(spec)
    except Exception as exc:  # noqa: BLE001 - each backend raises its own kind
        raise ProbeError(f"host {spec}: testinfra cannot reach it: {exc}") from None


@dataclass(frozen=True)
class Inspection:
    """The hosts as read: each declared one (a service's replicas one by one) and what it holds."""

    hosts: Mapping[str, Host]
    observed: Mapping[str, HostObservation]


def inspect(hosts: Mapping[str, Host], platform: object) -> Inspection:
    """Expand the service selectors and read every host; ProbeError when one cannot be read."""
    expanded = expand(hosts, platform)
    return Inspection(expanded, {name: observe(name, host) for name, host in expanded.items()})


def expand(hosts: Mapping[str, Host], platform: object) -> dict[str, Host]:
    """The declared hosts with each `service` selector replaced by a host per running replica of that
    service (named HOST/REPLICA), as the platform adapter reaches it; ProbeError when it cannot."""
    expanded: dict[str, Host] = {}
    for name, host in hosts.items():
        if host.service is None:
            expanded[name] = host
            continue
        if not isinstance(platform, ReachesHosts):
            describe = getattr(platform, "describe", lambda: "this platform")()
            raise ProbeError(f"hosts.{name}: {describe} cannot name the replicas of {host.service} as hosts")
        for replica, spec in platform.host_specs(host.service).items():
            expanded[f"{name}/{replica}"] = host.model_copy(update={"spec": spec, "service": None})
    return expanded


def observe(name: str, host: Host) -> HostObservation:
    """Read what the profile declares of one host; ProbeError naming the spec when it cannot be read."""
    if host.spec is None:
        raise ProbeError(f"hosts.{name}: a service's replicas must be expanded to hosts before they are read")
    remote = connect(host.spec)
    try:
        _require_tools(remote, host)
        processes = _processes(remote, host) if host.processes else ()
        files = tuple(_file(remote, path) for path in host.files)
        needed = set(host.listens)
        listeners = tuple(
            found
            for url in (remote.socket.get_listening_sockets() if needed else [])
            if (found := parse_listener(url)) is not None and found.port in needed
        )
        commands = tuple(_run(remote, command) for command in host.config_tests)
        searched, copies = _secret_copies(remote, host.no_secrets_in)
        packages = tuple(_package(remote, package) for package in host.packages)
        sysctls = tuple(SysctlState(setting, _sysctl(remote, setting)) for setting in host.sysctls)
    except ProbeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a backend's connection, a missing `ss`: could not verify
        raise ProbeError(f"host {host.spec}: {type(exc).__name__}: {str(exc).strip()[:300]}") from None
    return HostObservation(name, host.spec, processes, files, listeners, commands, copies, searched, packages, sysctls)


# What testinfra's modules run on the host: any one of each group will do.
TOOLS = {
    "processes": (("ps",), "Process"),
    "listens": (("ss", "netstat"), "Socket"),
    "sysctls": (("sysctl",), "Sysctl"),
}


def _require_tools(remote: Any, host: Host) -> None:
    """ProbeError naming what is missing when the host (a slim container, say) lacks the command a
    declared part is read with: could not verify, with the remedy, not a backend's traceback."""
    for part, (commands, module) in TOOLS.items():
        if getattr(host, part) and not any(remote.exists(command) for command in commands):
            raise ProbeError(
                f"host {host.spec}: {' or '.join(commands)} is not installed there; testinfra's {module} module "
                f"reads {part} with it (install procps or iproute2 there, or declare no {part} for it)"
            )


def _processes(remote: Any, host: Host) -> tuple[ProcessState, ...]:
    """The processes whose command line matches a declared service's, with their users (testinfra
    reads each user by its pid; a process that ended in between is left out)."""
    listed = remote.process.filter()
    found = []
    for service, declared in host.processes.items():
        pattern = re.compile(declared.command)
        for process in listed:
            if not pattern.search(str(process.args)) or _is_the_listing(str(process.args)):
                continue
            try:
                user = str(process.user)
            except Exception:  # noqa: BLE001 - `ps -p` of a process that has ended fails
                continue
            found.append(ProcessState(service, int(process.pid), user, str(process.args)))
    return tuple(found)


def _is_the_listing(args: str) -> bool:
    """Whether a command line is testinfra's own `ps` (or the shell running it), not a service's."""
    return args.startswith(("ps -", "/bin/sh -c ps ", "sh -c ps "))


def _secret_copies(remote: Any, folders: list[str]) -> tuple[int, tuple[SecretCopy, ...]]:
    """Files others may read under the folders (below a size, a bounded number), read through testinfra
    and searched here for the profile's secrets: no secret is sent to the host to search with. A
    folder others cannot enter is skipped with all it holds (its files are not readable to them)."""
    if not folders:
        return 0, ()
    quoted = " ".join(shlex.quote(folder) for folder in folders)
    listed = remote.run(
        f"find {quoted} -xdev -type d ! -perm -o=x -prune -o -type f -perm -o=r -size -{SEARCHED_MAX_KIB}k "
        f"-print 2>/dev/null | head -n {SEARCHED_MAX}"
    )
    paths = [line for line in listed.stdout.splitlines() if line.startswith("/")]
    copies = []
    for path in paths:
        file = remote.file(path)
        try:
            text = file.content.decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - a file gone or unreadable in between: nothing to search
            continue
        if REDACTOR.holds_secret(text):
            copies.append(SecretCopy(path, int(file.mode)))
    return len(paths), tuple(copies)


def _package(remote: Any, name: str) -> PackageState:
    """testinfra's Package module, over the host's own package manager (dpkg, rpm, apk, ...)."""
    package = remote.package(name)
    if not package.is_installed:
        return PackageState(name, False)
    return PackageState(name, True, str(package.version))


def _sysctl(remote: Any, name: str) -> int | str | None:
    """testinfra's Sysctl module; None when the kernel has no such setting (sysctl: unknown key)."""
    try:
        value: int | str = remote.sysctl(name)
    except AssertionError as exc:  # testinfra's check_output: the command failed, its stderr in the text
        if "unknown key" in str(exc) or "No such file" in str(exc):
            return None
        raise ProbeError(f"sysctl {name}: {str(exc).strip()[:200]}") from None
    return value


def _file(remote: Any, path: str) -> FileState:
    """A declared file as testinfra's File module reads it; a link is judged by the file it leads to
    (a Kubernetes Secret's files are links into its current version, and a link's own mode is 0777)."""
    file = remote.file(path)
    if file.exists and file.is_symlink:
        file = remote.file(remote.check_output(f"readlink -f {shlex.quote(path)}"))
    if not file.exists:
        return FileState(path, False)
    return FileState(path, True, int(file.mode), str(file.user))


def _run(remote: Any, command: str) -> CommandResult:
    done = remote.run(f"timeout {COMMAND_TIMEOUT_S} sh -c {shlex.quote(command)}")
    output = (done.stdout + done.stderr).strip()
    return CommandResult(command, int(done.rc), output[-OUTPUT_KEPT:])

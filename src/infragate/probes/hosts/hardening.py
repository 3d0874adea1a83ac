"""What a host must hold, judged from its observation: each service's processes running as its
declared users only (root only where declared), files no more open than declared and owned as
declared, service ports listening exactly where declared, configuration tests passing, packages
at their lowest declared versions or above, kernel settings at their declared values."""

from __future__ import annotations

from collections.abc import Mapping

from infragate.probes.hosts.inventory import HostObservation
from infragate.probes.hosts.versions import at_least
from infragate.profile.host_promises import Host
from infragate.verdicts import Check

EVERY_ADDRESS = {"0.0.0.0": 4, "::": 6, "*": 0}  # wildcard -> the family it covers (0: both)
LOOPBACK = ("127.0.0.1", "::1")
ROOT = ("root", "0")  # uid 0 by its name, or by its number where the image has no passwd entry


def _permissions(mode: int) -> str:
    return "".join(
        flag if mode & bit else "-"
        for flag, bit in zip("rwxrwxrwx", (0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1), strict=True)
    )


def _granted(bits: int) -> str:
    """Permission bits in words: "group read, others read"."""
    words = []
    for who, shift in (("owner", 6), ("group", 3), ("others", 0)):
        for what, bit in (("read", 4), ("write", 2), ("execute", 1)):
            if bits & (bit << shift):
                words.append(f"{who} {what}")
    return ", ".join(words)


def processes_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """Every declared service has a process running, and each of its processes runs as a declared user."""
    problems, seen = [], []
    for name, host in hosts.items():
        for service, declared in host.processes.items():
            mine = [process for process in observed[name].processes if process.service == service]
            if not mine:
                problems.append(f"{name}: no process of {service} runs (none matches /{declared.command}/)")
                continue
            users = sorted({process.user for process in mine})
            count = f"{len(mine)} process" + ("es" if len(mine) > 1 else "")
            seen.append(f"{name}: {service} as {', '.join(users)} ({count})")
            for process in mine:
                if declared.users and process.user not in declared.users:
                    problems.append(
                        f"{name}: {service} pid {process.pid} runs as {process.user}, declared to run as "
                        f"{', '.join(declared.users)} only: {process.args[:120]}"
                    )
                elif not declared.users and process.user in ROOT:
                    problems.append(
                        f"{name}: {service} pid {process.pid} runs as root, declared to run as any user but root: "
                        f"{process.args[:120]}"
                    )
    return Check.judged(
        "services run as their declared users",
        "every declared service's processes run as its declared users only",
        "; ".join(seen) or "no service declared",
        problems,
    )


def files_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """Every declared file exists, with no permission beyond its declared mode, owned as declared."""
    problems, seen = [], []
    for name, host in hosts.items():
        for state in observed[name].files:
            declared = host.files[state.path]
            where = f"{name}: {state.path}"
            if not state.exists or state.mode is None:
                problems.append(f"{where}: no such file")
                continue
            seen.append(f"{where} {state.mode:04o} {state.owner}")
            extra = state.mode & 0o777 & ~declared.max_mode
            if extra:
                problems.append(
                    f"{where}: mode {state.mode:04o} ({_permissions(state.mode)}), expected at most "
                    f"{declared.max_mode:04o} ({_permissions(declared.max_mode)}): {_granted(extra)} beyond it"
                )
            if declared.owner is not None and state.owner != declared.owner:
                problems.append(f"{where}: owned by {state.owner}, expected {declared.owner}")
    return Check.judged(
        "files no more open than declared",
        "every declared file at most its mode, owned as declared",
        "; ".join(seen) or "no file declared",
        problems,
    )


def secret_copies_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """No file others may read in a declared folder holds a secret of the profile."""
    problems, seen = [], []
    for name, host in hosts.items():
        if not host.no_secrets_in:
            continue
        found = observed[name]
        seen.append(f"{name}: {found.searched} files others may read in {', '.join(host.no_secrets_in)}")
        problems += [
            f"{name}: {copy.path} (mode {copy.mode:04o}, {_granted(copy.mode & 0o077)}) holds a secret of the profile"
            for copy in found.secret_copies
        ]
    return Check.judged(
        "no secret copied where others can read it",
        "no file others may read in the declared folders holds a secret",
        "; ".join(seen) or "no folder declared",
        problems,
    )


def _covers(allowed: str, address: str) -> bool:
    """Whether a declared address admits a listening one: the same, a wildcard of its family for a
    declared wildcard, or the other loopback for a declared loopback (both stay on the host)."""
    if allowed == address:
        return True
    if allowed in EVERY_ADDRESS:
        family = EVERY_ADDRESS[allowed]
        return family == 0 or (family == 6) == (":" in address)
    return allowed in LOOPBACK and address in LOOPBACK


def listens_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """Every declared port listens on each declared address and on no other."""
    problems, seen = [], []
    for name, host in hosts.items():
        listeners = observed[name].listeners
        for port, allowed in host.listens.items():
            found = sorted({listener.address for listener in listeners if listener.port == port})
            seen.append(f"{name}: port {port} on {', '.join(found) or 'nothing'}")
            if not found:
                problems.append(f"{name}: nothing listens on port {port}, declared on {', '.join(allowed)}")
                continue
            for address in found:
                if not any(_covers(declared, address) for declared in allowed):
                    every = " (every address of the host)" if address in EVERY_ADDRESS else ""
                    problems.append(
                        f"{name}: port {port} listens on {address}{every}, declared only on {', '.join(allowed)}"
                    )
            for declared in allowed:
                if declared not in EVERY_ADDRESS and not any(_covers(declared, address) for address in found):
                    problems.append(f"{name}: port {port} does not listen on {declared}, listens on {', '.join(found)}")
    return Check.judged(
        "ports listen only where declared",
        "every declared port on its declared addresses and no other",
        "; ".join(seen) or "no port declared",
        problems,
    )


def config_check(observed: Mapping[str, HostObservation]) -> Check:
    """Every declared configuration test exits 0."""
    problems, seen = [], []
    for name, observation in observed.items():
        for result in observation.commands:
            seen.append(f"{name}: `{result.command}` exit {result.rc}")
            if result.rc != 0:
                last = result.output.splitlines()[-1] if result.output else "no output"
                problems.append(f"{name}: `{result.command}` exited {result.rc}: {last}")
    return Check.judged(
        "configuration tests pass",
        "every declared configuration test exits 0",
        "; ".join(seen) or "no configuration test declared",
        problems,
    )


def packages_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """Every declared package is installed at its declared lowest version or above (Debian's order)."""
    problems, seen = [], []
    for name, host in hosts.items():
        for state in observed[name].packages:
            floor = host.packages[state.name]
            if not state.installed or state.version is None:
                problems.append(f"{name}: {state.name} is not installed, declared at least {floor}")
                continue
            seen.append(f"{name}: {state.name} {state.version}")
            if not at_least(state.version, floor):
                problems.append(f"{name}: {state.name} {state.version} is below the declared {floor}")
    return Check.judged(
        "packages at least their declared versions",
        "every declared package installed at its lowest version or above",
        "; ".join(seen) or "no package declared",
        problems,
    )


def sysctls_check(hosts: Mapping[str, Host], observed: Mapping[str, HostObservation]) -> Check:
    """Every declared kernel setting has its declared value."""
    problems, seen = [], []
    for name, host in hosts.items():
        for state in observed[name].sysctls:
            declared = host.sysctls[state.name]
            if state.value is None:
                problems.append(f"{name}: the kernel has no setting {state.name} there, declared {declared}")
                continue
            seen.append(f"{name}: {state.name} = {state.value}")
            if str(state.value).split() != str(declared).split():
                problems.append(f"{name}: {state.name} is {state.value}, declared {declared}")
    return Check.judged(
        "kernel settings as declared",
        "every declared kernel setting at its declared value",
        "; ".join(seen) or "no kernel setting declared",
        problems,
    )

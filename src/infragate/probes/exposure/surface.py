"""What the scan from outside found, and its judgement: every port that answered must be declared
exposed. A scan that did not try every port within its bound is could not verify, never a pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from infragate.profile.host_promises import Exposure
from infragate.verdicts import Check


@dataclass(frozen=True)
class Answer:
    """A port that accepted a connection from outside: what it said first (if anything within a
    moment) and which of this machine's processes listens there."""

    port: int
    banner: str = ""
    listener: str = ""

    def describe(self) -> str:
        """`5432 (postgres pid 812)`, with the banner when there was one."""
        said = [part for part in (self.listener, f"says {self.banner!r}" if self.banner else "") if part]
        return f"{self.port}" + (f" ({'; '.join(said)})" if said else "")


@dataclass(frozen=True)
class ScanResult:
    """One scan of the machine's end of the link: how many ports were tried and what answered."""

    address: str
    namespace: str  # where the scan came from (removed after it)
    scanned: int
    answered: tuple[Answer, ...]
    refused: int
    silent: int  # neither accepted nor refused within the connect timeout (a firewall drops them)
    elapsed_s: float


def ranges(ports: Iterable[int]) -> str:
    """Ports as compact text: 1-1024,8080."""
    parts: list[str] = []
    ordered = sorted(set(ports))
    start = previous = ordered[0] if ordered else 0
    for port in [*ordered[1:], None]:
        if port is not None and port == previous + 1:
            previous = port
            continue
        parts.append(f"{start}" if start == previous else f"{start}-{previous}")
        if port is not None:
            start = previous = port
    return ",".join(parts) if ordered else ""


def listeners(ss_output: str) -> Mapping[int, str]:
    """Port -> the processes listening on it, from `ss -Hltnp` lines."""
    found: dict[int, set[str]] = {}
    for line in ss_output.splitlines():
        words = line.split()
        if len(words) < 5 or ":" not in words[3]:
            continue
        port = words[3].rpartition(":")[2]
        if not port.isdigit():
            continue
        users = line.partition("users:((")[2]
        for program in users.split("),("):
            fields = program.strip("()").split(",")
            name = fields[0].strip('"')
            pid = next((field.partition("=")[2] for field in fields if field.startswith("pid=")), "")
            if name:
                found.setdefault(int(port), set()).add(f"{name} pid {pid}" if pid else name)
    return {port: ", ".join(sorted(names)) for port, names in found.items()}


def exposure_check(exposure: Exposure, result: ScanResult) -> Check:
    """Every port that answered from outside is declared exposed."""
    allowed = set(exposure.exposed)
    problems = [
        f"port {answer.describe()} answers from outside, not declared exposed (declared: {ranges(allowed) or 'none'})"
        for answer in result.answered
        if answer.port not in allowed
    ]
    answering = ", ".join(answer.describe() for answer in result.answered) or "none"
    quiet = sorted(allowed - {answer.port for answer in result.answered})
    observed = (
        f"{result.scanned} ports of {result.address} tried in {result.elapsed_s:.1f} s from a namespace outside: "
        f"answering {answering}; {result.refused} refused, {result.silent} silent"
        + (f"; declared but not answering: {ranges(quiet)}" if quiet else "")
    )
    return Check.judged(
        "only declared ports answer from outside",
        f"no port but {ranges(allowed) or 'none'} answers",
        observed,
        problems,
    )

"""The scan itself: run inside the outside namespace (`ip netns exec NS python -m
infragate.probes.exposure.knock ...`), it tries a TCP connection to each port, a bounded number at a
time and within a bound for the whole scan, keeps what an accepting port says first, and prints
one JSON document. `scan` starts it there and reads its answer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time

from infragate.errors import ProbeError
from infragate.probes.exposure.outside import Outside
from infragate.probes.exposure.surface import Answer, ScanResult, listeners, ranges
from infragate.profile.host_promises import Exposure, parse_ports

CONCURRENCY = 256
BANNER_WAIT_S = 0.3
BANNER_BYTES = 80
GRACE_S = 15.0  # for the interpreter to start in the namespace and the answer to come back


async def _try(address: str, port: int, timeout: float, gate: asyncio.Semaphore) -> tuple[int, str, str]:
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
        except ConnectionRefusedError:
            return port, "refused", ""
        except (TimeoutError, OSError):
            return port, "silent", ""
        try:
            said = await asyncio.wait_for(reader.read(BANNER_BYTES), BANNER_WAIT_S)
        except (TimeoutError, OSError):
            said = b""
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        text = "".join(char if char.isprintable() else " " for char in said.decode("ascii", "replace"))
        return port, "answered", text.strip()


async def _scan(address: str, ports: list[int], timeout: float, within: float) -> dict[str, object]:
    gate = asyncio.Semaphore(CONCURRENCY)
    started = time.monotonic()
    tasks = [asyncio.ensure_future(_try(address, port, timeout, gate)) for port in ports]
    done, pending = await asyncio.wait(tasks, timeout=within)
    for task in pending:
        task.cancel()
    outcomes = [task.result() for task in done if not task.cancelled() and task.exception() is None]
    return {
        "answered": sorted([port, said] for port, outcome, said in outcomes if outcome == "answered"),
        "refused": sum(1 for _, outcome, _ in outcomes if outcome == "refused"),
        "silent": sum(1 for _, outcome, _ in outcomes if outcome == "silent"),
        "unfinished": len(ports) - len(outcomes),
        "elapsed_s": round(time.monotonic() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="try every port of an address; print one JSON document")
    parser.add_argument("--address", required=True)
    parser.add_argument("--ports", required=True, help="numbers and FIRST-LAST ranges, comma-separated")
    parser.add_argument("--connect-timeout", type=float, required=True)
    parser.add_argument("--within", type=float, required=True)
    args = parser.parse_args(argv)
    ports = parse_ports(args.ports)
    assert isinstance(ports, list)
    print(json.dumps(asyncio.run(_scan(args.address, ports, args.connect_timeout, args.within))))
    return 0


def scan(where: Outside, exposure: Exposure) -> ScanResult:
    """Scan the machine's end of the link from inside the namespace, and name what listens on each
    port that answered; ProbeError when the scan could not run or did not finish within its bound."""
    ports = exposure.scanned
    command = [
        "ip", "netns", "exec", where.namespace, sys.executable, "-m", "infragate.probes.exposure.knock",
        "--address", where.host_address, "--ports", ranges(ports),
        "--connect-timeout", str(exposure.connect_timeout), "--within", str(exposure.within),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=exposure.within + GRACE_S, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError(
            f"the scan from {where.namespace} did not end within {exposure.within + GRACE_S:g} s"
        ) from None
    try:
        found = json.loads(done.stdout)
    except ValueError:
        tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ProbeError(f"the scan from {where.namespace} gave no answer: {tail}") from None
    if found["unfinished"]:
        raise ProbeError(
            f"the scan did not finish within {exposure.within:g} s: {found['unfinished']} of {len(ports)} ports "
            "were not tried (declare a longer exposure.within or fewer ports)"
        )
    try:  # who listens: only a help to read the failure, so without `ss` the ports stand alone
        owners = listeners(subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=False).stdout)
    except OSError:
        owners = {}
    answered = tuple(Answer(port, said, owners.get(port, "")) for port, said in found["answered"])
    return ScanResult(
        where.host_address,
        where.namespace,
        len(ports),
        answered,
        found["refused"],
        found["silent"],
        found["elapsed_s"],
    )


if __name__ == "__main__":
    sys.exit(main())

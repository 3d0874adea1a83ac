"""The local sandbox's programs under one supervisord: their sections, launching supervisord,
waiting until they run, and stopping every process of the sandbox (verified from /proc)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infragate.errors import ProbeError, SandboxError
from infragate.platforms.supervisor import SupervisorClient
from infragate.retry import poll_until, retry
from infragate.sandbox.host import alive, sandbox_processes
from infragate.sandbox.spec import SandboxSpec

READY_TIMEOUT_S = 60.0


def program(name: str, command: str, directory: Path, **options: str) -> str:
    """A supervisord program section; options override the defaults."""
    settings = {
        "command": command,
        "autorestart": "true",
        "startsecs": "1",
        "startretries": "5",
        "stopasgroup": "true",
        "killasgroup": "true",
        "stopwaitsecs": "10",
        "stdout_logfile": f"{directory}/logs/{name}.log",
        "stderr_logfile": "NONE",
        "redirect_stderr": "true",
        "stdout_logfile_maxbytes": "5MB",
        "stdout_logfile_backups": "0",
    } | options
    return "\n".join([f"[program:{name}]", *(f"{key}={value}" for key, value in settings.items())]) + "\n"


def replica_program(spec: SandboxSpec, directory: Path, replica: str, port: int, admin: int | None = None) -> str:
    """The supervisor program of one backend replica (with its admin console, where it has one)."""
    faults = "".join(f" --fault {fault}" for fault in sorted(spec.replica_faults.get(replica, ())))
    if admin is not None:
        faults += f" --admin {spec.admin_address}:{admin}"
    return program(
        replica,
        f"{sys.executable} -m infragate.sandbox.backend --name {replica} --port {port} --sandbox {directory}{faults}",
        directory,
        autostart="false" if replica in spec.stopped_replicas else "true",
        autorestart="true" if spec.autorestart else "false",
        stopsignal="TERM",
    )


def log_tail(directory: Path, program: str) -> str:
    """The last line a program logged (what a failed start says about itself)."""
    try:
        lines = (directory / "logs" / f"{program}.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "empty log"


def wait_running(supervisor: SupervisorClient, expected: set[str], directory: Path) -> None:
    """Wait until every expected program runs; a program that gave up (FATAL) fails at once, with its log."""

    def states() -> dict[str, str]:
        found = {info.name: info.state for info in supervisor.processes()}
        fatal = sorted(name for name in expected if found.get(name) == "FATAL")
        if fatal:
            reasons = "; ".join(f"{name}: {log_tail(directory, name)}" for name in fatal)
            raise SandboxError(f"programs failed to start ({reasons})")
        return found

    polled = poll_until(
        states, lambda found: all(found.get(name) == "RUNNING" for name in expected), READY_TIMEOUT_S, 0.2
    )
    if not polled.met:
        missing = sorted(name for name in expected if polled.value.get(name) != "RUNNING")
        raise SandboxError(
            f"sandbox did not become ready in {READY_TIMEOUT_S:g} s: not running yet: {', '.join(missing)}"
        )


def launch_supervisor(name: str, directory: Path) -> tuple[SupervisorClient, int]:
    """Write supervisord's configuration (it includes every file in programs/), start it, wait until it answers."""
    socket_path = directory / "supervisor.sock"
    url = f"unix://{socket_path}"
    conf = directory / "supervisord.conf"
    conf.write_text(
        f"[unix_http_server]\nfile={socket_path}\nchmod=0700\n\n"
        f"[supervisord]\nlogfile={directory}/logs/supervisord.log\npidfile={directory}/supervisord.pid\n"
        f"childlogdir={directory}/logs\nlogfile_maxbytes=5MB\nlogfile_backups=0\nloglevel=info\n"
        f"identifier=infragate-{name}\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl={url}\n\n"
        f"[include]\nfiles = {directory}/programs/*.conf\n"
    )
    launched = subprocess.run(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    if launched.returncode != 0:
        raise SandboxError(f"supervisord did not start: {launched.stderr.strip() or launched.stdout.strip()}")
    supervisor = SupervisorClient(url)
    return supervisor, retry(supervisor.pid, timeout=15, interval=0.1, name="supervisord answers")


@dataclass(frozen=True)
class DownReport:
    """What `down` did, and whether it verified that nothing is left."""

    name: str
    stopped: bool
    left_running: tuple[int, ...]
    killed: tuple[int, ...]


def find_leader(directory: Path) -> int | None:
    """supervisord's pid from its pid file, or, if it was interrupted before writing one, from its command line."""
    try:
        return int((directory / "supervisord.pid").read_text().strip())
    except (OSError, ValueError):
        pass
    marker = f"{directory}/supervisord.conf".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def stop(directory: Path, linger_s: float = 20.0) -> DownReport:
    """Stop supervisord and its programs, kill whatever of the sandbox outlives that by ``linger_s``
    seconds, and say what was left."""
    leader = find_leader(directory)
    if leader is None:
        return DownReport(directory.name, False, (), ())
    if alive(leader) and os.getsid(leader) == leader:
        supervisor = SupervisorClient(f"unix://{directory / 'supervisor.sock'}")
        live = ("STARTING", "RUNNING", "STOPPING")
        with contextlib.suppress(ProbeError):
            supervisor.stop_all()
            poll_until(supervisor.processes, lambda found: all(info.state not in live for info in found), 15, 0.05)
        os.kill(leader, signal.SIGTERM)  # shuts supervisord down at once (the RPC waits for its next tick)
        poll_until(lambda: sandbox_processes(leader), lambda left: not left, linger_s, 0.1)
    killed = tuple(sandbox_processes(leader))
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    poll_until(lambda: sandbox_processes(leader), lambda left: not left, 5, 0.05)
    return DownReport(directory.name, True, tuple(sandbox_processes(leader)), killed)

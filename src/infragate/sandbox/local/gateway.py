"""The local reference deployment's gateway, of either kind: nginx (the default) or HAProxy.

Both render from the same spec; this module picks the renderer, checks the configuration with the
gateway's own parser before it is used, and knows how each reloads (nginx on HUP; HAProxy, run
as master and worker, on USR2, handing its listening sockets to the new worker).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from infragate.errors import SandboxError
from infragate.sandbox import binaries
from infragate.sandbox.local import haproxy_conf, nginx_conf
from infragate.sandbox.local.nginx_conf import GatewayLayout
from infragate.sandbox.local.state import SERVICE
from infragate.sandbox.spec import GATEWAY_KINDS, SandboxSpec

RELOAD_SIGNAL = {"nginx": "HUP", "haproxy": "USR2"}
CONF_NAME = {"nginx": "nginx.conf", "haproxy": "haproxy.cfg"}


def conf_path(directory: Path, spec: SandboxSpec) -> Path:
    """The gateway's configuration file."""
    return folder(directory, spec) / CONF_NAME[spec.gateway]


def folder(directory: Path, spec: SandboxSpec) -> Path:
    """Where the gateway of this kind keeps its configuration, logs and temporary files."""
    return directory / spec.gateway


def write_conf(
    directory: Path,
    spec: SandboxSpec,
    https_port: int,
    http_port: int,
    upstream: Mapping[str, int | str],
    pki: Path | None = None,
    status_port: int | None = None,
) -> Path:
    """Render the gateway's configuration for the replicas given (a static upstream keeps the first ones)."""
    if spec.gateway not in GATEWAY_KINDS:
        raise SandboxError(f"unknown gateway kind '{spec.gateway}' (expected one of {', '.join(GATEWAY_KINDS)})")
    if spec.static_upstream:
        upstream = {name: port for name, port in upstream.items() if name in spec.replica_names(SERVICE)}
    pki = pki or directory / "pki"
    layout = GatewayLayout(
        folder(directory, spec), https_port, http_port, pki / "server.pem", pki / "server.key", status_port
    )
    if spec.gateway == "haproxy":
        bundle = layout.prefix / haproxy_conf.BUNDLE
        bundle.write_text(layout.certificate.read_text() + layout.key.read_text())
        bundle.chmod(0o600)
    renderer = haproxy_conf if spec.gateway == "haproxy" else nginx_conf
    conf = conf_path(directory, spec)
    conf.write_text(renderer.render(spec, layout, upstream))
    return conf


def check_command(directory: Path, spec: SandboxSpec, conf: Path) -> list[str]:
    """The gateway's own parser on a configuration file (exit 0: it would load)."""
    program = str(binaries.find(spec.gateway))
    if spec.gateway == "haproxy":
        return [program, "-c", "-q", "-f", str(conf)]
    return [program, "-t", "-q", "-p", str(folder(directory, spec)), "-c", str(conf)]


def drift(directory: Path, spec: SandboxSpec) -> None:
    """Edit the configuration on disk into one the gateway's parser refuses (what a hand edit after
    the last reload leaves: the running gateway serves on, its next reload or restart fails)."""
    with conf_path(directory, spec).open("a") as conf:
        conf.write("\nunknown_directive on;\n")


def command(directory: Path, spec: SandboxSpec, conf: Path) -> str:
    """The gateway's foreground command, once its own parser accepted the configuration."""
    program = binaries.find(spec.gateway)
    prefix = folder(directory, spec)
    if spec.gateway == "haproxy":
        run = f"{program} -W -db -f {conf}"
    else:
        run = f'{program} -p {prefix} -c {conf} -g "daemon off;"'
    check = check_command(directory, spec, conf)
    test = subprocess.run(check, capture_output=True, text=True, check=False)
    if test.returncode != 0:
        raise SandboxError(f"generated {spec.gateway} configuration is invalid: {(test.stdout + test.stderr).strip()}")
    return run

"""Package floors and kernel settings: Debian's version order (against dpkg itself where it is
installed), their judgements, and their validation in a profile."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from infragate.errors import ProfileError
from infragate.probes.hosts import hardening as checks
from infragate.probes.hosts.inventory import HostObservation, PackageState, SysctlState
from infragate.probes.hosts.versions import at_least, compare, version_key
from infragate.profile import parse_profile
from infragate.profile.host_promises import Host
from tests.unit.test_profile import VALID

HOST = Host.model_validate(
    {
        "spec": "docker://api-1",
        "packages": {"libssl3": "3.0.18", "ca-certificates": "20230311"},
        "sysctls": {"net.ipv4.tcp_syncookies": 1, "net.ipv4.ip_local_port_range": "32768 60999"},
    }
)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("3.0.17-1~deb12u2", "3.0.18"),  # the floor names upstream only: any Debian revision of 3.0.18 meets it
        ("3.0.18", "3.0.18-1~deb12u1"),
        ("3.0.18~rc1", "3.0.18"),  # a release candidate comes before its release
        ("3.0.9", "3.0.10"),  # numbers, not text
        ("1.22.1-9", "1:1.0"),  # an epoch outweighs everything after it
        ("2.4a", "2.4.1"),  # a letter sorts before any other character
        ("7.0.15-1~deb12u1", "7.0.15-1"),
    ],
)
def test_versions_order_as_debian_orders_them(lower: str, higher: str) -> None:
    assert compare(lower, higher) == -1 and compare(higher, lower) == 1
    assert at_least(higher, lower) and not at_least(lower, higher)
    assert sorted([higher, lower], key=version_key) == [lower, higher]


def test_equal_versions_compare_equal() -> None:
    assert compare("0:3.0.18-1", "3.0.18-1") == 0 and at_least("3.0.18", "3.0.18")


_PART = st.sampled_from(["0", "1", "2", "9", "10", "18", "a", "b", "~", "~rc1", "+deb12u1", ".", "~deb12u2"])
_VERSION = st.builds(
    lambda epoch, upstream, revision: f"{epoch}{upstream}{revision}",
    st.sampled_from(["", "1:", "2:"]),
    st.lists(_PART, min_size=1, max_size=5).map(lambda parts: "1" + "".join(parts)),
    st.sampled_from(["", "-1", "-1~deb12u2", "-2", "-1+b1"]),
)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg, the independent oracle, is not installed")
@settings(max_examples=150, deadline=None)
@given(_VERSION, _VERSION)
def test_the_order_is_dpkgs_own(left: str, right: str) -> None:
    # dpkg --compare-versions is the reference implementation of the order; no code of ours in it.
    below = subprocess.run(["dpkg", "--compare-versions", left, "lt", right], check=False).returncode == 0
    equal = subprocess.run(["dpkg", "--compare-versions", left, "eq", right], check=False).returncode == 0
    assert compare(left, right) == (-1 if below else 0 if equal else 1), (left, right)


def _seen(packages: tuple[PackageState, ...] = (), sysctls: tuple[SysctlState, ...] = ()) -> HostObservation:
    return HostObservation("api", "docker://api-1", (), (), (), (), packages=packages, sysctls=sysctls)


def test_a_package_below_its_floor_or_missing_is_named() -> None:
    fine = (PackageState("libssl3", True, "3.0.20-1~deb12u2"), PackageState("ca-certificates", True, "20230311"))
    assert checks.packages_check({"api": HOST}, {"api": _seen(fine)}).met
    stale = (PackageState("libssl3", True, "3.0.17-1~deb12u2"), PackageState("ca-certificates", False))
    found = checks.packages_check({"api": HOST}, {"api": _seen(stale)})
    assert found.problems == (
        "api: libssl3 3.0.17-1~deb12u2 is below the declared 3.0.18",
        "api: ca-certificates is not installed, declared at least 20230311",
    )


def test_a_kernel_setting_off_its_value_or_missing_is_named() -> None:
    fine = (SysctlState("net.ipv4.tcp_syncookies", 1), SysctlState("net.ipv4.ip_local_port_range", "32768\t60999"))
    assert checks.sysctls_check({"api": HOST}, {"api": _seen(sysctls=fine)}).met
    off = (SysctlState("net.ipv4.tcp_syncookies", 0), SysctlState("net.ipv4.ip_local_port_range", None))
    found = checks.sysctls_check({"api": HOST}, {"api": _seen(sysctls=off)})
    assert found.problems == (
        "api: net.ipv4.tcp_syncookies is 0, declared 1",
        "api: the kernel has no setting net.ipv4.ip_local_port_range there, declared 32768 60999",
    )


@pytest.mark.parametrize(
    ("host", "says"),
    [
        ({"spec": "local://", "packages": {"nginx": 1.20}}, "expected each version quoted, e.g. '1.20'"),
        ({"spec": "local://", "packages": {"nginx": "1.22 or so"}}, "expected a version such as 3.0.18"),
        ({"spec": "local://", "sysctls": {"syncookies": 1}}, "expected kernel setting names"),
        ({"spec": "local://", "sysctls": {"net.ipv4.tcp_syncookies": [1]}}, "hosts.edge.sysctls"),
    ],
)
def test_a_bad_package_or_kernel_setting_is_one_line_naming_file_and_key(host: dict[str, object], says: str) -> None:
    text = yaml.safe_dump({**VALID, "hosts": {"edge": host}}, sort_keys=False)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, file="shop.yaml", environ={})
    message = str(caught.value)
    assert message.startswith("shop.yaml:") and "\n" not in message and says in message, message

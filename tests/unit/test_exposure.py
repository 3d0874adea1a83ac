"""The outside scan's judgement, its port lists and the reading of who listens, without a namespace."""

from __future__ import annotations

import pytest
import yaml

from infragate.errors import ProfileError
from infragate.probes.exposure.surface import Answer, ScanResult, exposure_check, listeners, ranges
from infragate.profile import parse_profile
from infragate.profile.host_promises import Exposure
from tests.unit.test_profile import VALID

SS = """LISTEN 0 244 0.0.0.0:5432 0.0.0.0:* users:(("postgres",pid=812,fd=6))
LISTEN 0 511 127.0.0.1:8443 0.0.0.0:* users:(("nginx",pid=901,fd=7),("nginx",pid=900,fd=7))
LISTEN 0 4096 [::]:9100 [::]:*
LISTEN 0 128 *:6379 *:* users:(("redis-server",pid=77,fd=6))"""


def _result(*answered: Answer) -> ScanResult:
    return ScanResult("169.254.213.1", "igscan-1", 1000, answered, 1000 - len(answered), 0, 1.5)


def test_an_answering_port_not_declared_exposed_is_named_with_what_listens_there() -> None:
    exposure = Exposure.model_validate({"exposed": [443, 80], "ports": "1-1000"})
    fine = exposure_check(exposure, _result(Answer(443, "", "nginx pid 900")))
    assert fine.met and "declared but not answering: 80" in fine.observed
    found = exposure_check(exposure, _result(Answer(443), Answer(22, "SSH-2.0-OpenSSH_9.2", "sshd pid 3")))
    assert found.problems == (
        "port 22 (sshd pid 3; says 'SSH-2.0-OpenSSH_9.2') answers from outside, not declared exposed "
        "(declared: 80,443)",
    )
    assert "1000 ports of 169.254.213.1" in found.observed and "answering 443, 22" in found.observed


def test_ports_are_numbers_and_ranges_and_compact_back() -> None:
    assert Exposure.model_validate({"exposed": [], "ports": [22, "8000-8002", "80"]}).scanned == [
        22, 80, 8000, 8001, 8002,
    ]  # fmt: skip
    assert len(Exposure.model_validate({"exposed": []}).scanned) == 65535
    assert ranges([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    assert ranges([]) == ""


def test_listeners_are_read_from_ss() -> None:
    assert listeners(SS) == {
        5432: "postgres pid 812",
        8443: "nginx pid 900, nginx pid 901",
        6379: "redis-server pid 77",
    }


@pytest.mark.parametrize(
    ("exposure", "says"),
    [
        ({"exposed": [70000]}, "expected a port 1-65535"),
        ({"exposed": [], "ports": "10-1"}, "expected a port 1-65535 or a range"),
        ({"exposed": [], "ports": {"a": 1}}, "expected ports as a list"),
        ({"exposed": [], "within": "0s"}, "exposure.within"),
        ({"exposed": [True]}, "expected a port"),
    ],
)
def test_a_bad_exposure_section_is_one_line_naming_file_and_key(exposure: dict[str, object], says: str) -> None:
    text = yaml.safe_dump({**VALID, "exposure": exposure}, sort_keys=False)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, file="shop.yaml", environ={})
    message = str(caught.value)
    assert message.startswith("shop.yaml:") and "\n" not in message and says in message, message

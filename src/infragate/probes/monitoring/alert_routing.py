"""Where Alertmanager sends an alert: its routing tree walked for a set of labels, as Alertmanager
walks it (children in order, the first match unless ``continue``, settings inherited from the
parent), from the configuration it reports. Pure, unit-tested, and compared with amtool's answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infragate.quantities import parse_duration

DEFAULT_GROUP_WAIT_S = 30.0  # Alertmanager's default for the root route
_MATCHER = re.compile(r"""^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$""")


@dataclass(frozen=True)
class Delivery:
    """A receiver an alert reaches, and the route settings that decide how soon."""

    receiver: str
    group_wait_s: float
    path: tuple[int, ...]  # the route's place in the tree: indexes of the children taken


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return bytes(value[1:-1], "utf-8").decode("unicode_escape")
    return value


def _matches(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for name, value in (route.get("match") or {}).items():
        if labels.get(str(name), "") != str(value):
            return False
    for name, pattern in (route.get("match_re") or {}).items():
        if not re.fullmatch(str(pattern), labels.get(str(name), "")):
            return False
    for text in route.get("matchers") or []:
        found = _MATCHER.match(str(text))
        if found is None:
            raise ValueError(f"a route matcher Alertmanager would not read: {text!r}")
        name, operator, value = found.group(1), found.group(2), _unquote(found.group(3))
        have = labels.get(name, "")
        held = {
            "=": have == value,
            "!=": have != value,
            "=~": re.fullmatch(value, have) is not None,
            "!~": re.fullmatch(value, have) is None,
        }[operator]
        if not held:
            return False
    return True


def _wait(route: Mapping[str, Any], inherited: float) -> float:
    value = route.get("group_wait")
    return parse_duration(str(value)) if value is not None else inherited


def deliveries(config: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[Delivery, ...]:
    """The receivers an alert with these labels reaches under an Alertmanager configuration."""
    root = config.get("route")
    if not isinstance(root, Mapping) or not root.get("receiver"):
        raise ValueError("the Alertmanager configuration has no root route with a receiver")

    def walk(route: Mapping[str, Any], receiver: str, wait: float, path: tuple[int, ...]) -> list[Delivery]:
        receiver = str(route.get("receiver") or receiver)
        wait = _wait(route, wait)
        found: list[Delivery] = []
        for index, child in enumerate(route.get("routes") or []):
            if not _matches(child, labels):
                continue
            found.extend(walk(child, receiver, wait, (*path, index)))
            if not child.get("continue", False):
                break
        return found or [Delivery(receiver, wait, path)]

    return tuple(walk(root, "", _wait(root, DEFAULT_GROUP_WAIT_S), ()))


def receivers(config: Mapping[str, Any]) -> frozenset[str]:
    """The receivers an Alertmanager configuration defines."""
    return frozenset(str(entry.get("name")) for entry in config.get("receivers") or [] if isinstance(entry, Mapping))

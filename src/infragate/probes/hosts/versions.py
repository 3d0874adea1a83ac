"""Package versions in the order Debian's policy gives them (section 5.6.12, what `dpkg
--compare-versions` follows): an epoch, the upstream version, a revision after the last hyphen;
within each, runs of non-digits compared character by character (a tilde before everything, even
the end; letters before other characters) and runs of digits compared as numbers. RPM's and apk's
versions of the same upstream release order the same way for the numbers a floor names (3.0.18 is
below 3.0.18-1 and 3.0.19)."""

from __future__ import annotations

import re
from functools import cmp_to_key

_EPOCH = re.compile(r"^(\d+):(.*)$")


def _split(version: str) -> tuple[int, str, str]:
    """The epoch, the upstream version and the revision ("0" when there is none)."""
    epoch, rest = 0, version.strip()
    match = _EPOCH.match(rest)
    if match:
        epoch, rest = int(match[1]), match[2]
    upstream, hyphen, revision = rest.rpartition("-")
    if not hyphen:
        return epoch, rest, "0"
    return epoch, upstream, revision


def _weight(character: str) -> int:
    """A character's place: the end of a part 0, a tilde below it, letters first, then the rest."""
    if character == "~":
        return -1
    if character.isalpha():
        return ord(character)
    return ord(character) + 256


def _compare_text(left: str, right: str) -> int:
    for index in range(max(len(left), len(right))):
        a = _weight(left[index]) if index < len(left) else 0
        b = _weight(right[index]) if index < len(right) else 0
        if a != b:
            return -1 if a < b else 1
    return 0


def _compare_part(left: str, right: str) -> int:
    """Compare an upstream version or a revision: alternating runs of non-digits and digits."""
    while left or right:
        text_a = re.match(r"\D*", left)[0]  # type: ignore[index]  # \D* always matches
        text_b = re.match(r"\D*", right)[0]  # type: ignore[index]
        order = _compare_text(text_a, text_b)
        if order:
            return order
        left, right = left[len(text_a) :], right[len(text_b) :]
        digits_a = re.match(r"\d*", left)[0]  # type: ignore[index]
        digits_b = re.match(r"\d*", right)[0]  # type: ignore[index]
        number_a, number_b = int(digits_a or 0), int(digits_b or 0)
        if number_a != number_b:
            return -1 if number_a < number_b else 1
        left, right = left[len(digits_a) :], right[len(digits_b) :]
    return 0


def compare(left: str, right: str) -> int:
    """-1, 0 or 1 as the left version is below, equal to or above the right one."""
    epoch_a, upstream_a, revision_a = _split(left)
    epoch_b, upstream_b, revision_b = _split(right)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _compare_part(upstream_a, upstream_b) or _compare_part(revision_a, revision_b)


def at_least(version: str, floor: str) -> bool:
    """Whether a version is the floor or above it."""
    return compare(version, floor) >= 0


version_key = cmp_to_key(compare)  # for sorted(versions, key=version_key)

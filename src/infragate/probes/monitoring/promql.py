"""The metric names a PromQL expression reads, so that a rule naming a metric no target exposes (a
typo'd alert that can never fire) is found without evaluating it: pure, unit-tested.

Only names are read: a bare name (``up``), a name before a selector (``http_requests_total{...}``)
and ``{__name__="..."}``. Function and aggregation names, keywords, label names in ``by (...)``,
strings, numbers and durations are not metric names.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<duration>\[[^\]]*\]|(?<![\w:])\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![\w:]))
  | (?P<number>(?<![\w:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+|Inf|NaN)(?![\w:]))
  | (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<open>[({])
  | (?P<close>[)}])
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
# Words that may stand where a name does but are not metrics.
_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "atan2",
        "inf",
        "nan",
    }
)
_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# A name inside absent() may well be missing: the rule is there to say so.
_ABSENCE = frozenset({"absent", "absent_over_time"})
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)')""")


def metric_names(expression: str) -> frozenset[str]:
    """The metric names an expression selects (not those only asked after by absent()); a ValueError
    when its brackets do not balance."""
    tokens = [(match.lastgroup or "", match.group()) for match in _TOKEN.finditer(expression)]
    names: set[str] = set()
    depth_kinds: list[str] = []  # what each open bracket is: "call", "labels", "group" or "paren"
    calls: list[str] = []  # the function each open bracket calls ("" for other brackets)
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        inside_labels = bool(depth_kinds) and depth_kinds[-1] in ("labels", "group")
        if kind == "open":
            previous = tokens[index - 1] if index else ("", "")
            if text == "{":
                depth_kinds.append("labels")
            elif previous[0] == "name" and previous[1].lower() in _GROUPING:
                depth_kinds.append("group")
            else:
                depth_kinds.append("call" if previous[0] == "name" else "paren")
            calls.append(previous[1] if depth_kinds[-1] == "call" else "")
        elif kind == "close":
            if not depth_kinds:
                raise ValueError(f"a closing bracket without an opening one in {expression!r}")
            opened = depth_kinds.pop()
            calls.pop()
            if (opened == "labels" and text != "}") or (opened != "labels" and text != ")"):
                raise ValueError(f"mismatched brackets in {expression!r}")
        elif kind == "name" and not inside_labels and not _ABSENCE.intersection(calls):
            aggregation = following[0] == "name" and following[1].lower() in ("by", "without")
            if text.lower() in _KEYWORDS or following == ("open", "(") or aggregation:
                continue
            names.add(text)
    if depth_kinds:
        raise ValueError(f"unclosed bracket in {expression!r}")
    if "absent" not in expression:
        for match in _NAME_MATCHER.finditer(expression):
            names.add(match.group(1) if match.group(1) is not None else match.group(2))
    return frozenset(names)

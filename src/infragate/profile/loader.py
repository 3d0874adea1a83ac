"""Loading a profile file: YAML with line numbers, secret references, strict validation.

Whatever is wrong with a profile ends in one ProfileError naming the file, the key path, the line
and what was expected; never in a traceback.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from infragate.errors import ProfileError
from infragate.profile.consistency import (
    KeyPath,
    check_load,
    check_references,
    check_scratch,
    check_traffic,
    check_wal_archive,
    dotted,
)
from infragate.profile.model import Profile
from infragate.profile.secrets import REDACTOR, SecretReferenceError, expand, read_bounded_text

MAX_PROFILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # profiles nest about six deep
MAX_ALIASES = 64  # a profile may reuse an anchor; a billion laughs may not
MAX_NODES = 100_000
MAX_NUMBER = 10**15  # no count, rate or size of a profile comes near it: more digits are a typo
Model = TypeVar("Model", bound=BaseModel)


def load_profile(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Profile:
    """Read, expand and validate a profile file."""
    file = str(path)
    try:
        text = read_bounded_text(Path(path), MAX_PROFILE_BYTES)
    except ValueError as exc:
        raise ProfileError(file, "(file)", f"a readable YAML profile ({exc})") from None
    return parse_profile(text, file=file, base_dir=Path(path).resolve().parent, environ=environ)


def parse_profile(
    text: str, file: str = "<profile>", base_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> Profile:
    """Validate profile text; relative paths and secret files resolve against base_dir."""
    try:
        return _parse(text, file, base_dir, dict(os.environ if environ is None else environ))
    except ProfileError as exc:  # a value quoted back may be a secret, or hold one
        raise ProfileError(exc.file, exc.key, REDACTOR.redact(exc.expected), exc.line) from None


def _parse(text: str, file: str, base_dir: Path | None, env: dict[str, str]) -> Profile:
    data, lines = read_document(text, file, "profile")
    try:
        data = _expand_secrets(data, (), base_dir, env)
    except _KeyedError as exc:
        raise ProfileError(file, dotted(exc.key), str(exc.reason), lines.get(exc.key)) from None
    profile = validate_document(Profile, data, file, lines, {"base_dir": base_dir})
    check_references(profile, file, lines)
    check_scratch(profile, file, lines)
    check_wal_archive(profile, file, lines)
    check_load(profile, file, lines)
    check_traffic(profile, file, lines)
    return profile


def read_document(text: str, file: str, kind: str) -> tuple[Any, dict[KeyPath, int]]:
    """A YAML document of infragate's (a profile, a waivers file) as plain data, with the line of
    every key; bounded in size, depth, aliases and nodes. ProfileError naming file and line."""
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError(file, "(file)", f"a {kind} of at most {MAX_PROFILE_BYTES // 1024} KiB")
    try:
        _check_depth(text, file)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: it has no mark, only a position
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ProfileError(
            file, "(syntax)", f"text without control characters (U+{exc.character:04X} at column {column})", line
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "valid YAML"
        raise ProfileError(file, "(syntax)", f"valid YAML ({problem})", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise ProfileError(file, "(syntax)", f"YAML nested at most {MAX_DEPTH} levels deep") from None
    if not isinstance(root, yaml.MappingNode):
        raise ProfileError(
            file, "(top level)", f"a mapping of {kind} keys", 1 if root is None else root.start_mark.line + 1
        )
    lines: dict[KeyPath, int] = {}
    return _construct(root, (), lines, file, _Budget()), lines


def validate_document(
    model: type[Model], data: Any, file: str, lines: dict[KeyPath, int], context: dict[str, Any] | None = None
) -> Model:
    """The model validated from a document's data; its first problem as a ProfileError at its line."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _first_error(exc, file, lines, model) from None


_OPENS = (
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
)
_CLOSES = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)


def _check_depth(text: str, file: str) -> None:
    """Refuse deep nesting from the tokens, before PyYAML's composer recurses into it."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENS):
            depth += 1
            if depth > MAX_DEPTH + 1:
                line = token.start_mark.line + 1
                raise ProfileError(file, "(syntax)", f"YAML nested at most {MAX_DEPTH} levels deep", line)
        elif isinstance(token, _CLOSES):
            depth -= 1


class _Budget:
    """What one profile may cost to build: nodes, aliases followed, and the collections open now."""

    def __init__(self) -> None:
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()
        self.open: set[int] = set()


def _construct(node: yaml.Node, key: KeyPath, lines: dict[KeyPath, int], file: str, budget: _Budget) -> Any:
    """Plain data from a YAML node, noting the line of every key; duplicate keys are errors.

    Aliases are followed only a few times, never into themselves, and nesting is bounded: a profile
    is built in bounded time and memory whatever its YAML says."""
    line = node.start_mark.line + 1
    lines[key] = line
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        raise ProfileError(file, dotted(key) or "(top level)", f"a profile of at most {MAX_NODES} values", line)
    if len(key) > MAX_DEPTH:
        raise ProfileError(file, dotted(key[:MAX_DEPTH]), f"values nested at most {MAX_DEPTH} levels deep", line)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if id(node) in budget.open:
            raise ProfileError(
                file, dotted(key), "a value that does not contain itself (a self-referencing alias)", line
            )
        if id(node) in budget.seen:
            budget.aliases += 1
            if budget.aliases > MAX_ALIASES:
                raise ProfileError(file, dotted(key), f"at most {MAX_ALIASES} uses of YAML aliases", line)
        budget.seen.add(id(node))
        budget.open.add(id(node))
        try:
            return _collection(node, key, lines, file, budget)
        finally:
            budget.open.discard(id(node))
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        raise ProfileError(file, dotted(key), f"a valid value ({getattr(exc, 'problem', None) or exc})", line) from None
    if isinstance(value, str) and (hidden := _hidden_character(value)) is not None:
        raise ProfileError(file, dotted(key), f"text without control or direction-changing characters ({hidden})", line)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_NUMBER:
        raise ProfileError(
            file, dotted(key), f"a number below {MAX_NUMBER:.0e} (got {len(str(abs(value)))} digits)", line
        )
    return value


# Characters that would change what a terminal or a report shows around the value: an escape sequence
# (written as "\e[31m" in a double-quoted string), or a right-to-left override that shows a name
# reversed. Tabs and line breaks are text.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden_character(text: str) -> str | None:
    """The first control or bidirectional-formatting character in the text, named, or None."""
    for character in text:
        if character in "\t\n\r":
            continue
        if character in _BIDI_CONTROLS or unicodedata.category(character) == "Cc":
            return f"U+{ord(character):04X} {unicodedata.name(character, 'control character')}"
    return None


def _collection(node: yaml.Node, key: KeyPath, lines: dict[KeyPath, int], file: str, budget: _Budget) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*key, index), lines, file, budget) for index, item in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(name, str):
            raise ProfileError(file, dotted(key) or "(top level)", "string keys", key_node.start_mark.line + 1)
        if name in result:
            raise ProfileError(
                file, dotted((*key, name)), "each key once (duplicate key)", key_node.start_mark.line + 1
            )
        result[name] = _construct(value_node, (*key, name), lines, file, budget)
        lines[(*key, name)] = key_node.start_mark.line + 1
    return result


class _KeyedError(Exception):
    def __init__(self, key: KeyPath, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


def _expand_secrets(value: Any, key: KeyPath, base_dir: Path | None, env: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {name: _expand_secrets(item, (*key, name), base_dir, env) for name, item in value.items()}
    if isinstance(value, list):
        return [_expand_secrets(item, (*key, index), base_dir, env) for index, item in enumerate(value)]
    if isinstance(value, str):
        try:
            return expand(value, base_dir, env)
        except SecretReferenceError as exc:
            raise _KeyedError(key, str(exc)) from None
    return value


def _as_written(key: KeyPath, lines: dict[KeyPath, int]) -> KeyPath:
    """The key as the YAML has it: a single mapping the model took as a one-item list has no [0]."""
    for depth, part in enumerate(key):
        if part == 0 and key[:depth] in lines and (*key[:depth], 0) not in lines:
            return _as_written((*key[:depth], *key[depth + 1 :]), lines)
    return key


def _first_error(exc: ValidationError, file: str, lines: dict[KeyPath, int], root: type[BaseModel]) -> ProfileError:
    # An unknown key is most often a typo of a required one: report it first, with a suggestion.
    errors = sorted(exc.errors(include_url=False), key=lambda error: error["type"] != "extra_forbidden")
    first = errors[0]
    data_key, model = _data_key(tuple(first["loc"]), root)
    data_key = _as_written(data_key, lines)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields) if model is not None else []
        name = str(data_key[-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        expected = f"unknown key; {hint}expected one of: {', '.join(allowed)}"
        return ProfileError(file, dotted(data_key), f"{expected}{more}", lines.get(data_key))
    if kind == "missing":
        return ProfileError(
            file, dotted(data_key), f"a value (required key is missing){more}", lines.get(data_key[:-1])
        )
    if kind == "union_tag_invalid":
        context = first.get("ctx", {})
        data_key = (*data_key, str(context.get("discriminator", "kind")).strip("'"))
        message = f"one of {context.get('expected_tags')} (got {context.get('tag')!r})"
        return ProfileError(file, dotted(data_key), f"{message}{more}", lines.get(data_key))
    message = str(first["msg"]).removeprefix("Value error, ")
    if "input" in first and kind != "value_error" and not isinstance(first["input"], (dict, list)):
        message = f"{message} (got {first['input']!r})"
    line_key = data_key
    while line_key not in lines and line_key:
        line_key = line_key[:-1]
    return ProfileError(file, dotted(data_key), f"{message}{more}", lines.get(line_key))


def _data_key(loc: KeyPath, root: type[BaseModel]) -> tuple[KeyPath, type[BaseModel] | None]:
    """The key path in the data for a pydantic error location, and the model owning its last key.

    Pydantic puts discriminator tags and union member names into locations; the data has neither.
    """
    data_key: list[str | int] = []
    owner: type[BaseModel] | None = None
    pending: Any = root
    for part in loc:
        annotation = _optional_member(_unwrap(pending))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            owner = annotation
            field = annotation.model_fields.get(str(part))
            data_key.append(part)
            pending = field.annotation if field is not None else None
            continue
        origin = typing.get_origin(annotation)
        if origin in (dict, list):
            data_key.append(part)
            pending = typing.get_args(annotation)[-1]
            continue
        if origin in (typing.Union, types.UnionType):
            member = _union_member(annotation, part)
            if member is not None:
                pending = member
                continue
            data_key.append(part)
            pending = None
            continue
        data_key.append(part)
        pending = None
    return tuple(data_key), owner


def _optional_member(annotation: Any) -> Any:
    """`X | None` as X: pydantic's locations name no member for an optional section, so its keys are X's."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_member(annotation: Any, part: str | int) -> Any:
    """The member of a union that a location part names (a discriminator tag or a type name)."""
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            kind = member.model_fields.get("kind")
            tag = typing.get_args(kind.annotation) if kind is not None else ()
            if part in tag or part == member.__name__:
                return member
        elif getattr(member, "__name__", None) == part:
            return member
    return None

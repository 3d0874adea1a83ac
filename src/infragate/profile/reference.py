"""The profile reference, written from the models themselves: every section, every key, its type,
its default and its description. ``docs/profile.md`` is this text; a test keeps it so."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from infragate.profile.model import Profile
from infragate.quantities import Rate

_SCALARS = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    SecretStr: "secret text",
    Path: "path (relative to the profile)",
}
# Field types whose validators take a written quantity: what a person writes there.
_WRITTEN = {
    "Duration": "duration (30s, 5m, 6h30m, 2d)",
    "DurationOrZero": "duration (0 allowed)",
    "Share": "share (0.1%, 0.001)",
    "Memory": "memory size (128M, 1G)",
}


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type holds (through unions, lists, dicts and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models(argument)]


def _type_name(annotation: Any) -> str:
    """How a person writes a value of this type."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(arguments[0])
    if origin in (types.UnionType, typing.Union):
        members = [_type_name(argument) for argument in arguments if argument is not type(None)]
        return " or ".join(dict.fromkeys(members))
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in arguments)
    if origin in (list, tuple):
        return f"list of {_type_name(arguments[0])}"
    if origin is dict:
        return f"map of name -> {_type_name(arguments[1])}"
    if annotation is Rate:
        return "rate (100r/s, 5r/m)"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo, shown_type: str) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        return "(see section)" if _models(field.annotation) else "empty"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) or "empty"
    if shown_type.startswith("duration") and isinstance(value, float):
        return f"`{value:g}s`"
    return f"`{value}`" if value != "" else "empty"


def _written_type(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    hints = typing.get_type_hints(model, include_extras=False)
    raw = model.__annotations__.get(name, "")
    for alias, shown in _WRITTEN.items():
        if isinstance(raw, str) and (raw == alias or raw.startswith(f"{alias} ")):
            return shown
    return _type_name(hints.get(name, field.annotation))


def render_reference() -> str:
    """The reference as Markdown: one section per model, reached from Profile, in reading order."""
    seen: list[type[BaseModel]] = []
    queue: list[type[BaseModel]] = [Profile]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue += [found for found in _models(field.annotation) if found not in seen]
    parts = [
        "# Profile reference\n",
        "Generated from the profile models by `infragate profile reference`; a test keeps this file equal to",
        "its output. Every section forbids keys it does not list: a typo is an error naming file, key and",
        "line. Values written as `${env:NAME}` or `${file:PATH}` are secrets, read when the profile loads",
        "and never written to any report.\n",
    ]
    for model in seen:
        doc = (model.__doc__ or "").strip().splitlines()[0]
        parts += [
            f"## {model.__name__}\n",
            f"{doc}\n",
            "| key | type | default | meaning |",
            "| --- | --- | --- | --- |",
        ]
        for name, field in model.model_fields.items():
            meaning = (field.description or "").replace("|", "\\|")
            shown = _written_type(model, name, field)
            parts.append(f"| `{name}` | {shown} | {_default(field, shown)} | {meaning} |")
        parts.append("")
    return "\n".join(parts)

"""The profile reference in docs/ is generated from the models and cannot drift from them."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from infragate.profile.model import Profile
from infragate.profile.reference import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "profile.md"


def _every_model(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    seen.add(model)
    for field in model.model_fields.values():
        for nested in _nested(field.annotation):
            if nested not in seen:
                _every_model(nested, seen)
    return seen


def _nested(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _nested(argument)]


def test_docs_profile_md_is_the_generated_reference() -> None:
    # Regenerate with: uv run infragate profile reference > docs/profile.md
    assert DOCS.read_text() == render_reference()


def test_every_key_of_every_section_is_described_in_the_reference() -> None:
    text = render_reference()
    models = _every_model(Profile, set())
    assert len(models) >= 25
    for model in models:
        assert f"## {model.__name__}\n" in text
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"| `{name}` |" in text

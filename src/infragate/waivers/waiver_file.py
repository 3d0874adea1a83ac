"""A waivers file: YAML validated as strictly as a profile, one clear line naming file, key and line
for anything wrong, an expired waiver included (it fails the run before anything runs)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from infragate.errors import ProfileError
from infragate.profile.fields import StrictModel
from infragate.profile.loader import MAX_PROFILE_BYTES, read_document, validate_document
from infragate.profile.secrets import read_bounded_text


class Waiver(StrictModel):
    """One known deviation: which scenarios it covers, why, whose it is and until when."""

    scenario: str | None = Field(default=None, description="a scenario's name, exactly as its feature writes it")
    tag: str | None = Field(
        default=None, description="instead of a scenario: every scenario with this tag, e.g. @exposure"
    )
    reason: str = Field(min_length=1, description="why the deviation is accepted, e.g. a ticket and a plan")
    owner: str = Field(min_length=1, description="who answers for it: a person or a team, an address")
    expires: datetime.date = Field(description="the last day it holds (YYYY-MM-DD); after that the run fails")
    mode: Literal["run", "skip"] = Field(
        default="run",
        description="run: the scenario runs and a failure shows as WAIVED; skip: it does not run at all "
        "(for a scenario that would disrupt what is known broken)",
    )

    @model_validator(mode="after")
    def _one_match(self) -> Waiver:
        if (self.scenario is None) == (self.tag is None):
            raise ValueError("expected exactly one of scenario (a scenario's name) and tag (e.g. @exposure)")
        return self

    @property
    def label(self) -> str:
        """What the waiver covers, as people read it."""
        return f"scenario '{self.scenario}'" if self.scenario is not None else f"tag {self.tag}"

    @property
    def bare_tag(self) -> str | None:
        """The tag without its @, as pytest-bdd records tags."""
        return self.tag.removeprefix("@") if self.tag is not None else None


class WaiversFile(StrictModel):
    """The whole file: a list of waivers."""

    waivers: list[Waiver] = Field(description="the known deviations")


def load_waivers(path: str | os.PathLike[str], today: datetime.date | None = None) -> list[Waiver]:
    """The waivers of a file; ProfileError for a bad file or a waiver that has expired."""
    file = str(path)
    try:
        text = read_bounded_text(Path(path), MAX_PROFILE_BYTES)
    except ValueError as exc:
        raise ProfileError(file, "(file)", f"a readable YAML waivers file ({exc})") from None
    return parse_waivers(text, file, today or datetime.date.today())


def parse_waivers(text: str, file: str, today: datetime.date) -> list[Waiver]:
    """Validate waivers text; an expired waiver is an error naming its line, owner and date."""
    data, lines = read_document(text, file, "waivers file")
    waivers = validate_document(WaiversFile, data, file, lines).waivers
    for index, waiver in enumerate(waivers):
        if waiver.expires < today:
            key = ("waivers", index, "expires")
            raise ProfileError(
                file,
                f"waivers[{index}].expires",
                f"a waiver that still holds: the waiver of {waiver.label} ({waiver.owner}) expired on "
                f"{waiver.expires.isoformat()}; fix the deviation, or renew the waiver with its reason",
                lines.get(key),
            )
    return waivers

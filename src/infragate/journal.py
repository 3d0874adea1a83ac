"""The recovery journal: every disruption is written down, with its undo, before it happens.

One JSON-lines file per run under the target's journal folder. An entry is written *before* the
disruption (status "pending") and marked "undone" once its undo has run and been verified. Undo runs
at scenario teardown whatever the outcome; ``infragate recover --target FILE`` replays whatever a
killed run left pending.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infragate.errors import ProbeError


def journal_root(profile_path: Path, profile_name: str) -> Path:
    """The journal folder of one target: derived from the profile's absolute path, so recover finds it."""
    base = Path(
        os.environ.get("INFRAGATE_JOURNAL_DIR")
        or Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "infragate" / "journal"
    )
    digest = hashlib.sha256(str(profile_path.resolve()).encode()).hexdigest()[:12]
    return base / f"{profile_name}-{digest}"


@dataclass(frozen=True)
class Undo:
    """How to put the target back: an action name the platform knows, and its arguments."""

    action: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for people."""
        return f"{self.action}({', '.join(f'{k}={v}' for k, v in self.arguments.items())})"


@dataclass(frozen=True)
class Entry:
    """One disruption and its undo."""

    id: str
    disruption: str
    undo: Undo
    written_at: float
    status: str = "pending"
    detail: str = ""


class Journal:
    """Appends entries for one run; reads every run's entries of a target."""

    def __init__(self, root: Path, run_id: str | None = None) -> None:
        self.root = root
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        self.file = root / f"{self.run_id}.jsonl"

    def _append(self, entry: Entry) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(entry)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record(self, disruption: str, undo: Undo) -> Entry:
        """Write a disruption down, with its undo, before it is performed."""
        entry = Entry(uuid.uuid4().hex[:12], disruption, undo, time.time())
        self._append(entry)
        return entry

    def settle(self, entry: Entry, status: str, detail: str = "") -> None:
        """Note what became of an entry's undo ("undone" or "failed")."""
        self._append(Entry(entry.id, entry.disruption, entry.undo, time.time(), status, detail))

    def pending(self) -> list[tuple[Journal, Entry]]:
        """Entries of every run of this target whose undo has not been verified, newest first."""
        found: list[tuple[Journal, Entry]] = []
        for file in sorted(self.root.glob("*.jsonl"), reverse=True):
            latest: dict[str, Entry] = {}
            for line in file.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    raw["undo"] = Undo(**raw["undo"])
                    entry = Entry(**raw)
                except (ValueError, TypeError, KeyError):
                    continue  # a line cut short by a kill: the entry before it still stands
                latest[entry.id] = entry
            journal = Journal(self.root, file.stem)
            found += [(journal, entry) for entry in reversed(latest.values()) if entry.status != "undone"]
        return found


@dataclass(frozen=True)
class RecoveryReport:
    """What undoing left the target like."""

    undone: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def verified(self) -> bool:
        """Whether every undo ran and was verified."""
        return not self.failed


def undo_pending(journal: Journal, perform: Callable[[Undo], str], only_this_run: bool = False) -> RecoveryReport:
    """Run the undo of every pending entry (of this run, or of every run of the target); perform verifies."""
    undone, failed = [], []
    for owner, entry in journal.pending():
        if only_this_run and owner.run_id != journal.run_id:
            continue
        try:
            detail = perform(entry.undo)
        except ProbeError as exc:
            owner.settle(entry, "failed", str(exc))
            failed.append(f"{entry.disruption}: undo {entry.undo.describe()} failed: {exc}")
            continue
        owner.settle(entry, "undone", detail)
        undone.append(f"{entry.disruption}: {detail}")
    return RecoveryReport(tuple(undone), tuple(failed))

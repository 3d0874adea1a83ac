"""The recovery journal: every disruption is written down, with its undo, before it happens.

One JSON-lines file per run under the target's journal folder. An entry is written *before* the
disruption (status "pending") and marked "undone" once its undo has run and been verified. Undo runs
at scenario teardown whatever the outcome; ``infragate recover --target FILE`` replays whatever a
killed run left pending.

A run holds an exclusive lock on its journal file while it lives (the kernel drops it however the
run ends), so a recovery never undoes beside a run that is still undoing its own entries: it waits
for the lock, and says so when the wait ends first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infragate.errors import InfragateError
from infragate.recovery.stopping import STOP
from infragate.retry import poll_until
from infragate.safety import Consent


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
        self._held: int | None = None

    def hold(self) -> Journal:
        """Take this run's lock on its journal for as long as the process lives (or until release)."""
        if self._held is None:
            self.root.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._held = descriptor
        return self

    def release(self) -> None:
        """Let go of the lock; a journal in which nothing was written goes with it."""
        if self._held is not None:
            if os.fstat(self._held).st_size == 0:
                self.file.unlink(missing_ok=True)
            os.close(self._held)
            self._held = None

    def wait_for_owner(self, timeout_s: float) -> bool:
        """Take the lock of a run that may still live, waiting up to timeout_s; False when it is still held."""
        descriptor = os.open(self.file, os.O_RDWR | os.O_APPEND)

        def locked() -> bool:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        if not poll_until(locked, bool, timeout_s, 0.2).met:
            os.close(descriptor)
            return False
        self._held = descriptor
        return True

    def _append(self, entry: Entry) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(entry)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def record(self, disruption: str, undo: Undo, consent: Consent | None = None) -> Entry:
        """Write a disruption down, with its undo, before it is performed.

        Refused, with nothing written, once the run was asked to stop, and for a disruption of the
        target (``consent`` given: the platform's) that the safety policy does not allow: a refused
        disruption leaves no entry, so no undo runs for it and the target is not touched at all."""
        STOP.refuse_new_work(disruption)
        if consent is not None:
            consent.require_destructive(disruption)
        entry = Entry(uuid.uuid4().hex[:12], disruption, undo, time.time())
        self._append(entry)
        return entry

    def settle(self, entry: Entry, status: str, detail: str = "") -> None:
        """Note what became of an entry's undo: "undoing" when it begins, then "undone" or "failed"."""
        self._append(Entry(entry.id, entry.disruption, entry.undo, time.time(), status, detail))

    def pending_ids(self) -> frozenset[str]:
        """The ids of this run's entries still pending."""
        return frozenset(entry.id for owner, entry in self.pending() if owner.run_id == self.run_id)

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


OWNER_WAIT_S = 150.0  # longer than a run's own undo may take (a restore waits up to 90 s)


def undo_pending(
    journal: Journal,
    perform: Callable[[Undo], str],
    only_this_run: bool = False,
    owner_wait_s: float = OWNER_WAIT_S,
    skip: frozenset[str] = frozenset(),
) -> RecoveryReport:
    """Run the undo of every pending entry (of this run, or of every run of the target); perform verifies.

    Another run's entries are undone only once that run's lock is ours: a run still alive (undoing
    its own entries after a signal) is waited for, and its entries are re-read once it has gone.
    Entries whose ids are in `skip` are left alone (a scenario undoes what it did, not what an
    earlier scenario failed to undo)."""
    undone: list[str] = []
    failed: list[str] = []
    locked: dict[str, Journal] = {}
    try:
        for owner, entry in _pending_after_owners(journal, only_this_run, owner_wait_s, locked, failed):
            if entry.id not in skip:
                _undo_one(owner, entry, perform, undone, failed)
    finally:
        for held in locked.values():
            held.release()
    return RecoveryReport(tuple(undone), tuple(failed))


def _pending_after_owners(
    journal: Journal, only_this_run: bool, wait_s: float, locked: dict[str, Journal], failed: list[str]
) -> list[tuple[Journal, Entry]]:
    if only_this_run:
        return [(owner, entry) for owner, entry in journal.pending() if owner.run_id == journal.run_id]
    tried: set[str] = set()
    for owner, _ in journal.pending():
        if owner.run_id == journal.run_id or owner.run_id in tried:
            continue
        tried.add(owner.run_id)
        if owner.wait_for_owner(wait_s):
            locked[owner.run_id] = owner
        else:
            failed.append(f"run {owner.run_id} is still running after {wait_s:g} s: its entries were left to it")
    # Read again: a run that was still alive may have undone some of its entries before it ended.
    return [
        (owner, entry) for owner, entry in journal.pending() if owner.run_id in locked or owner.run_id == journal.run_id
    ]


def _undo_one(
    owner: Journal, entry: Entry, perform: Callable[[Undo], str], undone: list[str], failed: list[str]
) -> None:
    owner.settle(entry, "undoing")  # still pending; the journal shows when each undo began
    try:
        detail = perform(entry.undo)
    except Exception as exc:  # noqa: BLE001  (whatever went wrong, the undo is not verified; it stays pending)
        reason = str(exc) if isinstance(exc, InfragateError) else f"{type(exc).__name__}: {exc}"
        owner.settle(entry, "failed", reason)
        failed.append(f"{entry.disruption}: undo {entry.undo.describe()} failed: {reason}")
        return
    owner.settle(entry, "undone", detail)
    undone.append(f"{entry.disruption}: {detail}")

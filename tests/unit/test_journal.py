"""The recovery journal: written before, settled after, readable after a crash mid-line."""

from __future__ import annotations

from pathlib import Path

from infragate.errors import ProbeError
from infragate.recovery.journal import Journal, Undo, undo_pending


def test_entries_stay_pending_until_their_undo_is_verified(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    first = journal.record("scale api from 3 to 5", Undo("restore_replicas", {"service": "api", "replicas": 3}))
    journal.record("kill api-1", Undo("restore_replicas", {"service": "api", "replicas": 3}))
    assert [entry.disruption for _, entry in journal.pending()] == ["kill api-1", "scale api from 3 to 5"]
    journal.settle(first, "undone", "api back at 3")
    assert [entry.disruption for _, entry in journal.pending()] == ["kill api-1"]


def test_undo_runs_newest_first_and_failures_stay_pending(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    journal.record("first", Undo("a"))
    journal.record("second", Undo("b"))
    seen: list[str] = []

    def perform(undo: Undo) -> str:
        seen.append(undo.action)
        if undo.action == "a":
            raise ProbeError("cannot")
        return "done"

    report = undo_pending(journal, perform)
    assert seen == ["b", "a"]
    assert not report.verified and report.failed == ("first: undo a() failed: cannot",)
    assert [entry.disruption for _, entry in journal.pending()] == ["first"]


def test_a_line_cut_short_by_a_kill_does_not_hide_the_entries_before_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    journal.record("scale api", Undo("restore_replicas", {"replicas": 3}))
    with open(journal.file, "a") as handle:
        handle.write('{"id": "abc", "disruption": "kill api-2", "undo": {"act')
    assert [entry.disruption for _, entry in journal.pending()] == ["scale api"]


def test_only_this_run_leaves_other_runs_to_recover(tmp_path: Path) -> None:
    Journal(tmp_path, "run-old").record("old", Undo("x"))
    current = Journal(tmp_path, "run-new")
    current.record("new", Undo("y"))
    report = undo_pending(current, lambda undo: "ok", only_this_run=True)
    assert report.undone == ("new: ok",)
    assert [entry.disruption for _, entry in current.pending()] == ["old"]


def test_recovery_waits_for_a_living_run_and_takes_over_once_it_is_gone(tmp_path: Path) -> None:
    import threading

    owner = Journal(tmp_path, "run-alive").hold()
    owner.record("scale api from 3 to 5", Undo("restore_replicas", {"service": "api", "replicas": 3}))
    owner.record("kill api-1", Undo("restore_replicas", {"service": "api", "replicas": 3}))
    seen: list[str] = []

    def perform(undo: Undo) -> str:
        seen.append("x")
        return "done"

    report = undo_pending(Journal(tmp_path, "recover"), perform, owner_wait_s=0.3)
    assert seen == [] and not report.verified
    assert len(report.failed) == 1 and "still running" in report.failed[0]  # said once per run

    threading.Timer(0.3, owner.release).start()
    report = undo_pending(Journal(tmp_path, "recover"), perform, owner_wait_s=5)
    assert seen == ["x", "x"] and report.verified
    assert report.undone == ("kill api-1: done", "scale api from 3 to 5: done")


def test_an_unexpected_error_in_an_undo_is_never_a_verified_recovery(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    journal.record("kill api-1", Undo("restore_replicas", {"service": "api", "replicas": 3}))

    def perform(undo: Undo) -> str:
        raise ConnectionError("supervisor gone")

    report = undo_pending(journal, perform)
    assert not report.verified and "ConnectionError: supervisor gone" in report.failed[0]
    assert [entry.disruption for _, entry in journal.pending()] == ["kill api-1"]


def test_a_run_that_journalled_nothing_leaves_no_file(tmp_path: Path) -> None:
    quiet = Journal(tmp_path, "quiet").hold()
    busy = Journal(tmp_path, "busy").hold()
    busy.record("kill api-1", Undo("restore_replicas", {"service": "api", "replicas": 3}))
    quiet.release()
    busy.release()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["busy.jsonl"]


def test_a_scenario_undoes_only_what_it_journalled(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    journal.record("create scratch database", Undo("drop"))
    earlier = journal.pending_ids()
    journal.record("kill api-1", Undo("restore_replicas"))
    seen: list[str] = []

    def perform(undo: Undo) -> str:
        seen.append(undo.action)
        return "done"

    assert undo_pending(journal, perform, only_this_run=True, skip=earlier).verified
    assert seen == ["restore_replicas"]
    assert [entry.disruption for _, entry in journal.pending()] == ["create scratch database"]


def test_a_disruption_without_consent_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Issue 28: a refused scale was journalled and "undone" anyway, rewriting the target's files."""
    import pytest

    from infragate.errors import SafetyError
    from infragate.safety import Consent

    journal = Journal(tmp_path, "run-1")
    refused = Consent(destructive_refusal="the target's environment is production")
    with pytest.raises(SafetyError, match=r"refused by the safety policy: scale api from 3 to 5: .* production"):
        journal.record("scale api from 3 to 5", Undo("restore_replicas", {"replicas": 3}), refused)
    assert journal.pending() == [] and not journal.file.exists()
    journal.record("scale api from 3 to 5", Undo("restore_replicas", {"replicas": 3}), Consent(destructive=True))
    assert len(journal.pending()) == 1


def test_a_stop_held_during_an_undo_is_remembered_and_nothing_new_is_journalled(tmp_path: Path) -> None:
    """Issue 28: a SIGTERM that came while an undo held the signals was lost, and the run went on to kill."""
    import os
    import signal

    import pytest

    from infragate.recovery.stopping import STOP, StopRequestedError, shielded

    journal = Journal(tmp_path, "run-1")
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        STOP.clear()
        with shielded() as held:
            os.kill(os.getpid(), signal.SIGTERM)  # delivered at once, to the holding handler
            undone = "the undo went on"
        assert undone and seen == []  # held: the undo was not cut short
        assert held.reason == "SIGTERM" and STOP.reason == "SIGTERM"
        with pytest.raises(StopRequestedError, match=r"not started: kill api-1: the run was asked to stop \(SIGTERM\)"):
            journal.record("kill api-1", Undo("restore_replicas", {"replicas": 3}))
        assert journal.pending() == []
        os.kill(os.getpid(), signal.SIGTERM)  # the caller's handler is back
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
        STOP.clear()

"""collector.paused: no automatic collection inside, nested and across threads; all back after."""

from __future__ import annotations

import gc
import threading

from infragate import collector


def test_pauses_nest_across_threads_and_the_last_one_out_turns_collection_back_on() -> None:
    assert gc.isenabled()
    inner_done, outer_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other_thread() -> None:
        with collector.paused():
            seen.append(gc.isenabled())
            inner_done.set()
            outer_may_end.wait(5)
        seen.append(gc.isenabled())  # the main thread's pause still holds

    with collector.paused():
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        worker = threading.Thread(target=other_thread)
        worker.start()
        assert inner_done.wait(5)
        outer_may_end.set()
        worker.join(5)
        assert not gc.isenabled()
    assert seen == [False, False]
    assert gc.isenabled() and gc.get_freeze_count() == 0

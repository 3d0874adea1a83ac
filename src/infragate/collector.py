"""Keeping the garbage collector's pauses out of timed work.

Python's automatic collections stop the interpreter; once they reach the oldest generation of a
process holding many objects (a pytest run, a benchmark, a Locust worker) they take tens of
milliseconds, long enough to start a scheduled request over 10 ms late. Inside ``paused()`` what
exists is frozen out of the collector's sight and the automatic collections are off; the objects
made meanwhile are few and are collected when the last pause ends (or whenever the holder calls
``gc.collect()``, which then scans only them). Pauses may nest and overlap across threads.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection while the block runs (the first holder freezes what exists)."""
    global _holders
    with _lock:
        _holders += 1
        if _holders == 1:
            gc.collect()
            gc.freeze()
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
                gc.enable()

"""The bot process's garbage-collector settings (issue 19: ~20% of an ingest burst's CPU).

`settle_memory()` freezes what exists once the store is open and makes collections rarer. It
changes process-wide state, so it is checked in a child process, never in the test session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

CHILD = """
import gc, json, weakref
from bot.core import GC_THRESHOLDS, settle_memory

class Cycle:
    def __init__(self) -> None:
        self.me = self

gc.disable()  # so that only settle_memory() can collect the cycle below
gc.set_threshold(700, 10, 10)
garbage = Cycle()
gone = weakref.ref(garbage)
del garbage  # unreachable cyclic garbage made before settling: collected, not frozen
settle_memory()
first = gc.get_freeze_count()
kept = [[i] for i in range(100)]  # alive after settling: not frozen by a second call
settle_memory()
print(json.dumps({
    "threshold": gc.get_threshold(),
    "expected": GC_THRESHOLDS,
    "frozen_first": first,
    "frozen_second": gc.get_freeze_count(),
    "cycle_collected": gone() is None,
}))
"""


def test_startup_objects_are_frozen_once_and_collections_are_rarer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    assert tuple(found["threshold"]) == tuple(found["expected"])
    assert found["expected"][0] > 700  # rarer than Python's default young collections
    assert found["frozen_first"] > 1000  # modules, classes, settings: out of the collector's sight
    # A second call (a process running the bot again) freezes nothing more.
    assert found["frozen_second"] == found["frozen_first"]
    # Garbage made before settling was collected first, not frozen forever.
    assert found["cycle_collected"]

"""After start-up the collector leaves what start-up built alone and collects young garbage
less often, yet a turn's garbage in reference cycles is still freed (memory does not grow)."""

from __future__ import annotations

import subprocess
import sys

# In a process of its own: the test runner's collector stays as it is.
PROGRAM = """
TURNS = %d
import gc, weakref
import serving

built_at_start = [{"n": n} for n in range(1000)]
serving.settle_heap()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
assert gc.get_threshold()[0] == serving.YOUNG_COLLECTION_EVERY

class Session:  # a session and its transaction point at each other, as SQLAlchemy's do
    def __init__(self):
        self.transaction = {"session": self}

passes = []
gc.callbacks.append(lambda phase, info: phase == "stop" and passes.append(info["generation"]))
alive = []
for turn in range(TURNS):
    session = Session()
    alive.append(weakref.ref(session))
    work = [{"word": w} for w in range(20)]  # what a turn allocates meanwhile
    del session, work
left = sum(ref() is not None for ref in alive)
print(left, max(passes))
"""
TURNS = 10_000


def test_a_turns_cyclic_garbage_is_freed_without_a_full_collection() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM % TURNS], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    left, oldest = map(int, done.stdout.split())
    # Freed by the young passes as the turns go on, not by full ones: at most the sessions
    # since the last pass are left.
    assert left < TURNS // 2
    assert oldest < 2

"""A test hook: kill the process at a named point of a turn, as `kill -9` would, or freeze it
there, as SIGSTOP would.

OFF unless the environment variable ORDERBOT_TEST_CRASH_AT (kill) or ORDERBOT_TEST_FREEZE_AT
(stop, the first time the point is reached; the test sends SIGCONT) names a point when the
process starts (tests/reliability/ sets them on a bot subprocess). The points, in the order a
turn reaches them:

    inbound_received   a platform message arrived, nothing recorded yet (dialog/inbox.py)
    inbound_recorded   recorded and acknowledged, the turn not run yet (dialog/inbox.py)
    turn_locked        the conversation's lock held, its transaction not begun
                       (dialog/manager.py)
    turn_loaded        the conversation's state loaded (and its fencing token recorded) in
                       the turn's transaction, nothing committed (dialog/manager.py)
    reply_queued       the turn and its replies committed to the outbox (dialog/manager.py)
    reply_sent         the platform took a reply, not yet marked sent (dialog/outbox.py)
    webhook_sent       the shop took a webhook, not yet marked delivered
                       (shop_api/webhooks/sender.py)

Each call site is one line, `crashpoints.reached("<point>")`, and costs a string comparison.
"""

from __future__ import annotations

import os
import signal

ENVIRONMENT_VARIABLE = "ORDERBOT_TEST_CRASH_AT"
FREEZE_VARIABLE = "ORDERBOT_TEST_FREEZE_AT"
POINTS = frozenset({"inbound_received", "inbound_recorded", "turn_locked", "turn_loaded",
                    "reply_queued", "reply_sent", "webhook_sent"})

_armed = os.environ.get(ENVIRONMENT_VARIABLE, "")
_freeze = os.environ.get(FREEZE_VARIABLE, "")
for _variable, _point in ((ENVIRONMENT_VARIABLE, _armed), (FREEZE_VARIABLE, _freeze)):
    if _point and _point not in POINTS:
        raise RuntimeError(f"{_variable}: expected one of {sorted(POINTS)}")


def reached(point: str) -> None:
    """Die at once, with no clean-up at all, when the armed point is reached; or stop until
    SIGCONT, the first time the point to freeze at is reached."""
    global _freeze
    if point == _armed:
        os.kill(os.getpid(), signal.SIGKILL)
    if point == _freeze:
        _freeze = ""
        os.kill(os.getpid(), signal.SIGSTOP)

"""A test hook: kill the process at a named point of a turn, as `kill -9` would.

OFF unless the environment variable ORDERBOT_TEST_CRASH_AT names a point when the process
starts (tests/reliability/test_crash.py sets it on a bot subprocess). The points, in the order
a turn reaches them:

    inbound_received   a platform message arrived, nothing recorded yet (dialog/inbox.py)
    inbound_recorded   recorded and acknowledged, the turn not run yet (dialog/inbox.py)
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
POINTS = frozenset({"inbound_received", "inbound_recorded", "reply_queued", "reply_sent",
                    "webhook_sent"})

_armed = os.environ.get(ENVIRONMENT_VARIABLE, "")
if _armed and _armed not in POINTS:
    raise RuntimeError(f"{ENVIRONMENT_VARIABLE}: expected one of {sorted(POINTS)}")


def reached(point: str) -> None:
    """Die at once, with no clean-up at all, when the armed point is reached."""
    if point == _armed:
        os.kill(os.getpid(), signal.SIGKILL)

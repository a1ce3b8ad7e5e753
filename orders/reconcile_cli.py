"""`python bot.py reconcile`: compare the shop's open orders with the bot's now
(orders/reconcile.py) and print one line per drifted order, then a summary.

Exit codes: 0 compared (drifted or not), 1 the shop's orders could not be read (nothing
changed), 2 no [adapters] orders_url is set.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from orders.reconcile import Drift, Outcome, reconcile
from orders.shop_orders import ShopOrders, ShopOrdersUnavailable
from storage.upgrade import in_migrated_database


def add_commands(commands: Any) -> None:
    commands.add_parser("reconcile", help="compare the shop's open orders with the bot's now")


def run(shop: ShopOrders | None, database_url: str) -> int:
    if shop is None:
        print("reconcile: no [adapters] orders_url is set: there are no shop orders to "
              "compare with", file=sys.stderr)
        return 2
    logging.getLogger("httpx").setLevel(logging.WARNING)  # only the outcome is shown
    try:
        outcome = asyncio.run(_reconcile(shop, database_url))
    except ShopOrdersUnavailable as error:
        print(f"reconcile: cannot read the shop's orders ({error}); nothing changed",
              file=sys.stderr)
        return 1
    for drift in outcome.drifts:
        print(_line(drift))
    print(outcome.summary())
    return 0


def _line(drift: Drift) -> str:
    task = "task opened" if drift.task_opened else "no new task"
    return f"{drift.number}: {'; '.join(drift.differences)} ({task})"


async def _reconcile(shop: ShopOrders, database_url: str) -> Outcome:
    listed = await shop.open_orders()  # whole, before anything is written
    return await in_migrated_database(database_url,
                                      lambda session: reconcile(session, listed))

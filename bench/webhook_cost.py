"""What recording a webhook costs a turn that changes an order (issue 16).

A change the bot makes (here: a payment link for an order, the cheapest change that records
order.payment_link_created) is one transaction: read the order, change, commit. With webhooks
on, the same transaction also renders the order as GET /api/orders shows it and inserts one
webhook_deliveries row; the delivery leaves later from the outbox, off the turn. This
measures that transaction with webhooks off and on, in alternating rounds on one SQLite
database, and prints the ratio (the machines are noisy: only ratios within a run count).

    python -m bench.webhook_cost [--rounds 7] [--changes 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from orders.changes import NO_CHANGES, ChangeLog
from orders.demo import seed
from orders.payments import create_payment_link
from orders.service import OrderService
from shop_api.webhooks.recorder import WebhookLog
from storage.database import Database, make_engine
from storage.upgrade import upgrade

ORDER = "A-1001"  # a demo order


class _Link:
    """A payment provider that answers at once: only the bot's own work is measured."""

    async def payment_link(self, order: object) -> str:
        return "https://pay.example/x"


async def _changes(database: Database, orders: OrderService, count: int) -> float:
    """Seconds per change transaction."""
    payments = _Link()
    started = time.perf_counter()
    for _ in range(count):
        async with database.transaction() as session:
            order = await orders.get_order(session, ORDER)
            assert order is not None
            await create_payment_link(session, orders, payments, order)  # type: ignore[arg-type]
    return (time.perf_counter() - started) / count


async def measure(rounds: int, count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"))
        await upgrade(database.engine)
        orders = OrderService()
        async with database.transaction() as session:
            await seed(session, orders)
        modes: dict[str, ChangeLog] = {"off": NO_CHANGES, "on": WebhookLog(72)}
        times: dict[str, list[float]] = {"off": [], "on": []}
        await _changes(database, orders, count)  # warm-up
        for _ in range(rounds):
            for mode, changes in modes.items():
                orders.changes = changes
                times[mode].append(await _changes(database, orders, count))
        await database.dispose()
    return statistics.median(times["off"]), statistics.median(times["on"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    off, on = asyncio.run(measure(args.rounds, args.changes))
    print(f"change transaction, webhooks off: {off * 1000:.3f} ms (baseline 1.00)")
    print(f"change transaction, webhooks on:  {on * 1000:.3f} ms ({on / off:.2f}x)")


if __name__ == "__main__":
    main()

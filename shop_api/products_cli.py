"""`python bot.py products import FILE [--format jsonl|csv] [--report FILE]`: load a catalogue.

Every row is validated as PUT /api/products/{sku} validates its body; the valid rows are
stored BATCH_ROWS at a time, each batch in one transaction (a row is stored whole or not at
all), and a product whose stock comes back tells its waiting customers, as the API does.
Exit codes: 0 every row imported, 1 some rows refused, 2 nothing could be read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from orders.catalogue import CatalogueProduct, Outcome, put_products
from orders.service import OrderService
from orders.stock import BackInStockNotifier, awaited, notify_back_in_stock
from shop_api.product_rows import FORMATS, Refused, UnreadableFile, format_of, read_rows
from storage.database import Database
from storage.upgrade import upgrade

BATCH_ROWS = 500  # a transaction holds SQLite's write lock: short enough not to stall the bot
# The bot process's parts the import needs: the database, and who tells waiting customers.
Wiring = Callable[[], tuple[Database, OrderService, BackInStockNotifier | None]]


def add_commands(commands: Any) -> None:
    products = commands.add_parser("products", help="the shop's catalogue")
    actions = products.add_subparsers(dest="products_command", required=True)
    loading = actions.add_parser(
        "import", help="create or replace products from a JSON lines or CSV file")
    loading.add_argument("file", type=Path)
    loading.add_argument("--format", choices=FORMATS, default=None,
                         help="default: from the file's extension (.jsonl, .csv)")
    loading.add_argument("--report", type=Path, default=None,
                         help="write the refused rows to this CSV file (line, sku, reason)")


def run(args: argparse.Namespace, wiring: Wiring) -> int:
    try:
        rows = read_rows(args.file, format_of(args.file, args.format))
    except UnreadableFile as error:
        print(f"products import: {error}; nothing imported", file=sys.stderr)
        return 2
    products = [row for _line, row in rows if isinstance(row, CatalogueProduct)]
    refused = [row for _line, row in rows if isinstance(row, Refused)]
    outcomes = asyncio.run(_store(products, wiring))
    print(summary(outcomes, len(refused)))
    for row in refused:
        print(f"  line {row.line}{f' ({row.sku})' if row.sku else ''}: {row.reason}")
    if args.report is not None:
        with args.report.open("w", encoding="utf-8", newline="") as report:
            write_report(report, refused)
    return 1 if refused else 0


def summary(outcomes: Counter[Outcome], refused: int) -> str:
    imported = sum(outcomes.values())
    return (f"{imported} imported ({outcomes[Outcome.CREATED]} created, "
            f"{outcomes[Outcome.UPDATED]} updated, {outcomes[Outcome.UNCHANGED]} unchanged), "
            f"{refused} refused")


def write_report(out: TextIO, refused: Sequence[Refused]) -> None:
    writer = csv.writer(out)
    writer.writerow(["line", "sku", "reason"])
    writer.writerows([row.line, row.sku, row.reason] for row in refused)


async def _store(products: list[CatalogueProduct], wiring: Wiring) -> Counter[Outcome]:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # only the outcome is shown
    database, service, notifier = wiring()
    outcomes: Counter[Outcome] = Counter()
    try:
        await upgrade(database.engine)
        with tqdm(total=len(products), unit="rows", file=sys.stderr,
                  disable=not sys.stderr.isatty()) as progress:
            for start in range(0, len(products), BATCH_ROWS):
                batch = products[start:start + BATCH_ROWS]
                async with database.transaction() as session:
                    stored = await put_products(session, batch)
                    back = [done.product.sku for done in stored if done.came_back]
                    if notifier is not None:
                        for sku in sorted(await awaited(session, back)):
                            await notify_back_in_stock(session, sku, service, notifier)
                outcomes.update(done.outcome for done in stored)
                progress.update(len(batch))
    finally:
        await database.dispose()
    return outcomes

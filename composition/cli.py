"""The command line (bot.py's docstring lists it): the subcommands, and with none, the bot."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from composition import adapters
from composition.bootstrap import ROOT, database_url
from composition.joined import JoinedBackInStock, joiner
from config import Settings, SettingsError, load_settings
from console import cli as operator_cli
from console import erase_cli
from dialog import learning
from dialog.flows.availability import BackInStockMessages
from dialog.nlu import NluModel, evaluate
from dialog.outbox import OutboxSender
from dialog.proactive import ProactiveMessages
from dialog.store import ConversationStore
from dialog.texts import Texts
from orders import reconcile_cli
from orders.changes import NO_CHANGES
from orders.service import OrderService
from shop_api import products_cli
from shop_api.webhooks.recorder import WebhookLog
from storage.database import Database, make_engine
from storage.repositories.shop import ShopParts
from storage.repositories.unit_of_work import SqlRepositories, SqlUnitOfWork

DEFAULT_CONFIG = ROOT / "settings.toml"


def main(argv: list[str] | None, run: Callable[[Settings], int]) -> int:
    """`run` runs the bot (no subcommand); the exit code is the process's."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "nlu-eval":
        return _nlu_eval(args.file)
    try:
        settings = load_settings(args.config or DEFAULT_CONFIG)
    except SettingsError as error:
        return bad_settings(error)
    url = database_url(settings.database.url)
    if args.command == "operator":
        return operator_cli.run(args, settings, url)
    if args.command == "erase-customer":
        hooks = settings.webhooks  # the shop is told; a running bot sends it
        changes = WebhookLog(hooks.retry_hours) if hooks.url else NO_CHANGES
        orders = OrderService(settings.security.link_token_days, changes=changes)
        return erase_cli.run(args, url, joiner(ShopParts(orders)))
    if args.command == "nlu":
        return learning.run_retrain(url, SqlRepositories)
    if args.command == "reconcile":
        return reconcile_cli.run(adapters.shop_orders(settings), url)
    if args.command == "products":
        return products_cli.run(args, lambda: _catalogue_wiring(settings))
    return run(settings)


def bad_settings(error: SettingsError) -> int:
    print(f"orderbot: bad settings: {error}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="orderbot")
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML)")
    commands = parser.add_subparsers(dest="command")
    evaluation = commands.add_parser("nlu-eval", help="evaluate intents on FILE")
    evaluation.add_argument("file", type=Path)
    operator_cli.add_commands(commands)
    erase_cli.add_commands(commands)
    learning.add_commands(commands)
    reconcile_cli.add_commands(commands)
    products_cli.add_commands(commands)
    return parser


def _nlu_eval(file: Path) -> int:
    if not file.is_file():
        print(f"nlu-eval: {file} is not a file", file=sys.stderr)
        return 2
    try:
        print(evaluate(NluModel.train(), file))
    except ValueError as error:
        print(f"nlu-eval: {error}", file=sys.stderr)
        return 2
    return 0


def _catalogue_wiring(
    settings: Settings,
) -> tuple[Database, OrderService, JoinedBackInStock]:
    """What `products import` writes with: back-in-stock messages go into the outbox unowned,
    so that a running bot takes them over and sends them (dialog/takeover.py)."""
    database = Database(make_engine(database_url(settings.database.url)))
    orders = OrderService(link_token_days=settings.security.link_token_days)
    store = ConversationStore(owner=None)
    # not started: rows wait for a bot process
    parts = ShopParts(orders)
    outbox = OutboxSender(partial(SqlUnitOfWork, database, parts), store, {})
    proactive = ProactiveMessages(store, Texts.load(), outbox, settings.shop.name)
    return database, orders, JoinedBackInStock(BackInStockMessages(proactive), joiner(parts))

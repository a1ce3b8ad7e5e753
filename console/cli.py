"""`python bot.py operator add NAME [--display-name X] [--admin] [--password-stdin]`.

The password comes from a prompt (typed twice, not echoed) or, for scripts, as one line on
standard input. The database is migrated first, so this works on a new installation too.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable
from typing import Any, TextIO

from config import Settings
from console.accounts import Account, AccountError, Accounts, check_username
from storage.database import Database, make_engine
from storage.upgrade import upgrade


def add_commands(commands: Any) -> None:
    """Register `operator ...` on the bot's argparse subcommands."""
    operator = commands.add_parser("operator", help="console operator accounts")
    actions = operator.add_subparsers(dest="operator_command", required=True)
    add = actions.add_parser("add", help="create an operator account")
    add.add_argument("name", help="the login name (lowercase letters, digits, . _ -)")
    add.add_argument("--display-name", help="the name customers see (default: NAME)")
    add.add_argument("--admin", action="store_true", help="may manage accounts and replies")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password as one line from standard input")


def run(
    args: argparse.Namespace, settings: Settings, database_url: str, *,
    stdin: TextIO | None = None, ask: Callable[[str], str] | None = None,
) -> int:
    """Run an `operator` command; the process exit code."""
    stdin, ask = stdin or sys.stdin, ask or getpass.getpass
    try:
        check_username(args.name)
    except AccountError as error:
        return _fail(str(error))
    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = ask("Password: ")
        if password and ask("Password again: ") != password:
            return _fail("the passwords do not match")
    if not password:
        return _fail("the password is empty")
    role = "admin" if args.admin else "operator"
    try:
        account = asyncio.run(_add(settings, database_url, args.name,
                                   args.display_name or args.name, password, role))
    except AccountError as error:
        return _fail(str(error))
    print(f"operator {account.username} created ({account.role}, shown to customers as "
          f"\"{account.display_name}\")")
    return 0


async def _add(settings: Settings, database_url: str, username: str, display_name: str,
               password: str, role: str) -> Account:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # only the outcome is shown
    database = Database(make_engine(database_url))
    try:
        await upgrade(database.engine)
        accounts = Accounts(database, settings.operators.session_hours)
        return await accounts.create(username, display_name, password, role)
    finally:
        await database.dispose()


def _fail(reason: str) -> int:
    print(f"operator add: {reason}", file=sys.stderr)
    return 2

"""`python bot.py erase-customer EMAIL`: erase a customer's conversations and personal data,
keeping what accounting law requires (dialog/erasure.py; README "Data protection").

Exit codes: 0 erased (or erased before: running it again changes nothing), 2 no customer
ever had this address. The database is migrated first, as for `operator add`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from dialog.erasure import Erasure, erase_customer_by_email
from dialog.unit_of_work import Repositories
from storage.upgrade import in_migrated_database


def add_commands(commands: Any) -> None:
    erase = commands.add_parser(
        "erase-customer", help="erase a customer's conversations and personal data")
    erase.add_argument("email", help="the customer's email address")


def run(args: argparse.Namespace, database_url: str, join: Callable[[Any], Repositories]) -> int:
    """join: the repositories of the command's one transaction (composition/ wires the SQL
    ones, whose shop records the erasure for the shop: a webhook a running bot sends)."""
    erased = asyncio.run(_erase(database_url, args.email, join))
    if erased is None:
        print(f"erase-customer: no customer with the email address {args.email!r}",
              file=sys.stderr)
        return 2
    if erased.already_erased:
        print(f"customer {erased.customer_id} was erased before: nothing left to erase")
    else:
        print(f"customer {erased.customer_id} erased: {erased.conversations} conversation(s) "
              f"and {erased.identities} channel identit{'y' if erased.identities == 1 else 'ies'}"
              f" deleted, personal data removed from {erased.orders} order(s); order numbers, "
              "amounts, dates, lines and invoices kept")
    return 0


async def _erase(
    database_url: str, email: str, join: Callable[[Any], Repositories]
) -> Erasure | None:
    return await in_migrated_database(
        database_url, lambda session: erase_customer_by_email(join(session), email))

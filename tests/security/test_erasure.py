"""Data protection over the real server and the real command line: `bot.py erase-customer`,
the admin's erase action, and the transcript retention job (dialog/erasure.py, retention.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
from sqlalchemy import func, inspect, select, text

from channels.webchat.identity import signed_identity
from composition.bootstrap import Orderbot
from dialog.tables import Conversation, TranscriptEntry
from orders.tables import Customer, CustomerIdentity, Order, OrderLine
from storage.clock import utcnow
from storage.repositories.retention import KIND as RETENTION
from storage.tables import Job
from tests.conftest import BotFactory, serve
from tests.doubles.smtp_relay import SmtpRelayDouble, customer_mail
from tests.e2e.test_webchat import chat
from tests.security.conftest import SHOP
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "olivia.brown@example.com"
NAME = "Olivia Brown"
SAID = ["Where is my order A-1015?", EMAIL, "my flat is at 5 High St, Edinburgh EH1 1YZ"]
IDENTITY_SECRET = "test-identity-secret"  # tests/conftest.py make_settings


def _database_url(bot: Orderbot) -> str:
    return bot.settings.database.url


async def _cli(bot: Orderbot, *args: str) -> subprocess.CompletedProcess[str]:
    """The command on a thread, so that the bot's event loop goes on meanwhile: a transaction
    it has open (SQLite's write lock) commits instead of holding the command out."""
    env = {**os.environ, "ORDERBOT__DATABASE__URL": _database_url(bot)}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, str(ROOT / "bot.py"), "erase-customer", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


async def _all_text(bot: Orderbot) -> list[tuple[str, str]]:
    """(table, value) for every value of every row of every table, bytes left out."""
    async with bot.database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        found = []
        for table in tables:
            for row in await connection.execute(text(f'SELECT * FROM "{table}"')):
                found.extend((table, str(value)) for value in row
                             if value is not None and not isinstance(value, bytes | memoryview))
        return found


async def _orders(bot: Orderbot, customer_id: int) -> list[tuple[str, int, str, int]]:
    async with bot.database.transaction() as session:
        rows = await session.execute(
            select(Order.number, Order.total_minor, Order.status, func.count(OrderLine.id))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.customer_id == customer_id).group_by(Order.id).order_by(Order.number))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _customer(bot: Orderbot) -> Customer:
    async with bot.database.transaction() as session:
        customer = await session.scalar(select(Customer).where(Customer.email == EMAIL))
        assert customer is not None
        session.add(CustomerIdentity(customer_id=customer.id, channel="telegram",
                                     external_id="5001"))
        return customer


async def _talk(server: Any) -> None:
    """Olivia proves an order in an anonymous chat, then writes as a signed-in customer."""
    async with chat(server, language="en") as conversation:
        for said in SAID:
            await conversation.say(said)
    signed = signed_identity(IDENTITY_SECRET, EMAIL)
    async with chat(server, customer={"email": EMAIL, "name": NAME}, **signed,
                    language="en") as conversation:
        await conversation.say("hello, it is Olivia Brown again")


async def test_erase_customer_leaves_no_personal_data_and_keeps_the_accounts(
    make_bot: BotFactory, tmp_path: Path, demo_database: Path, database_url: str,
) -> None:
    """On SQLite and on PostgreSQL (the demo shop seeded into it)."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(demo_database, tmp_path / "orderbot.db")
    bot = await make_bot(database_url, http={"port": free_port()})
    server = await serve(bot)
    try:
        customer = await _customer(bot)
        orders_before = await _orders(bot, customer.id)
        assert orders_before
        await _talk(server)
        await bot.outbox.drain()
    finally:
        await server.stop()
    personal = [EMAIL, NAME, "5 High St", "EH1 1YZ", "EH11YZ", *SAID,
                *([customer.phone] if customer.phone else [])]
    assert any(EMAIL in value for _, value in await _all_text(bot))  # the scan sees it before

    erased = await _cli(bot, EMAIL.upper())
    assert erased.returncode == 0, erased.stderr
    assert f"customer {customer.id} erased" in erased.stdout

    leaks = [(table, value[:120]) for table, value in await _all_text(bot)
             for item in personal if item.lower() in value.lower()]
    assert not leaks
    assert await _orders(bot, customer.id) == orders_before  # numbers, totals, lines kept
    async with bot.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(CustomerIdentity).where(
            CustomerIdentity.customer_id == customer.id)) == 0

    again = await _cli(bot, EMAIL)
    assert again.returncode == 0 and "erased before" in again.stdout
    unknown = await _cli(bot, "nobody.at.all@example.com")
    assert unknown.returncode == 2
    assert "no customer with the email address" in unknown.stderr and not unknown.stdout


async def test_the_erase_action_is_for_admins_only(make_bot: BotFactory) -> None:
    bot = await make_bot(http={"port": free_port()})
    server = await serve(bot)
    try:
        customer = await _customer(bot)
        await bot.console.accounts.create("olga", "Olga", "operator-pass-123", "operator")
        await bot.console.accounts.create("boss", "Boss", "admin-pass-12345", "admin")
        path = f"/console/api/customers/{customer.id}/erase"
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.post(path)).status_code == 401
            await client.post("/console/api/login", json={"username": "olga",
                                                          "password": "operator-pass-123"})
            refused = await client.post(path)
            assert refused.status_code == 403
            async with bot.database.transaction() as session:
                assert (await session.get(Customer, customer.id)).email == EMAIL  # type: ignore
            await client.post("/console/api/logout")
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.post("/console/api/login", json={"username": "boss",
                                                          "password": "admin-pass-12345"})
            done = await client.post(path)
            assert done.status_code == 200, done.text
            assert done.json()["already_erased"] is False and done.json()["orders_kept"] >= 1
            assert (await client.post(path)).json()["already_erased"] is True
            assert (await client.post("/console/api/customers/999999/erase")).status_code == 404
        async with bot.database.transaction() as session:
            row = await session.get(Customer, customer.id)
            assert row is not None and row.name != NAME and EMAIL not in (row.email or "")
    finally:
        await server.stop()


async def test_retention_deletes_old_transcripts_once_and_keeps_new_ones(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(shop={"transcript_retention_days": 30})
    now = utcnow()
    async with bot.database.transaction() as session:
        conversation = Conversation(channel="webchat", chat_id="retention-test")
        session.add(conversation)
        await session.flush()
        session.add_all([
            TranscriptEntry(conversation_id=conversation.id, sender="customer",
                            text="old line", at=now - timedelta(days=31)),
            TranscriptEntry(conversation_id=conversation.id, sender="customer",
                            text="new line", at=now - timedelta(days=29)),
        ])
    await bot.jobs.run_due()
    await bot.jobs.run_due()  # a second pass (another process) finds nothing to do
    async with bot.database.transaction() as session:
        left = list(await session.scalars(select(TranscriptEntry.text).where(
            TranscriptEntry.conversation_id == conversation.id)))
        jobs = list(await session.execute(select(Job.key, Job.done_at).where(
            Job.kind == RETENTION).order_by(Job.due_at)))
    assert left == ["new line"]
    assert len(jobs) == 2 and jobs[0][1] is not None  # today's ran, tomorrow's is planned
    assert jobs[1][1] is None and jobs[1][0] > jobs[0][0]


async def test_retention_zero_keeps_everything(make_bot: BotFactory) -> None:
    bot = await make_bot()
    async with bot.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == RETENTION)) == 0


async def test_erasure_takes_the_mail_answered_at_the_address_of_an_unauthenticated_sender(
    mail_bot: Orderbot, relay: SmtpRelayDouble
) -> None:
    """Mail From her address that her mail server did not authenticate is a stranger's
    conversation (no customer on it), yet it holds her address: it goes too."""
    mail = customer_mail(EMAIL, "Hello, I live at 5 High St", to=SHOP, authenticated=False)
    async with aiosmtplib.SMTP(hostname="127.0.0.1",
                               port=mail_bot.settings.email.listen_port) as client:
        await client.sendmail(EMAIL, [SHOP], mail.as_bytes())
    await mail_bot.inbox.drain()
    await relay.wait_for(1, EMAIL)
    await mail_bot.outbox.drain()
    assert any(EMAIL in value for _, value in await _all_text(mail_bot))

    erased = await _cli(mail_bot, EMAIL)
    assert erased.returncode == 0, erased.stderr
    leaks = [(table, value[:120]) for table, value in await _all_text(mail_bot)
             for item in (EMAIL, "5 High St") if item.lower() in value.lower()]
    assert not leaks

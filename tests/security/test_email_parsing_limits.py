"""One mail cannot stop the bot: received mail is parsed in worker processes, with a time
limit ([email] parse_timeout_seconds), and every step of parsing is bounded.

To see the bot carry on while a mail is being parsed, a test stops that mail's worker
(SIGSTOP) the moment it starts: the mail is then "being parsed" for as long as the test wants,
however fast the machine. Meanwhile /health and another customer's mail must be answered.
Times below are deadlines for failure only, never measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import AsyncIterator

import aiosmtplib
import httpx
import pytest
from sqlalchemy import func, select

from channels.email import EmailChannel
from channels.email.parse_workers import ParseWorkers
from channels.email.parsing import ParsedMail, UnreadableMail
from composition.bootstrap import Orderbot
from dialog.tables import InboxRow
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles.smtp_relay import MTA, SmtpRelayDouble, customer_mail
from tests.security.conftest import SHOP
from tests.servers import free_port

OLIVIA = "olivia.brown@example.com"
ANNA = "anna.kowalska@example.com"
DEADLINE = 30.0  # seconds: what the bot must manage well within, on any machine


def huge_mail() -> bytes:
    """About 4 MB of text (a customer pasting a log, or an attacker)."""
    return customer_mail(OLIVIA, "Where is my order A-1015?\n" + ("x" * 70 + "\n") * 60_000,
                         to=SHOP).as_bytes()


def many_parts_mail() -> bytes:
    """20,000 MIME parts in 0.7 MB: the standard parser needed seconds for it."""
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(20_000))
    head = customer_mail(OLIVIA, "", to=SHOP).as_string().split("\n\n", 1)[0]
    return (f"{head}\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--\r\n').encode()


class WorkerHold:
    """Sends `signum` to the first `count` parsing workers as they start (in the thread that
    started them, before they can finish), and hands their ids to the test."""

    def __init__(self, signum: int = signal.SIGSTOP, count: int = 1) -> None:
        self.signum, self._left = signum, count
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self.held: asyncio.Queue[int] = asyncio.Queue()

    def __call__(self, pid: int) -> None:
        with self._lock:
            if self._left == 0:
                return
            self._left -= 1
        os.kill(pid, self.signum)
        self._loop.call_soon_threadsafe(self.held.put_nowait, pid)

    async def next(self) -> int:
        async with asyncio.timeout(DEADLINE):
            return await self.held.get()


def hold_workers(bot: Orderbot, signum: int = signal.SIGSTOP) -> WorkerHold:
    hold = WorkerHold(signum)
    [channel] = [c for c in bot.channels if isinstance(c, EmailChannel)]
    channel.parser.on_worker_started(hold)
    return hold


def resume(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already killed past its time limit
        os.kill(pid, signal.SIGCONT)


async def send(bot: Orderbot, raw: bytes, sender: str = OLIVIA) -> None:
    async with asyncio.timeout(DEADLINE * 2), aiosmtplib.SMTP(
        hostname="127.0.0.1", port=bot.settings.email.listen_port, timeout=DEADLINE * 2,
    ) as client:
        await client.sendmail(sender, [SHOP], raw)


async def inbox_rows(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxRow)) or 0)


def email_settings(relay: SmtpRelayDouble, **more: object) -> dict[str, object]:
    return {"enabled": True, "listen_port": free_port(), "address": SHOP,
            "relay_host": "127.0.0.1", "relay_port": relay.port, "authserv_id": MTA, **more}


@pytest.fixture
async def served(make_bot: BotFactory, relay: SmtpRelayDouble) -> AsyncIterator[LiveServer]:
    """The bot over real HTTP and SMTP; a generous time limit (the tests hold workers)."""
    bot = await make_bot(http={"port": free_port()},
                         email=email_settings(relay, parse_timeout_seconds=120))
    server = await serve(bot)
    yield server
    await server.stop()
    await bot.inbox.drain()
    await bot.outbox.drain()


async def test_a_huge_mail_being_parsed_holds_up_nobody(
    served: LiveServer, relay: SmtpRelayDouble
) -> None:
    bot = served.bot
    hold = hold_workers(bot)
    huge = asyncio.create_task(send(bot, huge_mail()))
    pid = await hold.next()
    try:
        async with asyncio.timeout(DEADLINE), httpx.AsyncClient(base_url=served.url) as http:
            assert (await http.get("/health")).status_code == 200
        await send(bot, customer_mail(ANNA, "Gdzie jest moje zamówienie A-1017?",
                                      to=SHOP).as_bytes(), ANNA)
        await bot.inbox.drain()
        [answer] = await relay.wait_for(1, ANNA)
        assert "A-1017" in answer.text
        assert not huge.done()  # Olivia's mail is still being read all this while
    finally:
        resume(pid)
    await huge  # 250
    await bot.inbox.drain()
    [olivia] = await relay.wait_for(1, OLIVIA)
    assert "A-1015" in olivia.text


async def test_a_mail_of_20000_parts_holds_up_nobody_and_is_refused(
    served: LiveServer, relay: SmtpRelayDouble
) -> None:
    bot = served.bot
    hold = hold_workers(bot)
    many = asyncio.create_task(send(bot, many_parts_mail()))
    pid = await hold.next()
    try:
        async with asyncio.timeout(DEADLINE), httpx.AsyncClient(base_url=served.url) as http:
            assert (await http.get("/health")).status_code == 200
        assert not many.done()
    finally:
        resume(pid)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await many
    assert refused.value.code == 554 and "more than 100 MIME parts" in refused.value.message
    assert await inbox_rows(bot) == 0


async def test_a_mail_not_read_within_the_time_limit_is_refused_and_the_next_is_read(
    make_bot: BotFactory, relay: SmtpRelayDouble
) -> None:
    bot = await make_bot(email=email_settings(relay, parse_timeout_seconds=1))
    hold_workers(bot)  # the first mail's worker never gets on
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await send(bot, huge_mail())
    assert refused.value.code == 552 and "took too long to read" in refused.value.message
    assert await inbox_rows(bot) == 0

    await send(bot, customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP).as_bytes())
    await bot.inbox.drain()
    [answer] = await relay.wait_for(1, OLIVIA)
    assert "A-1015" in answer.text
    await bot.outbox.drain()


async def test_a_worker_that_dies_gets_the_mail_sent_again_later(
    make_bot: BotFactory, relay: SmtpRelayDouble
) -> None:
    """Killed by the system (out of memory, say): not the mail's fault, so 451, try later."""
    bot = await make_bot(email=email_settings(relay))
    hold_workers(bot, signal.SIGKILL)
    mail = customer_mail(OLIVIA, "Where is my order A-1015?", to=SHOP).as_bytes()
    with pytest.raises(aiosmtplib.SMTPDataError) as deferred:
        await send(bot, mail)
    assert deferred.value.code == 451
    await send(bot, mail)  # the sending server's retry
    await bot.inbox.drain()
    assert len(await relay.wait_for(1, OLIVIA)) == 1
    await bot.outbox.drain()


# Every step bounded: mails built to be slow are read (or refused) well within the deadline.

def _mail(body: str, content_type: str = "text/plain", top: str = "", **headers: str) -> bytes:
    """Written by hand: the standard library's generator is itself slow to fold such
    headers. `top`: header lines above the others, as receiving servers add them."""
    head = {"From": OLIVIA, "To": SHOP, "Subject": "x", "Message-ID": "<slow@example.com>",
            **{name.replace("_", "-"): value for name, value in headers.items()}}
    lines = "".join(f"{name}: {value}\r\n" for name, value in head.items())
    return (f"{top}{lines}Content-Type: {content_type}; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()


SLOW_TO_READ = {
    "html-unclosed-tags": _mail("<a" * 100_000, "text/html"),  # 40 s before
    "html-quoted-brackets": _mail('<a b="x>" ' * 20_000, "text/html"),  # two minutes before
    "html-brackets": _mail("<" * 200_000, "text/html"),
    "html-comments": _mail("<!--" * 50_000, "text/html"),
    "spaces-in-a-line": _mail("a" + " " * 1_000_000 + "b"),
    "long-lines-of-digits": _mail(("1<" * 200 + "a" * 20_000 + "\r\n") * 50),
    "many-references": _mail("hi", References=" ".join(f"<r{i}@x>" for i in range(50_000)),
                             In_Reply_To=" ".join(f"<i{i}@x>" for i in range(50_000))),
    "many-authentication-results": _mail("hi", top="".join(
        f"Authentication-Results: x{i}.example; dmarc=pass header.from=example.com\r\n"
        for i in range(20_000))),
    "huge-subject": _mail("hi", Subject="Re: " * 200_000),  # over 30 s before
    "huge-from": _mail("hi", From="a@b.example, " * 100_000),
}


@pytest.mark.parametrize("raw", SLOW_TO_READ.values(), ids=SLOW_TO_READ.keys())
async def test_mail_built_to_be_slow_is_read_within_the_time_limit(raw: bytes) -> None:
    workers = ParseWorkers(workers=1, seconds=DEADLINE)
    try:
        outcome: ParsedMail | UnreadableMail = await workers.parse(raw, OLIVIA, "shop.example",
                                                                   MTA)
    except UnreadableMail as refused:
        outcome = refused
    finally:
        await workers.close()
    assert isinstance(outcome, ParsedMail | UnreadableMail)  # not ParseTimedOut

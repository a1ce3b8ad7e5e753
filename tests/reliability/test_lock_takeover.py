"""A process that dies or stalls while it holds a conversation, two real bot processes on one
PostgreSQL and one Redis, a Telegram customer through the webhook (the Bot API double in this
process). What the customer sees, whatever happens to the process that had the conversation:
every message answered exactly once, every reply the bot committed sent exactly once, within a
few seconds of the fault (the conversation's row lock, dialog/unit_of_work.py ROW_LOCK;
dialog/takeover.py).

- kill -9 while a turn holds the conversation (before or after its reply committed): the
  webhook was not answered, so Telegram delivers the message again; the other process answers
  it (PostgreSQL ended the dead one's transaction, and its row lock, with its connection), or
  finds it a duplicate and takes over the reply the dead one committed;
- SIGSTOP before the turn's transaction: the stalled process holds nothing the others wait
  for; the other process answers at once, and on SIGCONT the stalled turn runs, once, on what
  the other left;
- SIGSTOP inside the turn's transaction: the other process's turn waits for it (the locked row,
  or for a new conversation the row being made) and, on SIGCONT, both messages are answered
  once, the turns and their replies in order;
- SIGSTOP between a reply's commit and its send, past takeover_seconds: the other process
  sends it; the stalled one, on SIGCONT, finds the row no longer its own and sends nothing.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.telegram_api import USERS, TelegramApiDouble, text_update
from tests.reliability.bot_process import BotProcess, query, wait_for_rows
from tests.reliability.test_crash import post_update

CUSTOMER = "anna"
CHAT = USERS[CUSTOMER]["id"]
FIRST, SECOND = "hello", "where is my order"
RECOVERY = 12.0  # production defaults (lease 5 s, takeover 6 s): everything answered by then
WITHIN = 30.0  # an upper bound for what waits on a resumed process, not a wait
SETTLED = (
    "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
)
LINES = (
    "SELECT t.text FROM transcript t JOIN conversations c ON c.id = t.conversation_id"
    " WHERE c.channel = 'telegram' AND c.chat_id = :chat AND t.sender = :sender ORDER BY t.id"
)


def make_bot(postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, log: Path,
             **sections: dict[str, Any]) -> BotProcess:
    return BotProcess.make(
        postgres_url, log, redis={"url": redis_url}, demo={"enabled": False},
        telegram=telegram_api.bot_settings(mode="webhook"), **sections,
    )


async def say(bot: BotProcess, telegram_api: TelegramApiDouble, text: str) -> asyncio.Task[Any]:
    """The customer's message, posted as Telegram posts it (a stalled bot may never answer the
    POST: the task is left running)."""
    update = text_update(telegram_api.next_update_id(), CUSTOMER, text)
    return asyncio.create_task(post_update(bot, update))


async def lines(postgres_url: str, sender: str) -> list[str]:
    return [row[0] for row in await query(postgres_url, LINES, chat=str(CHAT), sender=sender)]


async def answered_once_each(postgres_url: str, telegram_api: TelegramApiDouble,
                             customer_lines: list[str], within: float) -> None:
    """Every message in the transcript once (in this order), every reply the bot wrote in the
    transcript sent to the customer exactly once, in the transcript's order (whichever
    process sent it: a reply waits for every earlier one of its conversation)."""
    await wait_for_rows(postgres_url, SETTLED, [(0, 0)], within)
    await wait_for_rows(postgres_url, LINES, [(line,) for line in customer_lines], within,
                        chat=str(CHAT), sender="customer")
    written = await lines(postgres_url, "bot")
    await telegram_api.wait_until(lambda: len(telegram_api.sent(CHAT)) >= len(written))
    sent = [m["text"] for m in telegram_api.sent(CHAT)]
    assert written and sent == written


@pytest.mark.parametrize("died_at", ["turn_locked", "turn_loaded", "reply_queued"])
async def test_kill_9_of_a_process_holding_a_conversation_stalls_it_seconds_not_minutes(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
    died_at: str,
) -> None:
    survivor = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "survivor.log")
    doomed = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "doomed.log")
    try:
        await survivor.start()
        # Dies holding the conversation: before its transaction, with its row locked, or
        # after its commit with the reply unsent.
        await doomed.start(crash_at=died_at)
        update = text_update(telegram_api.next_update_id(), CUSTOMER, FIRST)
        first = asyncio.create_task(post_update(doomed, update))
        assert await doomed.exited() == -9
        killed = time.monotonic()
        # The dead process never answered the webhook: Telegram delivers the update again,
        # here to the survivor. Dead before its commit, nothing of the first turn was kept
        # and it runs now; dead after, it is a duplicate and its reply goes out at the
        # takeover.
        assert await first is None
        assert await post_update(survivor, update) == 200
        await (await say(survivor, telegram_api, SECOND))
        # Both messages answered once each, in order, within seconds of the death, at the
        # production defaults.
        await answered_once_each(postgres_url, telegram_api, [FIRST, SECOND],
                                 RECOVERY - (time.monotonic() - killed))
        if died_at == "reply_queued":  # the dead process's reply row
            assert "took over" in survivor.log()
    finally:
        await doomed.kill()
        await survivor.stop()


async def test_a_process_stalled_before_its_turn_holds_nothing_and_runs_it_once_after(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    sections: dict[str, dict[str, Any]] = {"process": {"takeover_seconds": 600}}
    live = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "live.log", **sections)
    stalled = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "stalled.log",
                       **sections)
    try:
        await live.start()
        await stalled.start(freeze_at="turn_locked")
        first = await say(stalled, telegram_api, FIRST)
        await stalled.frozen()  # its own process's lock held, its transaction not begun
        # The live process answers while the stalled one is still stopped: nothing to wait
        # for (no lease to run out).
        await (await say(live, telegram_api, SECOND))
        await answered_once_each(postgres_url, telegram_api, [SECOND], WITHIN)
        stalled.cont()
        # Its turn runs on the conversation as the live one's commit left it.
        await answered_once_each(postgres_url, telegram_api, [SECOND, FIRST], WITHIN)
        await first
        assert "refused" not in stalled.log()
    finally:
        await stalled.kill()
        await live.stop()


@pytest.mark.parametrize("conversation", ["new", "going on"])
async def test_a_process_stalled_inside_its_turn_keeps_the_order_of_the_turns(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
    conversation: str,
) -> None:
    sections: dict[str, dict[str, Any]] = {"process": {"takeover_seconds": 600}}
    live = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "live.log", **sections)
    stalled = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "stalled.log",
                       **sections)
    try:
        await live.start()
        earlier = []
        if conversation == "going on":
            earlier = ["hi"]
            await (await say(live, telegram_api, "hi"))
            await answered_once_each(postgres_url, telegram_api, earlier, WITHIN)
        await stalled.start(freeze_at="turn_loaded")
        first = await say(stalled, telegram_api, FIRST)
        await stalled.frozen()  # its state loaded (or made): the conversation's row locked
        second = await say(live, telegram_api, SECOND)
        # The live process's turn waits at the conversation's row for the stalled transaction
        # (it would otherwise read the state before the stalled turn's change and write over
        # it); a new conversation's, at the row being made.
        await wait_for_rows(
            postgres_url, "SELECT count(*) > 0 FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE '% conversations %'",
            [(True,)], RECOVERY)
        stalled.cont()
        # The turns ran in order (the transcript); their replies leave from two processes'
        # outboxes in that order too: the live one's waits for the stalled one's.
        await answered_once_each(postgres_url, telegram_api, [*earlier, FIRST, SECOND], WITHIN)
        await asyncio.gather(first, second)
        # The live turn that waited for a new conversation's row found it made: run again.
        assert ("made by another turn meanwhile" in live.log()) == (conversation == "new")
    finally:
        await stalled.kill()
        await live.stop()


async def test_a_reply_taken_over_from_a_stalled_process_is_not_sent_by_it_too(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    sections: dict[str, dict[str, Any]] = {"process": {"takeover_seconds": 2}}
    live = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "live.log", **sections)
    stalled = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "stalled.log",
                       **sections)
    try:
        await live.start()
        await stalled.start(freeze_at="reply_queued")
        first = await say(stalled, telegram_api, FIRST)
        await stalled.frozen()  # its reply committed, not sent; its heartbeat stops
        await telegram_api.wait_until(lambda: bool(telegram_api.sent(CHAT)))  # the live one
        stalled.cont()
        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], WITHIN)
        await first
        await _logged(stalled, "taken over by another process; not sent here")
        assert [m["text"] for m in telegram_api.sent(CHAT)] == await lines(postgres_url, "bot")
        assert "took over 0 unanswered messages and 1 unsent replies" in live.log()
    finally:
        await stalled.kill()
        await live.stop()


async def _logged(bot: BotProcess, line: str) -> None:
    deadline = time.monotonic() + WITHIN
    while line not in bot.log():
        assert time.monotonic() < deadline, bot.log()
        await asyncio.sleep(0.05)

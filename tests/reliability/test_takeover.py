"""Pending work across processes (dialog/takeover.py), real bot processes on one PostgreSQL and
one Redis, Telegram customers through the webhook (the Bot API double in this process):

- a process that dies with a reply committed but not sent, and is never started again: another
  live process sends that reply, once, without any restart;
- a process that starts while another is still trying to send a reply leaves that reply alone
  (before, every starting process sent every unsent reply of the database again).
"""

from __future__ import annotations

from pathlib import Path

from tests.doubles.telegram_api import USERS, TelegramApiDouble, text_update
from tests.reliability.bot_process import BotProcess, wait_for_rows
from tests.reliability.test_crash import post_update

TAKEOVER_SECONDS = 2  # production: 6
WITHIN = 30.0  # an upper bound for the takeover to be seen, not a wait
SETTLED = (
    "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
    " (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
)


def replies(telegram_api: TelegramApiDouble, user: str) -> list[str]:
    return [m["text"] for m in telegram_api.sent(USERS[user]["id"])]


def make_bot(postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble,
             log: Path) -> BotProcess:
    return BotProcess.make(
        postgres_url, log, redis={"url": redis_url}, demo={"enabled": False},
        process={"takeover_seconds": TAKEOVER_SECONDS},
        telegram=telegram_api.bot_settings(mode="webhook"),
    )


async def test_a_reply_left_by_a_dead_process_is_sent_once_by_a_live_one(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    survivor = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "survivor.log")
    doomed = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "doomed.log")
    try:
        await survivor.start()
        await doomed.start(crash_at="reply_queued")  # dies after the turn's commit
        await post_update(doomed, text_update(telegram_api.next_update_id(), "anna", "cześć"))
        assert await doomed.exited() == -9
        await telegram_api.wait_until(lambda: bool(replies(telegram_api, "anna")))
        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], WITHIN)
        assert len(replies(telegram_api, "anna")) == 1
        assert "took over 0 unanswered messages and 1 unsent replies" in survivor.log()
    finally:
        await doomed.kill()
        await survivor.stop()


async def test_a_starting_process_leaves_a_live_processs_replies_alone(
    postgres_url: str, redis_url: str, telegram_api: TelegramApiDouble, tmp_path: Path,
) -> None:
    sender = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "sender.log")
    newcomer = make_bot(postgres_url, redis_url, telegram_api, tmp_path / "newcomer.log")
    try:
        await sender.start()
        # Telegram asks the sender to wait before its reply goes out: the reply stays unsent,
        # owned by a live process that is waiting to send it.
        telegram_api.fail_next(1, "429", retry_after=3, method="sendMessage")
        hello = text_update(telegram_api.next_update_id(), "olivia", "hello")
        assert await post_update(sender, hello) == 200
        await telegram_api.wait_until(  # the first try arrived: it is answered 429
            lambda: any(c.method == "sendMessage" for c in telegram_api.calls))
        await newcomer.start()  # its outbox has loaded its own unsent replies by now: none
        await wait_for_rows(postgres_url, SETTLED, [(0, 0)], WITHIN)
        await newcomer.stop()
        await sender.stop()
        assert len(replies(telegram_api, "olivia")) == 1
        assert "sent again after a restart" not in newcomer.log()
        assert "took over" not in newcomer.log()
    finally:
        await newcomer.kill()
        await sender.kill()

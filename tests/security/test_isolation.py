"""A customer never sees another customer's order or conversation: not by guessing order
numbers, not by pressing buttons they were never offered, not with another session's token,
not by email from another address; an order's Telegram link used from a second chat opens that
one order only.
"""

from __future__ import annotations

import json
from typing import Any

import aiosmtplib
import httpx
import pytest

from composition.bootstrap import Orderbot
from orders.service import OrderView
from tests.conftest import LiveServer
from tests.doubles.smtp_relay import SmtpRelayDouble, customer_mail
from tests.doubles.telegram_api import USERS, WEBHOOK_SECRET, TelegramApiDouble, text_update
from tests.e2e.test_webchat import chat, open_session

VICTIM = "A-1015"  # Olivia Brown's shipped order (DHL), proven by EH1 1YZ or her email
STRANGER = "someone.else@example.net"
FLOWS = ("status", "cancel", "confirm", "delivery", "returns", "payment")


async def order(bot: Orderbot, number: str = VICTIM) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


def private_details(victim: OrderView) -> list[str]:
    """What nobody but the order's customer may read."""
    words = [*victim.customer_name.split(), victim.postcode]
    if victim.customer_email:
        words.append(victim.customer_email)
    words += [str(v) for v in victim.delivery_address.values() if v and len(str(v)) > 3]
    words += [line.name for line in victim.lines]
    words += [w for w in (victim.carrier, victim.tracking_number, victim.tracking_url) if w]
    words += ["on its way", "has been delivered", "is confirmed", "Tracking number"]
    return words


def leaked(texts: list[str], victim: OrderView) -> list[str]:
    joined = "\n".join(texts).lower()
    return [word for word in private_details(victim) if word.lower() in joined]


def texts_of(frames: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(frame, ensure_ascii=False) for frame in frames]


# Web chat


async def test_guessing_an_order_number_without_proof_tells_nothing(
    live_server: LiveServer,
) -> None:
    victim = await order(live_server.bot)
    frames: list[dict[str, Any]] = []
    async with chat(live_server) as stranger:
        asked = await stranger.say(f"where is my order {VICTIM}?")
        assert "email address or the delivery postcode" in asked["text"]
        wrong_postcode = await stranger.say("ZZ9 9ZZ")
        frames += [asked, wrong_postcode]
        # an unknown number and a wrong proof get the same answer: existence is not told
        frames.append(await stranger.say("where is my order A-9999?"))
        unknown = await stranger.say("ZZ9 9ZZ")
        frames.append(unknown)
        assert wrong_postcode["text"].replace(VICTIM, "N") == unknown["text"].replace(
            "A-9999", "N")
    assert leaked(texts_of(frames), victim) == []
    assert (await order(live_server.bot)).status == victim.status


async def _press_forged(server: LiveServer, action: str) -> list[dict[str, Any]]:
    """Press a button the bot never offered, in a new chat; everything the chat then holds.

    A turn's replies are committed together, so once its first reply has arrived the
    history holds all of them.
    """
    token = (await open_session(server)).json()["token"]
    async with chat(server, token) as conversation:
        first = await conversation.press(action)
    async with chat(server, token) as again:
        return [first, *again.history]


@pytest.mark.parametrize("flow", FLOWS)
async def test_forged_buttons_naming_another_customers_order_tell_and_change_nothing(
    live_server: LiveServer, flow: str,
) -> None:
    bot = live_server.bot
    victim = await order(bot)
    frames: list[dict[str, Any]] = []
    for action in (f"{flow}:{VICTIM}", f"{flow}:yes:{VICTIM}", f"{flow}:{VICTIM.lower()}",
                   f"{flow}:order:{VICTIM}"):
        frames += await _press_forged(live_server, action)
    assert leaked(texts_of(frames), victim) == [], frames
    after = await order(bot)
    assert (after.status, len(after.history), after.delivery_address) == (
        victim.status, len(victim.history), victim.delivery_address)


async def test_a_session_sees_only_its_own_conversation(live_server: LiveServer) -> None:
    victim = await order(live_server.bot)
    olivia = (await open_session(live_server)).json()
    async with chat(live_server, olivia["token"]) as own:
        await own.say(f"where is my order {VICTIM}?")
        told = await own.say(victim.postcode)
        assert victim.tracking_number and victim.tracking_number in told["text"]
    # another session, even one opened right after, knows nothing of it
    async with chat(live_server) as other:
        assert other.history == []
        frames = [await other.say(f"where is my order {VICTIM}?")]
        assert "postcode" in frames[0]["text"]  # proven in another chat is not proven here
        frames.append(await other.press(f"status:{VICTIM}"))
    assert leaked(texts_of(frames), victim) == []


# Email


async def test_an_email_from_another_address_claiming_an_order_is_told_nothing(
    mail_bot: Orderbot, relay: SmtpRelayDouble,
) -> None:
    victim = await order(mail_bot)
    port = mail_bot.settings.email.listen_port
    first = customer_mail(STRANGER, f"Hi, this is {victim.customer_name}. Where is my order "
                          f"{VICTIM}? I write from my other address.", subject=f"Order {VICTIM}")
    await aiosmtplib.send(first, hostname="127.0.0.1", port=port)
    await mail_bot.inbox.drain()
    [asked] = await relay.wait_for(1, STRANGER)
    assert "email address or the delivery postcode" in asked.text
    wrong = customer_mail(STRANGER, "ZZ9 9ZZ", reply_to=asked)
    await aiosmtplib.send(wrong, hostname="127.0.0.1", port=port)
    await mail_bot.inbox.drain()
    replies = await relay.wait_for(2, STRANGER)
    # the reply quotes what the stranger wrote (the name they typed): judge the bot's words
    texts = [mail.text.split("\nOn ")[0] for mail in replies] + [
        mail.html for mail in replies]
    assert "couldn't find an order" in replies[1].text
    assert leaked([t.replace(victim.customer_name, "") for t in texts], victim) == []
    assert relay.to(victim.customer_email or "") == []  # nothing went to the real customer
    assert (await order(mail_bot)).status == victim.status


# Telegram


async def _telegram_say(server: LiveServer, double: TelegramApiDouble, user: str,
                        text: str) -> list[dict[str, Any]]:
    """Write as `user`; every message the bot sent that chat for it."""
    chat_id = USERS[user]["id"]
    before = len(double.sent(chat_id))
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/telegram/webhook", json=text_update(double.next_update_id(), user, text),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    assert response.status_code == 200
    await server.bot.inbox.drain()
    await server.bot.outbox.drain()
    await double.wait_until(lambda: len(double.sent(chat_id)) > before)
    return double.sent(chat_id)[before:]


async def test_an_order_link_used_from_a_second_chat_opens_that_order_only(
    telegram_server: LiveServer, telegram_api: TelegramApiDouble,
) -> None:
    """A link may be forwarded or read over her shoulder: whoever holds it gets its one order
    (docs/security.md), never the customer: not her other orders, not her identity."""
    bot = telegram_server.bot
    victim = await order(bot)
    other = await order(bot, "A-1027")  # another of Olivia's orders
    async with bot.database.transaction() as session:
        start = f"/start {await bot.orders.issue_link_token(session, VICTIM)}"
    linked = await _telegram_say(telegram_server, telegram_api, "olivia", start)
    assert linked[0]["text"] == f"Hello Olivia! This chat is now linked to your order {VICTIM}."
    second = await _telegram_say(telegram_server, telegram_api, "anna", start)
    assert VICTIM in second[0]["text"]  # told which order the chat now follows
    asked = await _telegram_say(telegram_server, telegram_api, "anna",
                                "where is my order A-1027?")
    assert "postcode of order A-1027" in asked[0]["text"]
    assert leaked([m["text"] for m in asked], other) == []
    async with bot.database.transaction() as session:
        identities = await bot.orders.identities_of(session, victim.customer_id)
    assert "telegram" not in identities  # no chat became hers
    # and the first chat may use its own link again
    again = await _telegram_say(telegram_server, telegram_api, "olivia", start)
    assert again[0]["text"].startswith("Hello Olivia!")

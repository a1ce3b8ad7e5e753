"""Nobody gets into someone else's order (issue 15): the attacks on proving an order, each as
the attacker would try it, and what the bot does instead (docs/security.md).

- a list of guesses in one message is one try, and proves nothing;
- failed proofs lock the order and the client across sessions and bot processes;
- a chat that proved an order by its number and email/postcode sees it, but changes its
  address, cancels it paid or returns it only with the one-time code sent to the customer,
  who hears of the change in a conversation of their own;
- the shop's news of an order go to the customer, and to a chat only if it proved the order
  at the strong level;
- an order's chat link opens that one order, not the customer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from channels.webchat.identity import signed_identity
from composition.bootstrap import Orderbot
from dialog.erasure import erase_customer
from dialog.messages import ConversationKey, Inbound
from orders.service import OrderView
from orders.states import OrderStatus
from orders.tables import Customer
from tests.conftest import BotFactory, LiveServer
from tests.dialog.conftest import Conversation, code_in, sent_code, texts_in
from tests.doubles.smtp_relay import SmtpRelayDouble
from tests.e2e.test_webchat import chat, link_token, open_session, post_event
from tests.reliability.bot_process import BotProcess

VICTIM = "A-1015"  # Olivia Brown's shipped order (DHL), EH1 1YZ, olivia.brown@example.com
OTHER = "A-1017"  # Anna Kowalska, 00-950
LOCKED = "I can't check order details in this chat right now"
ONE_AT_A_TIME = "One thing at a time"


@pytest.fixture
async def bot(make_bot: BotFactory) -> Orderbot:
    return await make_bot()


async def order(bot: Orderbot, number: str) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


async def customer_conversation(bot: Orderbot, number: str) -> ConversationKey:
    """The customer's own conversation, where the shop's news reach them."""
    customer_id = (await order(bot, number)).customer_id
    async with bot.units() as uow:
        state = await bot.store.latest_for_customer(uow, customer_id)
    assert state is not None
    return state.key


def revealed(text: str, victim: OrderView) -> bool:
    """Whether the text tells anything of the order beyond its number."""
    secrets = ["on its way", victim.tracking_number, victim.carrier, victim.lines[0].name]
    return any(word and word in text for word in secrets)


# One try, one order, one proof per message


async def test_a_message_with_many_postcodes_proves_nothing(bot: Orderbot) -> None:
    victim = await order(bot, VICTIM)
    guesses = [f"EH{a} {b}YZ" for a in range(1, 15) for b in range(1, 10)]
    assert "EH1 1YZ" in guesses and len(guesses) > 100
    attacker = Conversation(bot)
    await attacker.say(f"where is my order {VICTIM}?")
    reply = await attacker.say(" ".join(guesses))
    assert ONE_AT_A_TIME in reply
    assert not revealed(reply, victim)
    assert "on its way" not in await attacker.say(f"where is my order {VICTIM}?")


async def test_many_order_numbers_with_the_customers_email_find_nothing(bot: Orderbot) -> None:
    numbers = " ".join(f"A-{n}" for n in range(1001, 1046))
    attacker = Conversation(bot)
    reply = await attacker.say(f"where are my orders {numbers} olivia.brown@example.com")
    # only the first number is looked at (Emma's A-1001): no match, nothing of Olivia's
    assert "I couldn't find an order A-1001" in reply
    assert not any(f"A-{n}" in reply for n in range(1002, 1046))
    async with bot.units() as uow:
        state = await bot.store.load(uow, attacker.key)
    assert state.verified_orders == []


async def test_three_failures_hand_over_and_stop_checking_in_that_chat(bot: Orderbot) -> None:
    victim = await order(bot, VICTIM)
    attacker = Conversation(bot)
    await attacker.say(f"where is my order {VICTIM}?")
    await attacker.say("AB1 1AA")
    await attacker.say("AB1 2AA")
    assert "passing you to a colleague" in await attacker.say("AB1 3AA")
    reply = await attacker.say(f"where is my order {VICTIM}? EH1 1YZ")  # now the right one
    assert LOCKED in reply and not revealed(reply, victim)


async def test_failed_proofs_from_new_chats_lock_the_order_and_unknown_numbers_alike(
    bot: Orderbot, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    victim = await order(bot, VICTIM)
    for number in (VICTIM, "A-9999"):  # an existing order and a number that is none
        for _ in range(5):  # a new chat each time: as a new web chat session would be
            reply = await Conversation(bot).say(f"where is {number}? postcode ZZ9 9ZZ")
            assert "I couldn't find an order" in reply
        right = await Conversation(bot).say(f"where is {number}? postcode EH1 1YZ")
        assert LOCKED in right and not revealed(right, victim)
    # another order is not locked
    assert "InPost" in await Conversation(bot).say(f"where is {OTHER}? postcode 00-950")
    metrics = (await bot.metrics.exposition()).decode()
    assert 'orderbot_proof_lockouts_total{scope="order"} 2.0' in metrics
    lockouts = [r for r in caplog.records if "locked out" in r.getMessage()]
    assert [r.levelno for r in lockouts] == [logging.WARNING] * 2
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert not any(word in logged for word in (VICTIM, "A-9999", "EH1 1YZ", "ZZ9 9ZZ"))


async def test_a_lockout_outlives_a_restart(make_bot: BotFactory, database_url: str) -> None:
    """The counts are the database's: the bot started again on it (on SQLite the embedded bot,
    which kept them in its memory before) still refuses the order's proofs."""
    first = await make_bot(database_url)
    number = "A-1019"  # Emma Thompson's shipped order, SW1A 1AA
    for _ in range(5):
        await Conversation(first).say(f"where is {number}? postcode ZZ9 9ZZ")
    restarted = await make_bot(database_url)
    assert LOCKED in await Conversation(restarted).say(f"where is {number}? postcode SW1A 1AA")


async def test_two_bots_on_one_database_count_the_same_failures(
    make_bot: BotFactory, postgres_url: str, redis_url: str,
) -> None:
    sections = {"redis": {"url": redis_url}}
    first = await make_bot(postgres_url, process={"name": "bot-1"}, **sections)
    second = await make_bot(postgres_url, process={"name": "bot-2"}, **sections)
    number = "A-1019"  # Emma Thompson's shipped order, SW1A 1AA
    for bot in (first, second, first, second, first):
        await Conversation(bot).say(f"where is {number}? postcode ZZ9 9ZZ")
    for bot in (first, second):
        assert LOCKED in await Conversation(bot).say(f"where is {number}? postcode SW1A 1AA")


async def test_guesses_at_once_on_two_bots_are_each_counted(
    make_bot: BotFactory, postgres_url: str, redis_url: str,
) -> None:
    """Ten wrong guesses at the same moment, half on each process: each guess checked is
    counted once (the count's row is held by one turn at a time), so every fifth locks."""
    sections = {"redis": {"url": redis_url}}
    bots = [await make_bot(postgres_url, process={"name": f"bot-{i}"}, **sections)
            for i in range(2)]
    number = "A-1019"
    replies = await asyncio.gather(*(
        Conversation(bots[guess % 2]).say(f"where is {number}? postcode ZZ{guess} 9ZZ")
        for guess in range(10)))
    checked = sum("I couldn't find an order" in reply for reply in replies)
    # a guess that read its lockouts after the fifth failure had committed is refused unchecked
    assert checked + sum(LOCKED in reply for reply in replies) == 10
    assert checked >= 5  # nothing was locked before five failures were counted

    def total(metric: str, texts: list[str]) -> float:
        found = [re.search(re.escape(metric) + r" ([0-9.]+)", text) for text in texts]
        return sum(float(match.group(1)) for match in found if match)

    exposed = [(await bot.metrics.exposition()).decode() for bot in bots]
    assert total('orderbot_proof_failures_total{level="basic"}', exposed) == checked
    assert total('orderbot_proof_lockouts_total{scope="order"}', exposed) == checked // 5
    assert LOCKED in await Conversation(bots[0]).say(f"where is {number}? postcode SW1A 1AA")


async def test_two_bot_processes_on_one_database_lock_the_order_together(
    redis_url: str, postgres_url: str, tmp_path: Path,
) -> None:
    """Real `python bot.py` processes behind a load balancer, on one PostgreSQL and one Redis:
    each takes some of the guesses (web chat sessions), and the order is locked on both."""
    bots = [BotProcess.make(postgres_url, tmp_path / f"bot{index}.log",
                            redis={"url": redis_url}, process={"name": f"bot-{index}"})
            for index in range(2)]
    number = "A-1021"  # Иван Петров's shipped order, 101000
    try:
        for process in bots:
            await process.start()
        for guess in range(5):
            async with chat(bots[guess % 2]) as attacker:  # type: ignore[arg-type]
                reply = await attacker.say(f"where is {number}? postcode 99-{guess:03d}")
                assert f"I couldn't find an order {number}" in reply["text"]
        for process in bots:
            async with chat(process) as attacker:  # type: ignore[arg-type]
                reply = await attacker.say(f"where is {number}? postcode 101000")
            assert LOCKED in reply["text"] and "DHL" not in reply["text"]
    finally:
        for process in bots:
            await process.stop()


async def test_one_address_is_locked_across_sessions_and_the_lockouts_are_in_metrics(
    live_server: LiveServer,
) -> None:
    victim = await order(live_server.bot, VICTIM)
    for guess in range(10):  # each from a new session, each about another number
        async with chat(live_server) as attacker:
            reply = await attacker.say(f"where is A-{9100 + guess}? postcode ZZ9 9ZZ")
            assert "I couldn't find an order" in reply["text"]
    async with chat(live_server) as attacker:
        reply = await attacker.say(f"where is {VICTIM}? postcode EH1 1YZ")
    assert LOCKED in reply["text"] and not revealed(reply["text"], victim)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        metrics = (await client.get("/metrics")).text
    assert 'orderbot_proof_failures_total{level="basic"} 10.0' in metrics
    assert 'orderbot_proof_lockouts_total{scope="client"} 1.0' in metrics


# The strong level: what a basic proof does not allow


async def test_a_basic_proof_changes_no_address_without_the_code(bot: Orderbot) -> None:
    number = "A-1009"  # Иван Петров, 101000, confirmed, courier
    before = await order(bot, number)
    attacker = Conversation(bot)
    await attacker.say(f"change the delivery of {number}, postcode 101000")
    asked = await attacker.press("Address")
    assert "6-digit code" in asked
    code, where = await sent_code(bot, number)
    assert where != attacker.key and code not in asked  # never to the asking chat
    await attacker.say("Baker Street 221B, London NW1 6XE")  # not a code: nothing changes
    wrong = "000000" if code != "000000" else "111111"
    assert "That code is not right" in await attacker.say(wrong)
    assert (await order(bot, number)).delivery_address == before.delivery_address


async def test_with_the_code_the_address_changes_and_the_customer_is_told(bot: Orderbot) -> None:
    number = "A-1009"
    customer = Conversation(bot)  # proves the order by its postcode, then types the code
    await customer.say(f"change the delivery of {number}, postcode 101000")
    await customer.press("Address")
    code, own = await sent_code(bot, number)
    assert "type the new delivery address" in await customer.say(code)
    done = await customer.say("Baker Street 221B, London NW1 6XE")
    assert "Baker Street 221B" in done
    assert (await order(bot, number)).delivery_address["postcode"] == "NW1 6XE"
    told = await texts_in(bot, own)
    assert any("was changed in a chat with us" in text or "изменён в чате" in text
               for text in told), told


async def test_a_paid_order_is_cancelled_only_with_the_code(bot: Orderbot) -> None:
    number = "A-1014"  # James Wilson, M1 1AE, card, paid
    attacker = Conversation(bot)
    assert "6-digit code" in await attacker.say(f"cancel my order {number}, postcode M1 1AE")
    forged = await bot.manager.handle(  # the yes button of a question never asked
        Inbound(key=attacker.key, action=f"cancel:yes:{number}"))
    assert "is cancelled" not in " ".join(reply.text for reply in forged)
    assert (await order(bot, number)).status is OrderStatus.CONFIRMED
    code, own = await sent_code(bot, number)
    assert f"Cancel order {number}?" in await attacker.say(code)
    assert "is cancelled" in await attacker.say("yes")
    assert (await order(bot, number)).status is OrderStatus.CANCELLED
    assert any(f"Your order {number} was cancelled in a chat with us" in text
               for text in await texts_in(bot, own))


async def test_an_unpaid_order_is_cancelled_on_the_basic_proof(bot: Orderbot) -> None:
    number = "A-1041"  # Sophie Turner, LS1 1UR, confirmed, unpaid transfer
    customer = Conversation(bot)
    assert f"Cancel order {number}?" in await customer.say(f"cancel {number}, postcode LS1 1UR")
    assert "is cancelled" in await customer.say("yes")


async def test_a_return_needs_the_code_that_went_to_the_orders_email(
    mail_bot: Orderbot, relay: SmtpRelayDouble,
) -> None:
    number, email = "A-1025", "emma.thompson@example.com"  # delivered, SW1A 1AA
    chat_ = Conversation(mail_bot)
    asked = await chat_.say(f"I want to return order {number}, postcode SW1A 1AA")
    assert "6-digit code" in asked
    [mail] = await relay.wait_for(1, email)
    code = code_in(mail_bot, mail.text)
    assert code is not None and code not in asked
    assert "If it was not you, ignore this message" in mail.text
    offer = await chat_.say(code)
    assert f"You can return items from order {number}" in offer
    await chat_.say("all")
    await chat_.press("Damaged or faulty")
    await chat_.press("I have no photo")
    done = await chat_.press("Drop-off point")
    rma = re.search(r"R-\d{4}-\d{6}", done)
    assert rma is not None
    notices = await relay.wait_for(2, email)
    assert any(f"A return ({rma.group()}) was opened for your order {number}" in m.text
               for m in notices)


# News of an order go to its customer


async def test_a_basic_proof_watcher_gets_no_shipped_news_the_customer_does(
    live_server: LiveServer,
) -> None:
    bot = live_server.bot
    number = "A-1013"  # Emma Thompson, SW1A 1AA, confirmed
    watcher = Conversation(bot)
    assert "is confirmed" in await watcher.say(f"where is {number}? postcode SW1A 1AA")
    await post_event(live_server, number, type="shipped", carrier="DPD",
                     tracking_number="DPD-SECRET-1", tracking_url="https://dpd.example/1")
    assert not any("DPD-SECRET-1" in text for text in await texts_in(bot, watcher.key))
    own = await customer_conversation(bot, number)
    assert any("DPD-SECRET-1" in text for text in await texts_in(bot, own))


async def test_a_chat_opened_by_the_link_gets_a_copy_besides_the_customer(
    live_server: LiveServer,
) -> None:
    bot = live_server.bot
    number = "A-1013"
    linked = (await open_session(live_server, link=await link_token(live_server, number))).json()
    await post_event(live_server, number, type="shipped", carrier="DPD",
                     tracking_number="DPD-COPY-2", tracking_url="https://dpd.example/2")
    link_chat = ConversationKey("webchat", linked["conversation_id"])
    assert any("DPD-COPY-2" in text for text in await texts_in(bot, link_chat))
    own = await customer_conversation(bot, number)
    assert own != link_chat
    assert any("DPD-COPY-2" in text for text in await texts_in(bot, own))


async def test_a_chat_that_proved_an_order_by_postcode_is_erased_with_its_customer(
    bot: Orderbot,
) -> None:
    """No news goes there, yet it is still one of the chats that talked about the order."""
    anonymous = Conversation(bot)
    assert "on its way" in await anonymous.say(f"where is {VICTIM}? postcode EH1 1YZ")
    customer_id = (await order(bot, VICTIM)).customer_id
    async with bot.units() as uow:
        await erase_customer(uow, customer_id)
        await uow.commit()
    assert await texts_in(bot, anonymous.key) == []


# A chat link opens one order


async def test_a_link_opens_its_one_order_not_the_customer(live_server: LiveServer) -> None:
    bot = live_server.bot
    email = "olivia.brown@example.com"
    secret = bot.settings.webchat.identity_secret
    signed = {"customer": {"email": email}, **signed_identity(secret, email)}
    async with chat(live_server, **signed) as olivia:  # her own, signed-in conversation
        await olivia.say("hello, my private note: blue door")
    linked = (await open_session(live_server, link=await link_token(live_server, VICTIM))).json()
    async with chat(live_server, linked["token"]) as holder:
        assert not any("blue door" in m["text"] for m in holder.history)  # not her history
        told = await holder.say(f"where is my order {VICTIM}?")
        assert "on its way with DHL" in told["text"]  # the linked order, without a proof
        other = await holder.say("where is my order A-1027?")  # another of hers
        assert "postcode" in other["text"]
    async with bot.units() as uow:
        customer = await uow.session.scalar(select(Customer).where(Customer.email == email))
        state = await bot.store.load(uow, ConversationKey("webchat",
                                                              linked["conversation_id"]))
    assert customer is not None and state.customer_id is None
    assert state.strong_orders == [VICTIM]

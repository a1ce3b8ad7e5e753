"""Payment, credit check, vouchers, the one accessory, and reminders in the confirmation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from composition.bootstrap import Orderbot
from dialog.tables import Conversation as ConversationRow
from orders.states import OrderStatus
from storage.clock import utcnow
from tests.conftest import BotFactory
from tests.dialog.confirm_helpers import act, order, shop_creates, verified

MONITORS = ("MN-400", "27\" monitor", 4, 28900)  # 1,156.00 EUR: over the local credit limit
KEYBOARD = ("KB-110", "Wireless keyboard", 1, 4900)


async def to_payment(conversation) -> None:  # type: ignore[no-untyped-def]
    await conversation.say("yes")
    await to_payment_method(conversation)


async def to_payment_method(conversation) -> None:  # type: ignore[no-untyped-def]
    await conversation.say("pickup point")
    await conversation.say("1")


async def test_cash_on_delivery_above_the_limit_is_refused_and_prepayment_offered(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(shop={"cod_credit_check_above": 100})
    conversation, _ = await shop_creates(bot, "C-200", [MONITORS])
    await to_payment(conversation)
    reply = await conversation.say("cash on delivery")
    assert "can't offer cash on delivery for 1156.00 EUR" in reply
    assert [b.title for b in conversation.buttons] == ["Card", "Bank transfer",
                                                       "Talk to a person"]
    assert "voucher" in await conversation.say("card")


async def test_insisting_on_cash_after_a_refusal_goes_to_a_person(make_bot: BotFactory) -> None:
    bot = await make_bot(shop={"cod_credit_check_above": 100})
    conversation, _ = await shop_creates(bot, "C-201", [MONITORS])
    await to_payment(conversation)
    await conversation.say("cash on delivery")
    assert "passing you to a colleague" in await conversation.press("Talk to a person")
    async with bot.database.transaction() as session:
        reason = await session.scalar(select(ConversationRow.escalation_reason).where(
            ConversationRow.chat_id == conversation.key.chat_id))
    assert reason == "credit_check_refused"


async def test_cash_on_delivery_below_the_threshold_needs_no_check(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "C-202", [KEYBOARD])  # threshold 500 EUR
    await to_payment(conversation)
    reply = await conversation.say("3")
    assert "can't offer" not in reply and "voucher" in reply


async def test_voucher_misuse_is_refused_politely_and_one_code_per_order(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "C-203", [KEYBOARD])
    await to_payment(conversation)
    await conversation.say("card")
    assert "I don't know the code NOPE123" in await conversation.say("nope123")
    assert "the code SUMMER15 has expired" in await conversation.say("SUMMER15")
    assert "the code THANKYOU20 has already been used" in await conversation.say("thankyou20")
    assert "works for orders from 100.00 EUR" in await conversation.say("SAVE5")
    reply = await conversation.say("LOYAL-2024")
    assert "Code LOYAL-2024 takes 2.45 EUR off. New total: 46.55 EUR." in reply
    if "Would you like to add" in reply:
        await conversation.say("no")
    assert "Only one code per order" in await conversation.say("WELCOME10")
    assert "is confirmed (46.55 EUR)" in await conversation.say("confirm")


async def test_one_accessory_is_offered_once_and_added_on_yes(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "C-204", [KEYBOARD])
    await to_payment(conversation)
    await conversation.say("card")
    reply = await conversation.say("no code")
    assert "Would you like to add HDMI cable 1.5 m for 11.00 EUR?" in reply
    reply = await conversation.say("add it")
    assert "HDMI cable 1.5 m is added. New total: 60.00 EUR." in reply
    # Going through it again offers nothing more.
    await act(conversation, "confirm:start:C-204")
    await to_payment(conversation)
    await conversation.say("card")
    reply = await conversation.say("no code")
    assert "Would you like to add" not in reply and "Please check your order C-204" in reply
    assert [line.sku for line in (await order(bot, "C-204")).lines] == ["KB-110", "CB-510"]


async def test_no_answer_brings_a_reminder_then_an_operator(bot: Orderbot) -> None:
    conversation, first = await shop_creates(bot, "C-205", [KEYBOARD])
    now = utcnow()
    await bot.jobs.run_due(now + timedelta(minutes=59))
    async with bot.units() as uow:
        _lang, history = await bot.store.history(uow, conversation.key)
    assert history[-1].text == first
    await bot.jobs.run_due(now + timedelta(minutes=61))
    async with bot.units() as uow:
        _lang, history = await bot.store.history(uow, conversation.key)
    assert "C-205 (49.00 EUR) at Demo Shop is still waiting for your confirmation" in \
        history[-1].text
    assert [b.title for b in history[-1].buttons] == ["Yes, let's confirm", "Cancel the order"]
    await bot.jobs.run_due(now + timedelta(minutes=121))
    async with bot.units() as uow:
        row = await uow.session.scalar(select(ConversationRow).where(
            ConversationRow.chat_id == conversation.key.chat_id))
        _lang, history = await bot.store.history(uow, conversation.key)
        assert row is not None
        assert (row.status, row.escalation_reason) == ("escalated", "confirmation_unanswered")
    assert "a colleague will get in touch" in history[-1].text


async def test_an_answer_cancels_the_reminder_and_the_escalation(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "C-206", [KEYBOARD])
    await conversation.say("yes")
    async with bot.units() as uow:
        _lang, before = await bot.store.history(uow, conversation.key)
    await bot.jobs.run_due(utcnow() + timedelta(hours=3))
    async with bot.units() as uow:
        _lang, after = await bot.store.history(uow, conversation.key)
        row = await uow.session.scalar(select(ConversationRow).where(
            ConversationRow.chat_id == conversation.key.chat_id))
        assert len(after) == len(before) and row is not None and row.status == "bot"


async def test_a_reminder_for_an_order_decided_meanwhile_says_nothing(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "C-207", [KEYBOARD])
    async with bot.units() as uow:
        await bot.orders.move(uow.session, "C-207", OrderStatus.CANCELLED, "shop")
        _lang, before = await bot.store.history(uow, conversation.key)
        await uow.commit()
    await bot.jobs.run_due(utcnow() + timedelta(hours=3))
    async with bot.units() as uow:
        _lang, after = await bot.store.history(uow, conversation.key)
    assert len(after) == len(before)


async def test_a_question_at_the_voucher_step_is_answered_then_the_confirmation_resumes(
    bot: Orderbot,
) -> None:
    conversation = await verified(bot, "A-1003")
    await act(conversation, "confirm:start:A-1003")
    await act(conversation, "confirm:begin:go")
    await to_payment_method(conversation)
    assert "voucher" in await conversation.say("card")
    reply = await conversation.say("where is my order A-1015")
    assert "the code" not in reply and "WHEREISMYORDER" not in reply
    assert "A-1015" in conversation.replies[0].text  # the status flow answers
    assert "Shall we go back to confirming your order" in reply
    reply = await conversation.press("Continue with confirming your order")
    assert "Do you have a voucher or loyalty code?" in reply
    reply = await conversation.say("hello there, 5 times")  # nonsense: a polite re-ask
    assert "I don't know the code" not in reply
    assert "Please choose one of these" in reply and "Do you have a voucher" in reply
    assert "Code WELCOME10 takes" in await conversation.say("“welcome10”.")


async def test_a_sentence_at_the_final_step_is_not_a_second_code(bot: Orderbot) -> None:
    conversation = await verified(bot, "A-1003")
    await act(conversation, "confirm:start:A-1003")
    await act(conversation, "confirm:begin:go")
    await to_payment_method(conversation)
    await conversation.say("card")
    reply = await conversation.say("LOYAL-2024")
    if "Would you like to add" in reply:
        reply = await conversation.say("no")
    assert "Please check your order A-1003" in reply
    reply = await conversation.say("where is my order A-1015")
    assert "Only one code per order" not in reply and "A-1015" in reply
    assert "Please check your order A-1003" in await conversation.press(
        "Continue with confirming your order")
    assert "Only one code per order" in await conversation.say("welcome10")


async def test_a_code_typed_at_the_final_step_after_no_code_is_applied(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "V-300", [KEYBOARD])
    await to_payment(conversation)
    await conversation.say("card")
    reply = await conversation.say("no code")
    if "Would you like to add" in reply:
        reply = await conversation.say("no")
    assert "Please check your order V-300" in reply and "WELCOME10" not in reply
    reply = await conversation.say("WELCOME10")
    assert "Code WELCOME10 takes 4.90 EUR off. New total: 44.10 EUR." in reply
    assert "Please check your order V-300" in reply and "Total: 44.10 EUR" in reply

"""Return / withdrawal as a customer lives it: prove the order, choose lines and quantities
(buttons or words), a reason, a method; get an RMA number and a label. Refusals offer a
colleague instead of a flat no."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.messages import Inbound
from dialog.tables import Conversation as ConversationRow
from orders.states import OrderStatus
from orders.tables import Customer, Order, Return
from storage.clock import utcnow
from tests.attachment_files import photo_with_gps, plain_pdf
from tests.dialog.conftest import Conversation


@pytest.fixture
def conversation(bot: Orderbot) -> Conversation:
    """These customers prove their orders by email/postcode, so a change that needs the
    strong level (docs/security.md) has them type the one-time code sent to them."""
    return Conversation(bot, answers_codes=True)


# From the demo shop (orders/demo.py); all delivered a few days ago unless said otherwise.
HEADPHONES_SPEAKERS = "A-1027"  # Olivia Brown, EH1 1YZ: headphones 1, speaker 2, cable 1
KEYBOARDS = "A-1026"  # James Wilson, M1 1AE: 2 mechanical keyboards, 1 wireless keyboard
SLEEVE_LAMPS = "A-1029"  # Anna Kowalska (pl), 00-950: sleeve 1, desk lamp 2
WITH_GIFT_CARD = "A-1030"  # Piotr Nowak, 30-001: SSD 2, microSD 1, gift card 2
ONE_SSD = "A-1025"  # Emma Thompson, SW1A 1AA: SSD 1
SHIPPED_RU = "A-1021"  # Иван Петров, 101000: shipped (delivered in the test)
SHIPPED = "A-1015"  # Olivia Brown
RETURN_BY_SHOP = "A-1037"  # Emma Thompson: return_requested when seeded


def listed(text: str) -> list[str]:
    """The names the text numbers, checked to be numbered 1, 2, 3... in order."""
    found = re.findall(r"^(\d+)\. (.+?) × \d+", text, re.MULTILINE)
    assert [int(index) for index, _ in found] == list(range(1, len(found) + 1)), text
    return [name for _, name in found]


async def status_of(bot: Orderbot, number: str) -> OrderStatus:
    async with bot.database.transaction() as session:
        order = await bot.orders.get_order(session, number)
    assert order is not None
    return order.status


async def escalation_reason(conversation: Conversation) -> str | None:
    async with conversation.bot.database.transaction() as session:
        row = await session.scalar(select(ConversationRow).where(
            ConversationRow.channel == conversation.key.channel,
            ConversationRow.chat_id == conversation.key.chat_id,
        ))
    assert row is not None
    return row.escalation_reason


async def delivered_days_ago(bot: Orderbot, number: str, days: int) -> None:
    async with bot.database.transaction() as session:
        await session.execute(update(Order).where(Order.number == number)
                              .values(delivered_at=utcnow() - timedelta(days=days)))


async def test_buttons_all_the_way_to_an_rma_and_a_label(
    conversation: Conversation, bot: Orderbot
) -> None:
    assert "postcode" in await conversation.say(f"I want to return order {HEADPHONES_SPEAKERS}")
    offer = await conversation.say("EH1 1YZ")
    assert "1. Noise-cancelling headphones × 1, 199.00 EUR each" in offer
    assert "2. Bluetooth speaker × 2, 69.00 EUR each" in offer
    assert [b.title for b in conversation.buttons] == [
        "Noise-cancelling headphones", "Bluetooth speaker", "USB-C cable 2 m", "All items"]
    assert "(1 to 2)" in await conversation.press("Bluetooth speaker")
    assert "So far: 2 × Bluetooth speaker" in await conversation.press("2")
    assert "Why are you returning 2 × Bluetooth speaker?" in await conversation.press("Continue")
    assert "photo of the damage" in await conversation.press("Damaged or faulty")
    assert "How would you like" in await conversation.press("I have no photo")
    done = await conversation.press("Drop-off point")

    assert re.search(r"Your return R-\d{4}-\d{6} for order A-1027 is registered", done)
    assert "2 × Bluetooth speaker" in done and "refund 138.00 EUR" in done
    assert "drop-off point" in done
    assert await status_of(bot, HEADPHONES_SPEAKERS) is OrderStatus.RETURN_REQUESTED
    label_url = next(line for line in done.splitlines() if "(PDF)" in line).split(": ", 1)[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://test") as client:
        label = await client.get(httpx.URL(label_url).path)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    async with bot.database.transaction() as session:
        row = await session.scalar(select(Return))
    assert row is not None and row.reason == "damaged" and row.method == "drop_off"
    assert row.rma in done


async def test_free_text_lines_quantities_reason_and_method(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"return {KEYBOARDS}, james.wilson@example.com")
    unclear = await conversation.say("1 keyboard")  # two keyboards in the order
    assert "didn't catch which items" in unclear
    assert "So far: 1 × Mechanical keyboard" in await conversation.say("1 mechanical keyboard")
    assert "Why are you returning" in await conversation.say("that's all")
    await conversation.say("The keys are too loud")
    assert "Please choose" in await conversation.say("banana")  # a polite re-ask
    done = await conversation.say("courier")
    assert "a courier will collect it at 1 Piccadilly, M1 1AE, Manchester" in done
    assert "refund 89.00 EUR" in done
    async with bot.database.transaction() as session:
        row = await session.scalar(select(Return))
    assert row is not None and row.reason == "The keys are too loud"
    assert row.method == "courier_pickup" and row.lines[0]["quantity"] == 1


async def test_too_many_is_refused_politely(conversation: Conversation) -> None:
    await conversation.say(f"return {KEYBOARDS} M1 1AE")
    assert "at most 2 × Mechanical keyboard" in await conversation.say("3 mechanical keyboards")
    assert "So far: 2 × Mechanical keyboard" in await conversation.say(
        "2 mechanical keyboards")


async def test_polish_customer_returns_everything(
    conversation: Conversation, bot: Orderbot
) -> None:
    assert "kod pocztowy" in await conversation.say(f"Chcę zwrócić zamówienie {SLEEVE_LAMPS}")
    assert "Które chcesz odesłać?" in await conversation.say("00-950")
    reason = await conversation.say("wszystko")
    assert "Dlaczego zwracasz: 1 × Etui na laptopa 14\", 2 × Lampka biurkowa?" in reason
    await conversation.press("Nie pasuje")
    done = await conversation.press("Odbiór przez kuriera")
    assert done.startswith("Gotowe! Twój zwrot R-")
    assert "zwrócimy Ci 103,00 EUR" in done
    assert "ul. Marszałkowska 1, 00-950, Warszawa" in done
    assert await status_of(bot, SLEEVE_LAMPS) is OrderStatus.RETURN_REQUESTED


async def test_russian_customer_returns_one_of_two(
    conversation: Conversation, bot: Orderbot
) -> None:
    async with bot.database.transaction() as session:
        await bot.orders.apply_event(session, SHIPPED_RU, "delivered", "test")
    assert "индекс" in await conversation.say(f"Хочу вернуть заказ {SHIPPED_RU}")
    offer = await conversation.say("101000")
    assert "2. Беспроводная клавиатура × 2, 49,00 EUR за штуку" in offer
    assert "от 1 до 2" in await conversation.press("Беспроводная клавиатура")
    assert "Пока выбрано: 1 × Беспроводная клавиатура" in await conversation.say("1")
    await conversation.press("Дальше")
    await conversation.say("Клавиши заедают")
    done = await conversation.press("Пункт приёма")
    assert done.startswith("Готово! Ваш возврат R-") and "мы вернём вам 49,00 EUR" in done


async def test_gift_card_is_not_returnable_and_a_colleague_is_offered(
    conversation: Conversation,
) -> None:
    await conversation.say(f"I want to return order {WITH_GIFT_CARD}")
    offer = await conversation.say("30-001")
    assert "• Gift card 50 EUR × 2: cannot be returned" in offer
    assert "Ask a colleague" in [b.title for b in conversation.buttons]
    refused = await conversation.say("2 gift cards")
    assert "Gift card 50 EUR cannot be returned" in refused
    assert "passing you to a colleague" in await conversation.press("Ask a colleague")
    assert await escalation_reason(conversation) == "return_exception"


async def test_a_number_picks_the_item_listed_under_it(conversation: Conversation) -> None:
    """The gift card is listed without a number, so "3" cannot seem to mean it: the numbered
    lines are the first buttons, and "3" is the third button, "All items"."""
    await conversation.say(f"I want to return order {WITH_GIFT_CARD}")
    offer = await conversation.say("30-001")
    titles = [b.title for b in conversation.buttons]
    assert listed(offer) == ["SSD 1 TB", "microSD card 128 GB"] == titles[:2]
    assert titles[2:] == ["All items", "Ask a colleague"]
    assert "\n• Gift card 50 EUR × 2: cannot be returned (gift cards and similar items)" in offer
    assert "Why are you returning 2 × SSD 1 TB, 1 × microSD card 128 GB?" in (
        await conversation.say("3"))


async def test_after_a_choice_the_items_left_are_listed_with_the_numbers_that_pick_them(
    conversation: Conversation,
) -> None:
    await conversation.say(f"return {HEADPHONES_SPEAKERS} EH1 1YZ")
    so_far = await conversation.say("1")
    assert "So far: 1 × Noise-cancelling headphones." in so_far
    titles = [b.title for b in conversation.buttons]
    assert listed(so_far) == ["Bluetooth speaker", "USB-C cable 2 m"] == titles[:2]
    assert titles[2:] == ["Continue"]
    assert "So far: 1 × Noise-cancelling headphones, 1 × USB-C cable 2 m." in (
        await conversation.say("2"))
    assert "(1 to 2)" in await conversation.say("1")  # the speaker, now listed first


async def test_a_number_past_the_listed_items_is_asked_again(conversation: Conversation) -> None:
    await conversation.say(f"return {HEADPHONES_SPEAKERS} EH1 1YZ")
    await conversation.say("1")
    assert "didn't catch which items" in await conversation.say("7")


async def test_day_14_is_in_and_day_15_offers_a_colleague(
    conversation: Conversation, bot: Orderbot
) -> None:
    await delivered_days_ago(bot, ONE_SSD, 14)
    assert "Which would you like to send back?" in await conversation.say(
        f"return {ONE_SSD} SW1A 1AA")
    await delivered_days_ago(bot, ONE_SSD, 15)
    late = await conversation.say(f"I want to return {ONE_SSD}")
    assert "The 14-day return period for order A-1025 ended on" in late
    assert [b.title for b in conversation.buttons] == ["Ask a colleague"]
    await conversation.press("Ask a colleague")
    assert await escalation_reason(conversation) == "return_exception"
    assert await status_of(bot, ONE_SSD) is OrderStatus.DELIVERED


async def test_an_order_on_its_way_cannot_be_returned_yet(conversation: Conversation) -> None:
    reply = await conversation.say(f"return {SHIPPED} olivia.brown@example.com")
    assert "hasn't been delivered yet" in reply and "14 days" in reply
    assert [b.title for b in conversation.buttons] == ["Ask a colleague"]


async def test_a_second_request_shows_the_return_in_progress(conversation: Conversation) -> None:
    await conversation.say(f"return {ONE_SSD} SW1A 1AA")
    await conversation.say("all")
    await conversation.press("Changed my mind")
    done = await conversation.press("Courier pickup")
    again = await conversation.say(f"can I return {ONE_SSD}?")
    rma = done.split("Your return ", 1)[1].split(" ", 1)[0]
    assert f"There is already a return for order {ONE_SSD}: {rma}" in again
    assert "already under way" in await conversation.say(f"return {RETURN_BY_SHOP} SW1A 1AA")


async def test_someone_elses_order_is_not_revealed(conversation: Conversation) -> None:
    await conversation.say(f"I want to return {HEADPHONES_SPEAKERS}")
    wrong = await conversation.say("anna.kowalska@example.com")
    other = Conversation(conversation.bot)
    await other.say("I want to return A-9999")
    unknown = await other.say("anna.kowalska@example.com")
    assert "doesn't match" in wrong and "headphones" not in wrong.lower()
    assert wrong.replace(HEADPHONES_SPEAKERS, "N") == unknown.replace("A-9999", "N")


async def test_signed_in_customer_with_one_delivered_order_goes_straight_to_it(
    bot: Orderbot,
) -> None:
    async with bot.database.transaction() as session:
        emma = await session.scalar(
            select(Customer.id).where(Customer.email == "emma.thompson@example.com"))
    conversation = Conversation(bot, customer_id=emma)
    offer = await conversation.say("I want to return something")
    assert f"items from order {ONE_SSD}" in offer and "1. SSD 1 TB × 1" in offer


async def test_changing_the_subject_mid_return_is_answered(conversation: Conversation) -> None:
    await conversation.say(f"return {KEYBOARDS} M1 1AE")
    reply = await conversation.say(f"actually, where is my order {SHIPPED}?")
    assert "email address or the delivery postcode of order A-1015" in reply


async def test_an_old_button_starts_over_instead_of_failing(bot: Orderbot) -> None:
    conversation = Conversation(bot, answers_codes=True)  # a new chat: no return in progress
    replies = await bot.manager.handle(Inbound(key=conversation.key, action="returns:line:2"))
    assert [reply.text for reply in replies] == [
        "Which order would you like to return items from? Please give me its order number."]


async def test_three_wrong_proofs_hand_over_to_a_person(conversation: Conversation) -> None:
    await conversation.say(f"I want to return {HEADPHONES_SPEAKERS}")
    assert "doesn't match" in await conversation.say("wrong@example.com")
    assert [b.title for b in conversation.buttons] == ["Talk to a person"]
    await conversation.say("00-001")
    reply = await conversation.say("nobody@example.com")
    assert "passing you to a colleague" in reply and "headphones" not in reply.lower()
    assert await escalation_reason(conversation) == "verification_failed"


async def test_a_status_question_instead_of_the_number_is_answered_as_one(
    conversation: Conversation,
) -> None:
    assert "order number" in await conversation.say("I want to return something")
    assert "postcode" in await conversation.say(f"where is my order {SHIPPED}?")
    reply = await conversation.say("EH1 1YZ")
    assert f"Order {SHIPPED} is on its way" in reply


async def test_a_damaged_item_is_asked_for_a_photo_which_the_return_keeps(
    conversation: Conversation, bot: Orderbot
) -> None:
    await conversation.say(f"I want to return order {HEADPHONES_SPEAKERS}")
    await conversation.say("EH1 1YZ")
    await conversation.press("Bluetooth speaker")
    await conversation.press("1")
    await conversation.press("Continue")
    asked = await conversation.press("Damaged or faulty")
    assert "Could you send a photo of the damage?" in asked
    assert [b.title for b in conversation.buttons] == ["I have no photo"]
    # words are no photo: asked again, the way out still offered
    assert "Please send a photo" in await conversation.say("hm, it is scratched")
    files = bot.console.attachments
    assert files is not None
    photo = await files.keep(conversation.key, "speaker.jpg", photo_with_gps())
    method = await conversation._send(Inbound(key=conversation.key, attachments=(photo.id,)))
    assert "the photo is added to your return" in method and "How would you like" in method
    done = await conversation.press("Drop-off point")

    rma = re.search(r"R-\d{4}-\d{6}", done)
    assert rma is not None
    async with bot.database.transaction() as session:
        row = await session.scalar(select(Return).where(Return.rma == rma.group()))
    assert row is not None and row.reason == "damaged" and row.photo == photo.id
    # the operators see it with the message that carried it
    shown = await files.for_operator(photo.id)
    assert shown is not None and shown.ref.name == "speaker.jpg"


async def test_a_file_alone_outside_any_question_is_acknowledged(
    conversation: Conversation, bot: Orderbot
) -> None:
    files = bot.console.attachments
    assert files is not None
    pdf = await files.keep(conversation.key, "invoice.pdf", plain_pdf())
    answer = await conversation._send(Inbound(key=conversation.key, attachments=(pdf.id,)))
    assert "I've got your file" in answer
    _language, history = await bot.conversations.history(conversation.key)
    assert [a.name for a in history[0].attachments] == ["invoice.pdf"]

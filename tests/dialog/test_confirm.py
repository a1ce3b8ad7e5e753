"""The order confirmation conversation: summary, stock, delivery, payment, voucher,
one accessory, confirm or decline — by buttons and by free text, in three languages."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from dialog.tables import Conversation as ConversationRow
from orders.tables import Backorder, Product
from tests.dialog.confirm_helpers import act, fix_clock, order, shop_creates, verified

KEYBOARD = ("KB-110", "Wireless keyboard", 1, 4900)  # computers, 40 in stock
CABLE = ("CB-500", "USB-C cable 2 m", 2, 1200)  # accessories
ERGO_MOUSE = ("MS-210", "Ergonomic mouse", 1, 5900)  # out of stock, back in 6 days


async def stock(bot: Orderbot, sku: str) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(Product.stock).where(Product.sku == sku)) or 0)


async def test_new_order_is_summed_up_and_confirmed_by_free_text(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation, first = await shop_creates(bot, "B-100", [KEYBOARD, CABLE])
    assert first.startswith("Thank you for your order B-100 at Demo Shop!")
    assert "1 × Wireless keyboard — 49.00 EUR" in first
    assert "2 × USB-C cable 2 m — 24.00 EUR" in first and "Total: 73.00 EUR" in first
    before = await stock(bot, "KB-110")

    assert "How would you like to receive" in await conversation.say("yes")
    assert "Which day?" in await conversation.say("courier")
    assert "At what time on 25 Nov 2026?" in await conversation.say("tomorrow")
    assert "How would you like to pay?" in await conversation.say("9-12")
    assert "voucher" in await conversation.say("2")  # bank transfer
    reply = await conversation.say("welcome10")
    assert "Code WELCOME10 takes 7.30 EUR off. New total: 65.70 EUR." in reply
    assert "Would you like to add" in reply  # the accessory, once
    reply = await conversation.say("no thanks")
    assert "Delivery: courier on 25 Nov 2026, 09:00-12:00" in reply
    assert "Payment: Bank transfer" in reply and "Code WELCOME10: -7.30 EUR" in reply
    assert "Total: 65.70 EUR" in reply
    reply = await conversation.say("yes")
    assert "Your order B-100 is confirmed (65.70 EUR)" in reply
    url = reply.rsplit(" ", 1)[-1]

    confirmed = await order(bot, "B-100")
    assert confirmed.status.value == "confirmed"
    assert (confirmed.delivery_method, str(confirmed.delivery_date), confirmed.delivery_slot) == (
        "courier", "2026-11-25", "09:00-12:00")
    assert (confirmed.payment_method, confirmed.voucher_code, confirmed.discount_minor) == (
        "bank_transfer", "WELCOME10", 730)
    assert confirmed.total_minor == 6570
    assert await stock(bot, "KB-110") == before - 1
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://bot") as client:
        document = await client.get(httpx.URL(url).path)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages)
    assert "Demo Shop" in text and "Order confirmation B-100" in text
    assert "Code WELCOME10: -7.30 EUR" in text and "Total: 65.70 EUR" in text
    assert "CONFIRMED" in text  # the watermark


async def test_buttons_work_and_a_double_confirm_confirms_once(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation = await verified(bot, "A-1003")
    assert "Here is your order A-1003" in await act(conversation, "confirm:start:A-1003")
    await conversation.press("Yes, let's confirm")
    while "out of stock" in "\n".join(r.text for r in conversation.replies):
        await conversation.press("Remove it")
    await conversation.press("Pickup point")
    await conversation.press("Corner shop pickup point, Market Street 15")
    await conversation.press("Card")
    reply = await conversation.press("No code")
    if "Would you like to add" in reply:
        reply = await conversation.press("No, thanks")
    assert "Delivery: pickup point Corner shop pickup point" in reply
    final_buttons = conversation.buttons
    assert "is confirmed" in await conversation.press("Confirm the order")
    conversation.replies = [type(conversation.replies[0])(
        key=conversation.key, text="", buttons=tuple(final_buttons))]
    again = await conversation.press("Confirm the order")
    assert "is confirmed" not in again
    history = (await order(bot, "A-1003")).history
    assert [h.to_status for h in history].count("confirmed") == 1


async def test_out_of_stock_line_can_wait_with_a_reservation_then_decline_releases_it(
    bot: Orderbot,
) -> None:
    fix_clock(bot)
    conversation, _ = await shop_creates(bot, "B-101", [ERGO_MOUSE, CABLE])
    reply = await conversation.say("yes")
    assert "Ergonomic mouse is out of stock right now. We expect it on" in reply
    assert [b.title for b in conversation.buttons][:2] == [
        "HD webcam (55.00 EUR)", "Wireless keyboard (49.00 EUR)"]
    assert "Wait until" in conversation.buttons[-1].title
    reply = await conversation.say("4")  # wait
    assert "reserved for you from the delivery expected on" in reply
    async with bot.database.transaction() as session:
        [reserved] = (await session.scalars(select(Backorder))).all()
    assert (reserved.sku, reserved.status) == ("MS-210", "reserved")

    assert "How would you like to receive" in reply
    await conversation.say("nonsense blah")  # a polite re-ask keeps the question
    assert "Please choose one of these" in conversation.replies[0].text
    assert "Cancel" not in " ".join(b.title for b in conversation.buttons)
    await act(conversation, "confirm:method:courier")
    await conversation.say("wtorek")  # next Tuesday
    await conversation.say("15-18")
    await conversation.say("card")
    await conversation.say("no code")
    if "Would you like to add" in "\n".join(r.text for r in conversation.replies):
        await conversation.say("no")
    assert "Your order B-101 is cancelled" in await conversation.press("Cancel the order")
    assert (await order(bot, "B-101")).status.value == "cancelled"
    async with bot.database.transaction() as session:
        assert (await session.scalars(select(Backorder.status))).all() == ["released"]


async def test_alternative_replaces_the_missing_item_and_recomputes_the_total(
    bot: Orderbot,
) -> None:
    conversation, _ = await shop_creates(bot, "B-102", [ERGO_MOUSE])
    await conversation.say("yes")
    reply = await conversation.say("1")
    assert "Ergonomic mouse is replaced by HD webcam. New total: 55.00 EUR." in reply
    assert [line.sku for line in (await order(bot, "B-102")).lines] == ["WC-700"]


async def test_removing_the_only_item_is_refused_politely(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "B-103", [ERGO_MOUSE])
    await conversation.say("yes")
    reply = await conversation.press("Remove it")
    assert "only item in the order, so I can't remove it" in reply
    assert len((await order(bot, "B-103")).lines) == 1


async def test_store_pickup_offers_only_stores_with_every_item(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "B-104", [KEYBOARD])
    await conversation.say("yes")
    await conversation.say("store")
    titles = [b.title for b in conversation.buttons]
    assert titles == ["Warszawa Centrum, ul. Marszałkowska 100, 00-026 Warszawa",
                      "London Soho, 12 Wardour St, London W1D 6QF",
                      "Москва Тверская, ул. Тверская, 7, 125009 Москва"]
    big, _ = await shop_creates(bot, "B-105", [("KB-110", "Wireless keyboard", 15, 4900)],
                                email="big@example.com")
    await big.say("yes")
    await big.say("pick up in a store")
    assert [b.title for b in big.buttons] == ["Warszawa Centrum, ul. Marszałkowska 100, "
                                              "00-026 Warszawa"]


async def test_declining_at_the_start_cancels(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(bot, "B-106", [KEYBOARD])
    assert "Your order B-106 is cancelled" in await conversation.say("no")
    assert (await order(bot, "B-106")).status.value == "cancelled"
    assert "no longer" in await act(conversation, "confirm:start:B-106") or \
        "cancelled" in "\n".join(r.text for r in conversation.replies)


async def test_someone_elses_order_cannot_be_confirmed(bot: Orderbot) -> None:
    stranger = await verified(bot, "A-1005")  # Anna, not James (A-1002)
    reply = await act(stranger, "confirm:start:A-1002")
    assert "no order waiting for your confirmation" in reply
    assert (await order(bot, "A-1002")).status.value == "pending_confirmation"


async def test_polish_customer_confirms_in_polish(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation, first = await shop_creates(bot, "B-107", [KEYBOARD], email="jan@example.pl",
                                              language="pl")
    assert first.startswith("Dziękujemy za zamówienie B-107")
    assert "Jak chcesz odebrać" in await conversation.say("tak")
    await conversation.say("kurier")
    assert "O której godzinie" in await conversation.say("jutro")
    assert "Jak chcesz zapłacić?" in await conversation.say("rano")
    await conversation.say("kartą")
    assert "Czy dodać produkt „Kabel HDMI 1,5 m”" in await conversation.say("bez kodu")
    reply = await conversation.say("nie")
    assert "Dostawa: kurier 25.11.2026, 09:00-12:00" in reply
    assert "jest potwierdzone" in await conversation.say("tak")


async def test_russian_customer_confirms_in_russian(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation, first = await shop_creates(bot, "B-108", [KEYBOARD], email="ivan@example.ru",
                                              language="ru")
    assert first.startswith("Спасибо за заказ B-108")
    assert "Как вы хотите получить" in await conversation.say("да")
    await conversation.say("курьер")
    await conversation.say("завтра вечером")  # day and slot at once
    assert "Как вы хотите оплатить?" in "\n".join(r.text for r in conversation.replies)
    await conversation.say("1")
    reply = await conversation.say("без кода")
    if "Добавить" in reply:
        reply = await conversation.say("нет")
    assert "15:00-18:00" in reply
    assert "подтверждён" in await conversation.say("да")


async def test_an_old_button_says_so_and_asks_the_current_question_again(bot: Orderbot) -> None:
    conversation = await verified(bot, "A-1005")
    await act(conversation, "confirm:start:A-1005")
    assert "How would you like to receive" in await act(conversation, "confirm:begin:go")
    await act(conversation, "confirm:begin:go")  # the summary's button, pressed again
    assert [reply.text for reply in conversation.replies] == [
        "That question has already been answered. Here is the current one:",
        "How would you like to receive your order?"]
    assert [b.title for b in conversation.buttons] == [
        "Courier to your door", "Pickup point", "Pick up in a store"]
    assert "Which pickup point?" in await conversation.press("Pickup point")
    reply = await act(conversation, "confirm:begin:decline")  # an old "Cancel the order"
    assert "already been answered" in reply and "Which pickup point?" in reply
    assert (await order(bot, "A-1005")).status.value == "pending_confirmation"


async def test_an_old_button_before_the_first_answer_repeats_the_summary_in_polish(
    bot: Orderbot,
) -> None:
    conversation, _ = await shop_creates(bot, "B-109", [KEYBOARD], email="ola@example.pl",
                                         language="pl")
    reply = await act(conversation, "confirm:payment:card")  # from an earlier confirmation
    assert reply.startswith("Na to pytanie padła już odpowiedź.")
    assert "Oto Twoje zamówienie B-109" in reply
    assert [b.title for b in conversation.buttons] == ["Tak, potwierdźmy", "Anuluj zamówienie"]
    assert "Jak chcesz odebrać" in await conversation.press("Tak, potwierdźmy")


async def test_no_alternative_and_no_date_offers_remove_cancel_or_a_person(bot: Orderbot) -> None:
    conversation = await verified(bot, "A-1002")  # 2 headphones wanted, 1 in stock
    await act(conversation, "confirm:start:A-1002")
    reply = await act(conversation, "confirm:begin:go")
    assert "Noise-cancelling headphones is out of stock, we don't know yet when" in reply
    assert "alternative" not in reply
    assert [b.title for b in conversation.buttons] == [
        "Remove it", "Cancel the order", "Talk to a person"]
    assert "passing you to a colleague" in await conversation.press("Talk to a person")
    async with bot.database.transaction() as session:
        reason = await session.scalar(select(ConversationRow.escalation_reason).where(
            ConversationRow.chat_id == conversation.key.chat_id))
    assert reason == "out_of_stock"
    assert (await order(bot, "A-1002")).status.value == "pending_confirmation"


async def test_the_only_item_with_no_way_to_get_it_can_still_be_cancelled_in_russian(
    bot: Orderbot,
) -> None:
    conversation, _ = await shop_creates(
        bot, "B-110", [("HD-300", "Noise-cancelling headphones", 20, 19900)],
        email="oleg@example.ru", language="ru")
    reply = await conversation.say("да")
    assert "нет в наличии, мы пока не знаем, когда он появится" in reply
    assert "замен" in reply and "Можно убрать его, отменить заказ" in reply
    assert [b.title for b in conversation.buttons] == [
        "Убрать его", "Отменить заказ", "Связаться с оператором"]
    reply = await conversation.press("Убрать его")
    assert "Товар «Наушники с шумоподавлением» — единственный в заказе" in reply
    assert "других вариантов" in reply
    assert "Ваш заказ B-110 отменён" in await conversation.press("Отменить заказ")
    assert (await order(bot, "B-110")).status.value == "cancelled"


async def test_no_alternative_but_a_date_offers_remove_or_wait_in_polish(bot: Orderbot) -> None:
    conversation, _ = await shop_creates(
        bot, "B-111", [("HD-310", "In-ear headphones", 20, 7900), KEYBOARD],
        email="ewa@example.pl", language="pl")
    reply = await conversation.say("tak")
    assert "produkt „Słuchawki douszne” jest chwilowo niedostępny. Spodziewamy się dostawy" in reply
    assert "zamiennik" not in reply and "Możesz go usunąć albo poczekać" in reply
    titles = [b.title for b in conversation.buttons]
    assert titles[0] == "Usuń go" and titles[1].startswith("Poczekam do") and len(titles) == 2
    reply = await conversation.press("Usuń go")
    assert "Produkt „Słuchawki douszne” usunięto z zamówienia" in reply
    assert "Jak chcesz odebrać" in reply

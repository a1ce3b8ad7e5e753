"""Changing the delivery until the order ships; after shipping, the tracking link."""

from __future__ import annotations

from composition.bootstrap import Orderbot
from tests.dialog.confirm_helpers import act, fix_clock, order, verified
from tests.dialog.conftest import Conversation


async def test_change_day_and_slot_of_a_confirmed_order(bot: Orderbot) -> None:
    fix_clock(bot)  # Tuesday 24 Nov 2026
    conversation = await verified(bot, "A-1013")
    reply = await conversation.say("I want to change the delivery of A-1013")
    assert "What would you like to change for order A-1013?" in reply
    assert "Which day?" in await conversation.say("1")
    reply = await conversation.say("sunday")
    assert "working days (Monday to Friday)" in reply
    assert "At what time on 27 Nov 2026?" in await conversation.say("friday")
    reply = await conversation.say("afternoon")
    assert "Done: order A-1013 will come by courier on 27 Nov 2026, 12:00-15:00." in reply
    changed = await order(bot, "A-1013")
    assert (str(changed.delivery_date), changed.delivery_slot) == ("2026-11-27", "12:00-15:00")
    assert changed.status.value == "confirmed"


async def test_change_to_store_pickup_is_checked_against_store_stock(bot: Orderbot) -> None:
    conversation = await verified(bot, "A-1013")
    await conversation.say("change delivery of A-1013")
    await conversation.press("Delivery method")
    reply = await conversation.say("store")
    if "no store has every item" in reply:
        assert "Pick up in a store" not in [b.title for b in conversation.buttons]
        return
    store = conversation.buttons[0].title
    assert "Done: order A-1013 will come by store pickup at" in await conversation.press(store)
    assert (await order(bot, "A-1013")).delivery_method == "store"


async def test_shipped_order_gets_the_tracking_link_after_proof(
    conversation: Conversation,
) -> None:
    assert "postcode" in await conversation.say("change delivery of A-1015")
    reply = await conversation.say("EH1 1YZ")
    assert "Order A-1015 is already on its way with DHL" in reply
    assert "https://dhl.example/track?id=DHL" in reply


async def test_someone_elses_order_is_not_changed(conversation: Conversation) -> None:
    await conversation.say("change delivery of A-1013")
    reply = await conversation.say("anna.kowalska@example.com")
    assert "couldn't find an order A-1013" in reply


async def test_polish_address_change(bot: Orderbot) -> None:
    conversation = await verified(bot, "A-1007")
    reply = await conversation.say("chcę zmienić adres dostawy zamówienia A-1007")
    assert "Co chcesz zmienić w zamówieniu A-1007?" in reply
    assert "nowy adres" in await conversation.say("adres")
    assert "z kodem pocztowym" in await conversation.say("ul. Nowa 5 w Warszawie")
    reply = await conversation.say("ul. Nowa 5, 00-001 Warszawa")
    assert "Gotowe: zamówienie A-1007 zostanie dostarczone na adres ul. Nowa 5" in reply
    assert (await order(bot, "A-1007")).delivery_address == {
        "street": "ul. Nowa 5", "city": "Warszawa", "postcode": "00-001"}


async def test_russian_change_of_day(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation = await verified(bot, "A-1009")
    reply = await conversation.say("хочу изменить доставку")
    assert "Что вы хотите изменить в заказе A-1009?" in reply
    await conversation.say("день и время")
    reply = await conversation.say("в среду утром")
    assert "Готово: заказ A-1009 будет доставлен так: курьер 25.11.2026, 09:00-12:00." in reply


async def test_number_and_proof_in_one_message_need_no_second_question(
    conversation: Conversation, bot: Orderbot
) -> None:
    postcode = (await order(bot, "A-1013")).postcode
    reply = await conversation.say(f"change delivery of A-1013, postcode {postcode}")
    assert "What would you like to change for order A-1013?" in reply


async def test_another_number_at_the_proof_question_asks_for_its_proof(
    conversation: Conversation,
) -> None:
    await conversation.say("change delivery of A-1013")
    assert "delivery postcode of order A-1015" in await conversation.say("sorry, I meant A-1015")
    assert "Order A-1015 is already on its way" in await conversation.say("EH1 1YZ")


async def test_an_older_questions_button_asks_the_current_question_again(bot: Orderbot) -> None:
    fix_clock(bot)
    conversation = await verified(bot, "A-1013")
    await conversation.say("change delivery of A-1013")
    old_payload = conversation.buttons[1].payload  # "Delivery method", answered below
    assert "Which day?" in await conversation.press("Delivery day and time")
    reply = await act(conversation, old_payload)
    assert "already been answered" in reply and "Which day?" in reply
    assert "At what time on 25 Nov 2026?" in await conversation.say("tomorrow")

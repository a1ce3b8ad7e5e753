"""Is it in stock? In English, Polish and Russian: in stock and how many, out of stock with
the expected day, "tell me when it is back", and a product the shop does not know."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select

from composition.app import make_app
from composition.bootstrap import Orderbot
from orders.tables import Product
from tests.conftest import API_KEY
from tests.dialog.conftest import Conversation


async def stock_of(bot: Orderbot, sku: str) -> tuple[int, date | None]:
    async with bot.database.transaction() as session:
        product = await session.scalar(select(Product).where(Product.sku == sku))
        assert product is not None
        return product.stock, product.expected_date


async def put_stock(bot: Orderbot, sku: str, available: int) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(bot)), base_url="http://test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as api:
        response = await api.put(f"/api/stock/{sku}", json={"available": available})
        assert response.status_code == 200


async def test_in_stock_says_how_many(conversation: Conversation, bot: Orderbot) -> None:
    count, _ = await stock_of(bot, "MG-810")
    reply = await conversation.say("do you have the ceramic mug?")
    assert reply == f"Yes, Coffee mug 'Ship it' is in stock: {count} available."


async def test_russian_customer_asks_in_russian(conversation: Conversation, bot: Orderbot) -> None:
    count, _ = await stock_of(bot, "MG-810")
    reply = await conversation.say("есть ли кружка?")
    assert reply == f"Да, товар «Кружка Ship it» есть в наличии: {count} шт."


async def test_out_of_stock_gives_the_day_and_tells_when_it_is_back(
    conversation: Conversation, bot: Orderbot
) -> None:
    _, expected = await stock_of(bot, "MN-410")
    assert expected is not None
    reply = await conversation.say("is the monitor arm in stock?")
    assert reply == (
        f"Monitor arm is out of stock right now. We expect it back on "
        f"{expected.strftime('%d %b %Y')}. Shall I tell you here when it is back?"
    )
    assert [b.title for b in conversation.buttons] == ["Tell me when it's back", "No, thanks"]
    reply = await conversation.press("Tell me when it's back")
    assert reply == "Done: I'll tell you here as soon as Monitor arm is back in stock."

    again = await conversation.say("is the monitor arm in stock?")
    assert "out of stock" in again
    assert "on the list already" in await conversation.say("yes please")

    await put_stock(bot, "MN-410", 3)
    await put_stock(bot, "MN-410", 5)  # still in stock: nobody is told twice
    _, history = await bot.manager.history(conversation.key)
    told = [e.text for e in history if e.sender == "bot" and "back in stock (" in e.text]
    assert told == ["Good news: Monitor arm is back in stock (3 available)."]


async def test_polish_customer_chooses_between_two_and_answers_tak(
    conversation: Conversation, bot: Orderbot
) -> None:
    _, expected = await stock_of(bot, "HD-310")
    assert expected is not None
    reply = await conversation.say("czy macie słuchawki?")
    assert reply == "Znalazłem kilka produktów. O który chodzi?"
    assert [b.title for b in conversation.buttons] == [
        "Słuchawki z redukcją szumów", "Słuchawki douszne"
    ]
    reply = await conversation.press("Słuchawki douszne")
    assert reply.startswith("Produkt „Słuchawki douszne” jest chwilowo niedostępny. "
                            f"Spodziewamy się dostawy {expected.strftime('%d.%m.%Y')}.")
    reply = await conversation.say("tak")
    assert reply == (
        "Gotowe: dam Ci tu znać, gdy tylko produkt „Słuchawki douszne” wróci do sprzedaży."
    )


async def test_choosing_by_typing_the_name(conversation: Conversation) -> None:
    await conversation.say("do you have headphones?")
    reply = await conversation.say("the noise-cancelling headphones")
    assert reply.startswith("Yes, Noise-cancelling headphones is in stock")


async def test_no_thanks_subscribes_nobody(conversation: Conversation) -> None:
    await conversation.say("is the monitor arm in stock?")
    assert await conversation.say("no") == (
        "All right. Is there anything else I can help you with?"
    )
    assert conversation.buttons == []


async def test_unknown_product_is_not_found_politely_with_a_person_button(
    conversation: Conversation,
) -> None:
    reply = await conversation.say("do you have a unicorn saddle?")
    assert reply.startswith("Sorry, I could not find that product in our catalogue.")
    assert [b.title for b in conversation.buttons] == ["Talk to a person"]
    reply = await conversation.say("a flying carpet")
    assert reply == "I still could not find it, sorry. A person from our team can check it for you."
    assert "passing you to a colleague" in await conversation.press("Talk to a person")


async def test_a_name_given_after_not_found_is_looked_up(conversation: Conversation) -> None:
    await conversation.say("do you have the thing for my desk?")
    assert "Desk lamp is in stock" in await conversation.say("desk lamp")

"""The shop's own payment page (local payments adapter) over the real server: what a customer
sees at the link the chat gives them, and the demo's "pay now" button."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.payments.page import TEXTS
from channels.webchat.identity import signed_identity
from composition.app import make_app
from composition.bootstrap import Orderbot
from orders.service import OrderView
from orders.states import OrderStatus
from storage.tables import Job
from tests.conftest import BotFactory, LiveServer, serve
from tests.e2e.test_webchat import chat
from tests.servers import free_port

PAID_MESSAGE = "Thank you! We have received the payment for order A-1041."
DEMO_BUTTON = "Pay now (demo: no money moves)"


async def order(bot: Orderbot, number: str) -> OrderView:
    async with bot.database.transaction() as session:
        found = await bot.orders.get_order(session, number)
    assert found is not None
    return found


async def page_url(server: LiveServer, number: str) -> str:
    """The link the customer is given in the chat."""
    return await server.bot.services.payments.payment_link(await order(server.bot, number))


async def transcript(bot: Orderbot, number: str) -> list[str]:
    """The texts of the conversation the shop writes to the order's customer in."""
    customer_id = (await order(bot, number)).customer_id
    async with bot.units() as uow:
        state = await bot.store.latest_for_customer(uow, customer_id)
        if state is None:
            return []
        _language, entries = await bot.store.history(uow, state.key)
    return [entry.text for entry in entries]


async def payment_jobs(bot: Orderbot, number: str) -> list[str]:
    async with bot.database.transaction() as session:
        return list(await session.scalars(
            select(Job.key).where(Job.key.startswith(f"payment:{number}:"),
                                  Job.done_at.is_(None))
        ))


async def post(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(url, headers=headers)


async def get(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, headers=headers)


def visible(page: str) -> str:
    """The page's text as a reader sees it (tags dropped, entities as written)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&amp;", "&")


@pytest.fixture
async def plain_server(
    make_bot: BotFactory, demo_database: Path, tmp_path: Path
) -> AsyncIterator[LiveServer]:
    """The demo's orders, served with [demo] off: a shop taking real bank transfers."""
    path = tmp_path / "shop.db"
    shutil.copyfile(demo_database, path)
    bot = await make_bot(f"sqlite+aiosqlite:///{path}", demo={"enabled": False},
                         http={"port": free_port()})
    server = await serve(bot)
    yield server
    await server.stop()


async def test_the_chat_link_shows_what_is_due(live_server: LiveServer) -> None:
    url = await page_url(live_server, "A-1041")
    assert url.startswith(f"{live_server.url}/pay/")
    response = await get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    text = visible(response.text)
    due = (await order(live_server.bot, "A-1041")).payment_due_date
    assert due is not None
    assert "Demo Shop" in text and "Pay for order A-1041" in text
    total = (await order(live_server.bot, "A-1041")).total_minor
    assert f"Amount due {total // 100}.{total % 100:02d} EUR" in text
    assert f"Due by {due.strftime('%d %b %Y')}" in text
    assert DEMO_BUTTON in text
    assert '<form method=post>' in response.text


async def test_the_page_speaks_the_customers_language(live_server: LiveServer) -> None:
    polish = visible((await get(await page_url(live_server, "A-1042"))).text)
    assert "Płatność za zamówienie A-1042" in polish and "Do zapłaty" in polish
    assert re.search(r"Do zapłaty \d+,\d\d EUR", polish)
    russian = visible((await get(await page_url(live_server, "A-1043"))).text)
    assert "Оплата заказа A-1043" in russian and "Оплатить (демо" in russian


async def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    def shape(language: str) -> dict[str, set[str]]:
        return {key: set(re.findall(r"{(\w+)}", text)) for key, text in TEXTS[language].items()}

    assert set(TEXTS) == {"en", "pl", "ru"}
    assert shape("pl") == shape("en") == shape("ru")


async def test_an_unknown_link_is_not_found(live_server: LiveServer) -> None:
    for token in ("no-such-token", "x" * 500):
        response = await get(f"{live_server.url}/pay/{token}")
        assert response.status_code == 404
        assert "Payment link not found" in response.text
    polish = await get(f"{live_server.url}/pay/nope", **{"Accept-Language": "pl-PL,pl;q=0.9"})
    assert "Nie znaleziono linku do płatności" in polish.text
    refused = await post(f"{live_server.url}/pay/nope", Origin=live_server.url)
    assert refused.status_code == 404


async def test_paying_in_the_demo_records_the_payment_once(live_server: LiveServer) -> None:
    bot, url = live_server.bot, await page_url(live_server, "A-1041")
    assert await payment_jobs(bot, "A-1041")  # reminders planned for the unpaid order
    paid = await post(url, Origin=live_server.url)
    assert paid.status_code == 200
    assert "Thank you, order A-1041 is paid" in visible(paid.text)
    after = await order(bot, "A-1041")
    assert after.payment_status == "paid"
    assert after.history[-1].cause == "payment page (demo): payment_received"
    assert await payment_jobs(bot, "A-1041") == []
    assert (await transcript(bot, "A-1041"))[-1] == PAID_MESSAGE

    again = await post(url, Origin=live_server.url)
    assert again.status_code == 200
    assert "Order A-1041 is already paid" in visible(again.text)
    assert (await transcript(bot, "A-1041")).count(PAID_MESSAGE) == 1
    assert len((await order(bot, "A-1041")).history) == len(after.history)
    page = visible((await get(url)).text)
    assert "already paid" in page and DEMO_BUTTON not in page


async def test_a_referer_from_the_page_itself_is_enough(live_server: LiveServer) -> None:
    url = await page_url(live_server, "A-1042")
    paid = await post(url, Referer=url)
    assert paid.status_code == 200
    assert "Dziękujemy, zamówienie A-1042 jest opłacone" in visible(paid.text)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/pay"},
    {"Origin": "https://evil.example", "Referer": "{own}/pay/x"},
    {},
])
async def test_a_post_from_elsewhere_is_refused(
    live_server: LiveServer, headers: dict[str, Any]
) -> None:
    bot, url = live_server.bot, await page_url(live_server, "A-1041")
    jobs = await payment_jobs(bot, "A-1041")
    before = await transcript(bot, "A-1041")
    refused = await post(url, **{k: v.format(own=live_server.url) for k, v in headers.items()})
    assert refused.status_code == 403
    assert "Payment not recorded" in visible(refused.text)
    assert (await order(bot, "A-1041")).payment_status == "pending"
    assert await payment_jobs(bot, "A-1041") == jobs
    assert await transcript(bot, "A-1041") == before


async def test_a_cancelled_order_cannot_be_paid(live_server: LiveServer) -> None:
    bot = live_server.bot
    async with bot.database.transaction() as session:
        await bot.orders.move(session, "A-1041", OrderStatus.CANCELLED, "customer cancelled")
    url = await page_url(live_server, "A-1041")
    assert "Order A-1041 was cancelled" in visible((await get(url)).text)
    refused = await post(url, Origin=live_server.url)
    assert refused.status_code == 409
    assert (await order(bot, "A-1041")).payment_status == "pending"
    assert PAID_MESSAGE not in await transcript(bot, "A-1041")


async def test_without_the_demo_the_page_tells_how_to_transfer(plain_server: LiveServer) -> None:
    bot, url = plain_server.bot, await page_url(plain_server, "A-1041")
    response = await get(url)
    assert response.status_code == 200
    text = visible(response.text)
    assert "by bank transfer" in text and "order number A-1041 as the payment reference" in text
    assert "The shop records your payment" in text
    assert "<form" not in response.text and DEMO_BUTTON not in text
    refused = await post(url, Origin=plain_server.url)
    assert refused.status_code == 403
    assert "Payments cannot be made on this page" in visible(refused.text)
    assert (await order(bot, "A-1041")).payment_status == "pending"
    assert await payment_jobs(bot, "A-1041")


async def test_the_shop_name_is_escaped(make_bot: BotFactory) -> None:
    bot = await make_bot(http={"port": free_port()}, shop={"name": "<script>x()</script> & Co"})
    server = await serve(bot)
    try:
        page = (await get(await page_url(server, "A-1041"))).text
    finally:
        await server.stop()
    assert "<script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; Co" in page


async def test_with_a_payment_provider_there_is_no_page(make_bot: BotFactory) -> None:
    bot = await make_bot(adapters={"payments_url": "http://127.0.0.1:9/"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(bot)),
                                 base_url="http://test") as client:
        response = await client.get("/pay/anything")
    assert response.status_code == 404 and response.headers["content-type"].startswith(
        "application/json")


async def test_the_customer_pays_from_the_chat_and_is_told_there(
    live_server: LiveServer,
) -> None:
    """A signed-in web chat customer asks to pay, opens the link, pays; the chat says so."""
    email = "sophie.turner@example.com"
    customer = {"email": email, "name": "Sophie Turner"}
    signed = signed_identity("test-identity-secret", email)
    async with chat(live_server, customer=customer, **signed) as conversation:
        answer = await conversation.say("I need to pay for order A-1041")
        pay = next(b for b in answer["buttons"] if b["title"] == "Pay now")
        link = await conversation.press(pay["payload"])
        url = re.search(r"http://\S+/pay/\S+", link["text"])
        assert url is not None
        assert "Pay for order A-1041" in visible((await get(url.group())).text)
        assert (await post(url.group(), Origin=live_server.url)).status_code == 200
        told = await conversation.next()
        assert told["from"] == "bot" and told["text"] == PAID_MESSAGE


async def test_two_presses_at_once_pay_once(live_server: LiveServer) -> None:
    url = await page_url(live_server, "A-1041")
    first, second = await asyncio.gather(post(url, Origin=live_server.url),
                                         post(url, Origin=live_server.url))
    titles = sorted(visible(r.text) for r in (first, second))
    assert "Order A-1041 is already paid" in titles[0] and "Thank you" in titles[1]
    assert (await transcript(live_server.bot, "A-1041")).count(PAID_MESSAGE) == 1

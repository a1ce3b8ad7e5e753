"""The pages the other browser tests do not check with axe-core: an admin's webhook
deliveries page, the console's tasks dialog, and the chat page an order's chat link opens
(the widget open on it, knowing the order). None may have a serious or critical violation."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.accessibility import serious_violations
from tests.browser.test_console import log_in, script_errors, tid
from tests.browser.test_widget import messages, say
from tests.conftest import API_KEY, LiveServer

pytestmark = pytest.mark.browser

ORDER = {
    "number": "W-7001",
    "customer": {"name": "Jan Kowalski", "email": "jan@example.com", "language": "pl"},
    "lines": [{"sku": "KB-100", "name": "Klawiatura", "quantity": 1, "unit_price": 89.0}],
    "currency": "PLN",
    "delivery": {"method": "courier", "address": {"postcode": "00-001", "city": "Warszawa"}},
}


async def test_the_deliveries_page_and_the_tasks_dialog_pass_axe(
    page: Page, live_server: LiveServer
) -> None:
    errors = script_errors(page)
    await log_in(page, live_server)  # the demo operator is an admin
    await tid(page, "tasks-open").click()
    await expect(tid(page, "tasks")).to_be_visible()
    assert await serious_violations(page, '[data-testid="tasks"]') == []
    await page.goto(live_server.url + "/console/deliveries")
    await expect(tid(page, "deliveries")).to_be_visible()
    assert await serious_violations(page) == []
    assert errors == []


async def test_the_chat_page_of_an_orders_link_passes_axe(
    page: Page, live_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        created = await client.post("/api/orders", json=ORDER,
                                    headers={"Authorization": f"Bearer {API_KEY}"})
    assert created.status_code == 201, created.text
    await page.goto(created.json()["links"]["webchat"])
    await say(page, "gdzie jest moje zamówienie?")
    await expect(messages(page, "bot").last).to_contain_text("W-7001")
    assert await serious_violations(page) == []

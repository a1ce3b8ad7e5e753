"""Operator tasks in the console, in a real Chromium: the shop's fact that contradicts the chat
shows up as a task while the console is open (no reload), with its order; "Done" closes it."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console import log_in, script_errors, tid
from tests.conftest import LiveServer
from tests.console.test_tasks import CANCELLED_IN_CHAT, shop_ships_a_cancelled_order

pytestmark = pytest.mark.browser


async def test_a_conflict_fact_appears_as_a_task_and_done_closes_it(
    page: Page, live_server: LiveServer
) -> None:
    errors = script_errors(page)
    await log_in(page, live_server)
    await tid(page, "tasks-open").click()
    dialog = tid(page, "tasks")
    await expect(dialog).to_be_visible()
    ours = tid(page, "task").filter(has=tid(page, "task-number").get_by_text(CANCELLED_IN_CHAT))
    await expect(ours).to_have_count(0)
    before = int(await tid(page, "tasks-count").inner_text())

    await shop_ships_a_cancelled_order(live_server)  # the page is not reloaded

    await expect(ours).to_have_count(1)
    await expect(tid(page, "tasks-count")).to_have_text(str(before + 1))
    await expect(tid(ours, "task-kind")).to_have_text("The shop's news contradicts the chat")
    await expect(tid(ours, "task-detail")).to_contain_text(
        "the chat: cancelled (customer cancelled in chat)")
    await expect(tid(ours, "task-detail")).to_contain_text("the shop: shipped with DHL DHL123")
    await expect(tid(ours, "task-age")).to_have_text("just now")

    await tid(ours, "task-order-open").click()
    order = tid(ours, "task-order")
    await expect(tid(order, "order-status")).to_have_text("Shipped")
    await expect(order).to_contain_text("DHL DHL123")
    await expect(order).to_contain_text("Emma Thompson")
    await expect(tid(order, "order-cancel")).to_have_count(0)  # actions belong to a chat

    await tid(ours, "task-done").click()
    await expect(tid(page, "tasks-result")).to_have_text(
        f"Task for order {CANCELLED_IN_CHAT} is done.")
    await expect(ours).to_have_count(0)
    await expect(tid(page, "tasks-count")).to_have_text(str(before))
    await tid(page, "tasks-show-done").click()
    await expect(ours).to_have_count(1)
    await expect(tid(ours, "task-done-by")).to_contain_text("by demo")
    assert errors == []

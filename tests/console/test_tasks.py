"""Operator tasks in the console API (docs/console.md, Tasks): the list, the order a task is
about, "Done", and the live event that shows a new task without a reload - over the real
server, with the shop's fact posted through the shop API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orders.states import OrderStatus
from tests.conftest import API_KEY, LiveServer
from tests.console.conftest import LogIn, live

CANCELLED_IN_CHAT = "A-1013"  # Emma's confirmed demo order; the chat cancels it


async def shop_ships_a_cancelled_order(server: LiveServer) -> None:
    """The customer cancelled in the chat; the shop ships it all the same (a conflict)."""
    async with server.bot.database.transaction() as session:
        await server.bot.orders.move(session, CANCELLED_IN_CHAT, OrderStatus.CANCELLED,
                                     "customer cancelled in chat")
    async with httpx.AsyncClient(base_url=server.url,
                                 headers={"Authorization": f"Bearer {API_KEY}"}) as shop:
        response = await shop.post(f"/api/orders/{CANCELLED_IN_CHAT}/events", json={
            "type": "shipped", "carrier": "DHL", "tracking_number": "DHL123"})
    assert response.status_code == 200 and "conflict" in response.json(), response.text


async def open_tasks(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/console/api/tasks")
    assert response.status_code == 200, response.text
    return [task for task in response.json()["tasks"] if task["number"] == CANCELLED_IN_CHAT]


async def test_a_conflict_appears_live_with_both_sides_and_done_closes_it(
    console_server: LiveServer, log_in: LogIn
) -> None:
    operator = await log_in()
    assert await open_tasks(operator) == []
    async with live(console_server, operator) as socket:
        await socket.until(lambda frame: frame.get("type") == "queue")
        await shop_ships_a_cancelled_order(console_server)
        event = await socket.until(lambda frame: frame.get("type") == "task")
        [task] = await open_tasks(operator)
        assert event["task"]["id"] == task["id"]
        assert task["kind"] == "shop_fact_conflict" and task["done_at"] is None
        assert task["detail"].startswith(
            "the chat: cancelled (customer cancelled in chat) at ")
        assert task["detail"].endswith("; the shop: shipped with DHL DHL123")
        assert 0 <= task["age_seconds"] < 60

        done = await operator.post(f"/console/api/tasks/{task['id']}/done")
        assert done.status_code == 200, done.text
        assert done.json()["task"]["done_by"] == "demo" and done.json()["task"]["done_at"]
        closed = await socket.until(lambda frame: frame.get("type") == "task")
        assert closed["task"]["id"] == task["id"] and closed["task"]["done_at"]
    assert await open_tasks(operator) == []
    listed = (await operator.get("/console/api/tasks?state=done")).json()["tasks"]
    assert [(t["id"], t["done_by"]) for t in listed] == [(task["id"], "demo")]


async def test_a_task_done_twice_is_a_conflict_and_an_unknown_one_not_found(
    console_server: LiveServer, log_in: LogIn
) -> None:
    first, second = await log_in(), await log_in("maria", display_name="Maria")
    await shop_ships_a_cancelled_order(console_server)
    [task] = await open_tasks(first)
    assert (await first.post(f"/console/api/tasks/{task['id']}/done")).status_code == 200
    late = await second.post(f"/console/api/tasks/{task['id']}/done")
    assert late.status_code == 409
    assert late.json() == {"detail": f"task {task['id']} was done already by demo"}
    unknown = await first.post("/console/api/tasks/999999/done")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "no task 999999"}
    listed = (await first.get("/console/api/tasks?state=done")).json()["tasks"]
    assert [t["done_by"] for t in listed if t["id"] == task["id"]] == ["demo"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/console/api/tasks?state=closed"),
    ("POST", "/console/api/tasks/abc/done"),
    ("POST", "/console/api/tasks/0/done"),
    ("POST", "/console/api/tasks/99999999999999999999/done"),
    ("GET", f"/console/api/orders/{'A' * 65}"),
])
async def test_bad_input_is_refused_readably(
    console_server: LiveServer, log_in: LogIn, method: str, path: str
) -> None:
    operator = await log_in()
    response = await operator.request(method, path)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


async def test_tasks_need_a_login_and_a_change_from_the_console_itself(
    console_server: LiveServer, log_in: LogIn
) -> None:
    await shop_ships_a_cancelled_order(console_server)
    async with httpx.AsyncClient(base_url=console_server.url) as stranger:
        assert (await stranger.get("/console/api/tasks")).status_code == 401
        assert (await stranger.post("/console/api/tasks/1/done")).status_code == 401
        assert (await stranger.get(f"/console/api/orders/{CANCELLED_IN_CHAT}")).status_code \
            == 401
    operator = await log_in()
    [task] = await open_tasks(operator)
    forged = await operator.post(f"/console/api/tasks/{task['id']}/done",
                                 headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert [t["id"] for t in await open_tasks(operator)] == [task["id"]]  # still open


async def test_the_order_of_a_task_shows_with_its_customer_and_conversation(
    console_server: LiveServer, log_in: LogIn
) -> None:
    operator = await log_in()
    await shop_ships_a_cancelled_order(console_server)
    response = await operator.get(f"/console/api/orders/{CANCELLED_IN_CHAT.lower()}")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["order"]["number"] == CANCELLED_IN_CHAT
    assert shown["order"]["status"] == "shipped"
    assert shown["order"]["tracking_number"] == "DHL123"
    assert shown["order"]["tracking_url"] is None  # an earlier parcel's page would mislead
    assert shown["customer"]["email"] == "emma.thompson@example.com"
    assert isinstance(shown["conversation_id"], int)  # where the shop's news was told
    missing = await operator.get("/console/api/orders/A-404")
    assert missing.status_code == 404 and missing.json() == {"detail": "no order A-404"}

"""The web chat's additions over a real WebSocket: an order card as an optional field of a
reply (in history too), and the team's availability before any session."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer
from tests.e2e.test_webchat import chat, open_session


async def test_the_status_reply_carries_an_order_card_also_in_history(
    live_server: LiveServer,
) -> None:
    token = (await open_session(live_server)).json()["token"]
    async with chat(live_server, token) as conversation:
        await conversation.say("Where is my order A-1015?")
        answer = await conversation.say("olivia.brown@example.com")
        assert "on its way with DHL" in answer["text"]  # the text says it all still
        card = answer["card"]
        assert (card["number"], card["status"], card["status_label"]) == (
            "A-1015", "shipped", "shipped")
        assert card["tracking"]["carrier"] == "DHL"
        assert card["tracking"]["url"].startswith("https://")
        assert card["items"] and all(item["quantity"] >= 1 for item in card["items"])
        assert "card" not in (await conversation.say("hello"))  # a plain reply has none
    async with chat(live_server, token) as again:
        assert [m.get("card", {}).get("number") for m in again.history if m["from"] == "bot"] \
            == [None, "A-1015", None]


async def test_a_card_says_what_a_pending_order_waits_for(live_server: LiveServer) -> None:
    token = (await open_session(live_server)).json()["token"]
    async with chat(live_server, token) as conversation:
        await conversation.say("Where is my order A-1001?")
        card = (await conversation.say("emma.thompson@example.com"))["card"]
        # not the history's "order placed": what the order waits for now
        assert (card["status"], card["status_label"]) == (
            "pending_confirmation", "awaiting your confirmation")


async def test_the_team_line_needs_no_session_and_refuses_bad_input(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        team = await client.get("/webchat/team", params={"language": "ru"})
        assert team.status_code == 200
        body = team.json()
        assert isinstance(body["available"], bool) and body["text"]
        assert (body["back_at"] is None) == body["available"]
        assert (await client.get("/webchat/team", params={"language": "de"})).status_code == 422
        foreign = await client.get("/webchat/team", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403

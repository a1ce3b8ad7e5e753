"""What operators rely on beyond the queue, through the console API and its live socket:
search, filters and closed conversations, tags, transfer to a colleague, and "customer is
typing" carried from the web chat (docs/console.md, "Finding and sorting conversations")."""

from __future__ import annotations

import json

import httpx

from dialog.messages import ConversationKey
from tests.conftest import LiveServer
from tests.console.conftest import EMMA, JAMES, LogIn, escalated, is_operator_message, live

API = "/console/api"


async def test_search_finds_a_customer_an_order_and_words_said(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server, EMMA) as emma, escalated(console_server, None) as anon:
        await anon.send("my parcel came squashed")
        await anon.hears(lambda f: f.get("type") == "message" and f.get("from") == "bot")

        async def ids(q: str) -> list[tuple[int, list[str]]]:
            answer = await anna.get(f"{API}/search", params={"q": q})
            assert answer.status_code == 200, answer.text
            return [(r["conversation"]["id"], r["matched"]) for r in answer.json()["results"]]

        assert await ids("thompson") == [(emma.conversation, ["customer"])]
        assert await ids("EMMA.THOMPSON@") == [(emma.conversation, ["customer"])]
        assert (emma.conversation, ["order"]) in await ids("a-1013")  # one of Emma's orders
        squashed = await anna.get(f"{API}/search", params={"q": "Squashed"})
        [hit] = squashed.json()["results"]
        assert hit["conversation"]["id"] == anon.conversation
        assert hit["snippet"]["text"] == "my parcel came squashed"
        # LIKE's wildcards typed by an operator are looked for as themselves
        assert await ids("%%") == [] and await ids("squ_shed") == []
        # a result opens the conversation
        opened = await anna.get(f"{API}/conversations/{hit['conversation']['id']}")
        assert opened.status_code == 200
        # pages: limit, and whether there are more
        first = await anna.get(f"{API}/search", params={"q": "person", "limit": 1})
        assert len(first.json()["results"]) == 1 and first.json()["more"] is True
        second = await anna.get(f"{API}/search", params={"q": "person", "limit": 1,
                                                         "offset": 1})
        assert second.json()["more"] is False
        assert second.json()["results"][0]["conversation"]["id"] != \
            first.json()["results"][0]["conversation"]["id"]
        for bad in ({"q": "x"}, {"q": ""}, {"q": "ab", "limit": 0}):
            refused = await anna.get(f"{API}/search", params=bad)
            assert refused.status_code == 422, bad
            assert refused.json()["detail"]


async def test_filters_choose_mine_unassigned_closed_channel_language_and_tag(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna, boris = await log_in("anna"), await log_in("boris")

    async def shown(**query: str) -> list[int]:
        answer = await anna.get(f"{API}/conversations", params=query)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["conversations"]]

    async with escalated(console_server, EMMA) as emma, \
            escalated(console_server, JAMES) as james:
        path = f"{API}/conversations"
        await anna.post(f"{path}/{emma.conversation}/claim")
        assert await shown(view="mine") == [emma.conversation]
        assert await shown(view="unassigned") == [james.conversation]
        assert set(await shown(view="open")) == {emma.conversation, james.conversation}
        await boris.post(f"{path}/{james.conversation}/claim")
        assert await shown(view="unassigned") == []
        assert await shown(view="mine") == [emma.conversation]  # Boris's is not mine
        await anna.post(f"{path}/{emma.conversation}/resolve")
        assert await shown(view="closed") == [emma.conversation]
        assert await shown(view="open") == [james.conversation]
        assert await shown(view="closed", channel="email") == []
        assert await shown(view="closed", channel="webchat", language="en") == [
            emma.conversation]
        await anna.post(f"{path}/{james.conversation}/tags", json={"tag": "VIP"})
        assert await shown(view="all", tag="vip") == [james.conversation]
        for bad in ({"view": "everything"}, {"channel": "fax"}, {"language": "de"},
                    {"view": "all", "tag": "no tags!"}, {"view": "all", "limit": "0"}):
            refused = await anna.get(f"{API}/conversations", params=bad)
            assert refused.status_code == 422, bad
        # the contract's old form is unchanged
        plain = await anna.get(f"{API}/conversations", params={"state": "claimed"})
        assert "more" not in plain.json()


async def test_tags_are_normalised_limited_and_shown_live(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server, EMMA) as emma, live(console_server, anna) as console:
        await console.next()  # the queue
        tags = f"{API}/conversations/{emma.conversation}/tags"
        added = await anna.post(tags, json={"tag": "  Damaged   Item "})
        assert added.status_code == 200, added.text
        assert added.json()["conversation"]["tags"] == ["damaged-item"]
        event = await console.until(lambda f: f["type"] == "conversation")
        assert event["conversation"]["tags"] == ["damaged-item"]
        assert (await anna.post(tags, json={"tag": "DAMAGED-ITEM"})).json()[
            "conversation"]["tags"] == ["damaged-item"]  # the same tag, once
        for bad, reason in (({"tag": "x" * 33}, "at most 32"), ({"tag": "a<b>"}, "only"),
                            ({"tag": "  "}, "a letter"), ({}, "tag")):
            refused = await anna.post(tags, json=bad)
            assert refused.status_code == 422, bad
            assert reason in refused.json()["detail"]
        for n in range(9):
            assert (await anna.post(tags, json={"tag": f"t{n}"})).status_code == 200
        eleventh = await anna.post(tags, json={"tag": "one-more"})
        assert eleventh.status_code == 422
        assert eleventh.json() == {"detail": "a conversation has at most 10 tags"}
        removed = await anna.delete(f"{tags}/Damaged-Item")
        assert removed.status_code == 200
        assert "damaged-item" not in removed.json()["conversation"]["tags"]
        assert len(removed.json()["conversation"]["tags"]) == 9
        queue = await anna.get(f"{API}/conversations", params={"state": "escalated"})
        assert len(queue.json()["conversations"][0]["tags"]) == 9
        missing = await anna.post(f"{API}/conversations/999999/tags", json={"tag": "vip"})
        assert missing.status_code == 404


async def test_a_conversation_is_transferred_to_a_colleague(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    boris = await log_in("boris", display_name="Boris B.")
    cleo = await log_in("cleo", display_name="Cleo C.")
    colleagues = (await anna.get(f"{API}/colleagues")).json()["operators"]
    names = {c["display_name"]: c["id"] for c in colleagues}
    assert "Anna K." not in names and {"Boris B.", "Cleo C."} <= set(names)
    async with escalated(console_server, EMMA) as emma, \
            live(console_server, anna) as annas, live(console_server, boris) as boriss:
        await annas.next()
        await boriss.next()
        path = f"{API}/conversations/{emma.conversation}"
        await anna.post(f"{path}/claim")
        await anna.post(f"{path}/messages", json={"text": "Anna here."})
        await emma.hears(is_operator_message)
        # only the holder may give it away, and only to an active colleague
        assert (await cleo.post(f"{path}/transfer",
                                json={"operator_id": names["Boris B."]})).status_code == 409
        for bad in ({"operator_id": 999999}, {"operator_id": "x"}, {}):
            assert (await anna.post(f"{path}/transfer", json=bad)).status_code == 422
        moved = await anna.post(f"{path}/transfer", json={"operator_id": names["Boris B."]})
        assert moved.status_code == 200, moved.text
        assert moved.json()["conversation"]["operator"]["name"] == "Boris B."
        for console in (annas, boriss):  # both consoles see it move, and the notice
            event = await console.until(
                lambda f: f["type"] == "conversation"
                and (f["conversation"]["operator"] or {}).get("name") == "Boris B.")
            assert event["conversation"]["operator"]["key"] == f"console:{names['Boris B.']}"
            note = await console.until(lambda f: f["type"] == "note")
            assert note["note"]["text"] == "Transferred from Anna K. to Boris B."
        mine = await boris.get(f"{API}/conversations", params={"view": "mine"})
        assert [c["id"] for c in mine.json()["conversations"]] == [emma.conversation]
        assert (await anna.post(f"{path}/messages", json={"text": "still me"})).status_code \
            == 409
        # the customer is not interrupted: the next message simply comes from Boris
        await boris.post(f"{path}/messages", json={"text": "Boris here, I'll take it."})
        heard = await emma.hears(is_operator_message)
        assert (heard["text"], heard["author"]) == ("Boris here, I'll take it.", "Boris B.")
        notes = (await boris.get(path)).json()["notes"]
        assert notes[-1]["text"] == "Transferred from Anna K. to Boris B."


async def test_the_customer_typing_is_shown_to_the_operators(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server, EMMA) as emma, live(console_server, anna) as console:
        await console.next()
        await emma.chat.socket.send(json.dumps({"type": "typing"}))
        event = await console.until(lambda f: f["type"] == "typing")
        assert event == {"type": "typing", "conversation_id": emma.conversation}
        # the frame is answered by nothing; the chat goes on as before
        await emma.send("here is my question")
        frame = await emma.hears(lambda f: True)
        assert frame.get("type") != "error", frame


async def test_typing_is_passed_on_only_while_a_person_has_the_chat(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    desk = console_server.bot.desk
    async with httpx.AsyncClient(base_url=console_server.url) as client:
        session = (await client.post("/webchat/session", json={})).json()
    with_the_bot = ConversationKey("webchat", str(session["conversation_id"]))
    async with escalated(console_server, EMMA) as emma, live(console_server, anna) as console:
        await console.next()
        await desk.customer_typing(with_the_bot)  # nobody to tell
        await desk.customer_typing(ConversationKey("webchat", "no-such-chat"))
        await desk.customer_typing(
            ConversationKey("webchat", await _chat_id(console_server, emma.conversation)))
        event = await console.until(lambda f: f["type"] == "typing")
        assert event["conversation_id"] == emma.conversation  # the first one told


async def _chat_id(server: LiveServer, conversation_id: int) -> str:
    async with server.bot.units() as uow:
        key = await uow.queue.key(conversation_id)
    assert key is not None
    return key.chat_id

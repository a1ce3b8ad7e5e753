"""Operators teach the bot (docs/console.md, "What did they mean?"): labelling a customer's
message over the real server, who may do it, and that labels go with their messages when a
customer is erased or a transcript is past its retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from dialog.intent_labels import label_message
from dialog.tables import Conversation, IntentLabel, TranscriptEntry
from storage.clock import utcnow
from tests.conftest import BotFactory, LiveServer
from tests.console.conftest import ASK_FOR_A_PERSON, JAMES, LogIn, escalated


def _intent_path(conversation: int, message: int) -> str:
    return f"/console/api/conversations/{conversation}/messages/{message}/intent"


async def _conversation(client: httpx.AsyncClient, conversation: int) -> dict[str, Any]:
    response = await client.get(f"/console/api/conversations/{conversation}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _message_id(client: httpx.AsyncClient, conversation: int, sender: str,
                      text: str | None = None) -> int:
    for line in (await _conversation(client, conversation))["transcript"]:
        if line["from"] == sender and (text is None or line["text"] == text):
            return int(line["id"])
    raise AssertionError(f"no {sender} message {text!r}")


async def _labels(server: LiveServer) -> list[tuple[int, str]]:
    async with server.bot.database.transaction() as session:
        rows = await session.execute(select(IntentLabel.transcript_id, IntentLabel.intent))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_an_operator_labels_relabels_and_removes_what_a_customer_meant(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    async with escalated(console_server) as emma:
        message = await _message_id(anna, emma.conversation, "customer", ASK_FOR_A_PERSON)
        shown = (await _conversation(anna, emma.conversation))["intents"][str(message)]
        assert shown == {"guessed": "human", "label": None}

        labelled = await anna.put(_intent_path(emma.conversation, message),
                                  json={"intent": "return_order"})
        assert labelled.status_code == 200, labelled.text
        label = labelled.json()["label"]
        assert label["intent"] == "return_order" and label["guessed"] == "human"
        assert label["text"] == ASK_FOR_A_PERSON
        assert label["operator"]["name"] == "Anna K."
        shown = (await _conversation(anna, emma.conversation))["intents"][str(message)]
        assert shown["label"]["intent"] == "return_order"

        relabelled = await anna.put(_intent_path(emma.conversation, message),
                                    json={"intent": "human"})
        assert relabelled.json()["label"]["intent"] == "human"
        assert await _labels(console_server) == [(message, "human")]  # replaced, not added

        removed = await anna.delete(_intent_path(emma.conversation, message))
        assert removed.status_code == 204
        assert await _labels(console_server) == []
        shown = (await _conversation(anna, emma.conversation))["intents"][str(message)]
        assert shown["label"] is None
        again = await anna.delete(_intent_path(emma.conversation, message))
        assert again.status_code == 204  # nothing to remove: the same outcome


async def test_bad_labels_are_refused_with_the_reason_and_nothing_is_stored(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma, escalated(console_server, JAMES) as james:
        mine = await _message_id(anna, emma.conversation, "customer", ASK_FOR_A_PERSON)
        bots = await _message_id(anna, emma.conversation, "bot")
        theirs = await _message_id(anna, james.conversation, "customer", ASK_FOR_A_PERSON)
        path = _intent_path(emma.conversation, mine)

        unknown = await anna.put(path, json={"intent": "refund_please"})
        assert unknown.status_code == 422
        assert unknown.json()["detail"].startswith("intent: Input should be 'greet'")
        for body in ({"intent": 7}, {}, {"intent": "human", "extra": 1}):
            assert (await anna.put(path, json=body)).status_code == 422, body
        malformed = await anna.put(path, content=b'{"intent": ',
                                   headers={"Content-Type": "application/json"})
        assert malformed.status_code == 422
        assert malformed.json() == {"detail": "the body is not valid JSON"}

        for conversation, message, reason in (
            (emma.conversation, bots, f"no message {bots} from the customer in conversation "
                                      f"{emma.conversation}"),
            (emma.conversation, theirs, f"no message {theirs} from the customer in "
                                        f"conversation {emma.conversation}"),
            (emma.conversation, 999_999, f"no message 999999 from the customer in "
                                         f"conversation {emma.conversation}"),
            (999_999, mine, "no conversation 999999"),
        ):
            for method in ("PUT", "DELETE"):
                refused = await anna.request(method, _intent_path(conversation, message),
                                             json={"intent": "human"})
                assert refused.status_code == 404, (method, conversation, message)
                assert refused.json() == {"detail": reason}
        assert (await anna.put(_intent_path(emma.conversation, 0),
                               json={"intent": "human"})).status_code == 422
        assert await _labels(console_server) == []


async def test_only_a_logged_in_operator_of_this_console_may_label(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna")
    async with escalated(console_server) as emma:
        message = await _message_id(anna, emma.conversation, "customer", ASK_FOR_A_PERSON)
        path = _intent_path(emma.conversation, message)
        forged = await anna.put(path, json={"intent": "human"},
                                headers={"Origin": "http://127.0.0.1:1"})
        assert forged.status_code == 403
        assert forged.json() == {"detail": "requests from other sites are refused"}
        assert (await anna.delete(path, headers={"Origin": "http://127.0.0.1:1"})
                ).status_code == 403
        async with httpx.AsyncClient(base_url=console_server.url) as stranger:
            nobody = await stranger.put(path, json={"intent": "human"})
            assert nobody.status_code == 401
            assert nobody.json() == {"detail": "log in first"}
        # An operator whose account was deactivated may see no conversation any more.
        admin = await log_in()
        accounts = (await admin.get("/console/api/operators")).json()["operators"]
        anna_id = next(a["id"] for a in accounts if a["username"] == "anna")
        assert (await admin.patch(f"/console/api/operators/{anna_id}",
                                  json={"active": False})).status_code == 200
        assert (await anna.put(path, json={"intent": "human"})).status_code == 401
        assert await _labels(console_server) == []
        own = await admin.put(path, json={"intent": "human"},
                              headers={"Origin": console_server.url})
        assert own.status_code == 200


async def test_a_message_of_the_same_customers_other_conversation_may_be_labelled(
    console_server: LiveServer, log_in: LogIn
) -> None:
    """The console shows a known customer's messages from all their conversations."""
    anna = await log_in("anna")
    async with escalated(console_server) as first:
        earlier = await _message_id(anna, first.conversation, "customer", ASK_FOR_A_PERSON)
    async with console_server.bot.database.transaction() as session:
        customer_id = await session.scalar(
            select(Conversation.customer_id).where(Conversation.id == first.conversation))
        other = Conversation(channel="email", chat_id="<thread@example.com>",
                             customer_id=customer_id)
        session.add(other)
        await session.flush()
        other_id = other.id
    labelled = await anna.put(_intent_path(other_id, earlier), json={"intent": "human"})
    assert labelled.status_code == 200
    assert labelled.json()["label"]["conversation_id"] == first.conversation


async def test_the_dashboard_counts_the_labels_and_shows_the_latest(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", display_name="Anna K.")
    admin = await log_in()
    async with escalated(console_server) as emma:
        message = await _message_id(anna, emma.conversation, "customer", ASK_FOR_A_PERSON)
        await anna.put(_intent_path(emma.conversation, message), json={"intent": "human"})
    figures = (await admin.get("/console/api/intent-labels")).json()
    assert figures["total"] == 1 and figures["new"] == 1  # the model has not learned it yet
    [latest] = figures["latest"]
    assert (latest["text"], latest["guessed"], latest["intent"], latest["operator"]["name"]) \
        == (ASK_FOR_A_PERSON, "human", "human", "Anna K.")
    assert latest["labelled_at"]
    refused = await anna.get("/console/api/intent-labels")
    assert refused.status_code == 403
    assert (await admin.get("/console/api/intent-labels?limit=0")).status_code == 422


async def test_erasing_the_customer_deletes_their_labels(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    async with escalated(console_server) as emma, escalated(console_server, JAMES) as james:
        for customer in (emma, james):
            message = await _message_id(admin, customer.conversation, "customer",
                                        ASK_FOR_A_PERSON)
            assert (await admin.put(_intent_path(customer.conversation, message),
                                    json={"intent": "human"})).status_code == 200
        emma_id = (await _conversation(admin, emma.conversation))["customer"]["id"]
        james_message = await _message_id(admin, james.conversation, "customer",
                                          ASK_FOR_A_PERSON)
    erased = await admin.post(f"/console/api/customers/{emma_id}/erase")
    assert erased.status_code == 200
    assert await _labels(console_server) == [(james_message, "human")]
    figures = (await admin.get("/console/api/intent-labels")).json()
    assert figures["total"] == 1
    assert [label["conversation_id"] for label in figures["latest"]] == [james.conversation]


async def test_transcript_retention_deletes_the_labels_of_the_lines_it_deletes(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(shop={"transcript_retention_days": 30})
    now = utcnow()
    async with bot.units() as uow:
        session = uow.session
        conversation = Conversation(channel="webchat", chat_id="retention-labels")
        session.add(conversation)
        await session.flush()
        old = TranscriptEntry(conversation_id=conversation.id, sender="customer",
                              text="can I get a reimbursement", at=now - timedelta(days=31))
        new = TranscriptEntry(conversation_id=conversation.id, sender="customer",
                              text="money back please", at=now - timedelta(days=29))
        session.add_all([old, new])
        await session.flush()
        for entry in (old, new):
            await label_message(uow.labels, conversation.id, entry.id, "return_order", None)
        await uow.commit()
    await bot.jobs.run_due()
    async with bot.database.transaction() as session:
        left = list(await session.scalars(select(IntentLabel.text)))
        count = await session.scalar(select(func.count(IntentLabel.id)))
    assert left == ["money back please"] and count == 1

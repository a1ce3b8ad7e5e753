"""The Slack channel over the real server: signed Events API and interactivity requests in,
Web API calls out to a Slack double on 127.0.0.1 (real slack-bolt and slack_sdk in between)."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from channels.slack.blocks import SECTION_LIMIT, escape, render, unescape
from channels.slack.channel import SlackChannel
from channels.slack.checks import MAX_BODY_BYTES
from channels.slack.events import MAX_TEXT, plain_text
from channels.slack.sending import ChannelPacer
from composition.bootstrap import Orderbot
from config import SlackSettings
from dialog.messages import (
    Button,
    ConversationKey,
    Delivery,
    DeliveryFailed,
    Inbound,
    Outbound,
)
from dialog.proactive import Contact
from dialog.tables import InboxRow
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles import slack_api
from tests.doubles.slack_api import BOT_ID, BOT_USER_ID, TOKEN, SlackApiDouble
from tests.doubles.slack_api import SIGNING_SECRET as SECRET
from tests.servers import free_port

# This module's short names for the fixtures of tests/doubles/fixtures.py


@pytest.fixture
def double(slack_api: SlackApiDouble) -> SlackApiDouble:
    return slack_api


@pytest.fixture
def server(slack_server: LiveServer) -> LiveServer:
    return slack_server


def slack_channel(bot: Orderbot) -> SlackChannel:
    return next(c for c in bot.channels if isinstance(c, SlackChannel))


class Customer:
    """A Slack user writing to the bot in a direct message, as Slack would deliver it."""

    def __init__(self, server: LiveServer, double: SlackApiDouble, user: str) -> None:
        self.server, self.double, self.user = server, double, user
        self.channel = "D" + user.lstrip("U")

    async def post(self, body: str, *, form: bool = False, secret: str = SECRET,
                   timestamp: int | None = None, **headers: str) -> httpx.Response:
        content_type = "application/x-www-form-urlencoded" if form else "application/json"
        signed = slack_api.signed_headers(secret, body, timestamp, content_type)
        async with httpx.AsyncClient(base_url=self.server.url) as client:
            return await client.post("/slack/events", content=body, headers={**signed, **headers})

    async def send(self, event: dict[str, Any], **headers: str) -> httpx.Response:
        response = await self.post(json.dumps(event), **headers)
        assert response.status_code == 200, response.text
        return response

    async def say(self, text: str) -> dict[str, Any]:
        """Write; return the bot's answer as the double received it."""
        before = len(self.replies)
        await self.send(slack_api.direct_message(self.user, self.channel, text))
        return await self.next_reply(before)

    async def press(self, title: str) -> httpx.Response:
        """Press the button with this title on the bot's last message that has buttons."""
        message = self.last_message_with_buttons()
        titles = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
                  for e in b["elements"]]
        payload = slack_api.button_press(self.user, message, self.channel, titles.index(title))
        return await self.post(slack_api.as_form(payload), form=True)

    def last_message_with_buttons(self) -> dict[str, Any]:
        return [m for (c, _), m in self.double.messages.items() if c == self.channel and any(
            b["type"] == "actions" for b in m["blocks"])][-1]

    @property
    def replies(self) -> list[dict[str, Any]]:
        return self.double.posted(self.channel)

    async def next_reply(self, before: int) -> dict[str, Any]:
        """The first reply after the `before` ones, once the double has it."""
        await self.server.bot.inbox.drain()
        await self.double.wait_until(lambda: len(self.replies) > before)
        return self.replies[before]


async def inbox_rows(bot: Orderbot) -> int:
    async with bot.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxRow)) or 0)


async def settle(bot: Orderbot) -> None:
    """Every turn recorded so far has run and its replies went out."""
    await bot.inbox.drain()
    await bot.outbox.drain()


def button_titles(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def texts(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


async def test_a_very_long_message_is_answered_like_any_other(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    pasted = "where is my order A-1015? " + "x" * 100_000  # one long "word", pasted by mistake
    assert "postcode of order A-1015" in (await olivia.say(pasted))["text"]
    # what the dialog read (and an operator sees) is cut as in the other channels: on
    # 100,000 characters the language model would hold every conversation for half a minute
    async with server.bot.database.transaction() as session:
        recorded = await session.scalar(select(InboxRow.text))
    assert recorded == pasted[:MAX_TEXT]


async def test_url_verification_is_answered(server: LiveServer, double: SlackApiDouble) -> None:
    body = {"token": "unused", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    response = await Customer(server, double, "U_OLIVIA").send(body)
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


async def test_status_conversation_in_a_direct_message(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    asked = await olivia.say("Where is my order A-1015?")
    assert "postcode of order A-1015" in asked["text"]
    # Slack sends a typed email address as a mailto link
    answer = await olivia.say("<mailto:olivia.brown@example.com|olivia.brown@example.com>")
    assert "on its way with DHL" in answer["text"] and "DHL810866" in answer["text"]
    assert answer["channel"] == olivia.channel
    assert "DHL810866" in texts(answer)
    assert button_titles(answer) == ["Another order", "Talk to a person"]
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e["value"]) for e in actions] == [
        ("ob_0", "status:another"), ("ob_1", "intent:human")]
    assert {call.authorization for call in double.calls} == {f"Bearer {TOKEN}"}


async def test_polish_customer_is_answered_in_the_language_of_their_slack(
    server: LiveServer, double: SlackApiDouble
) -> None:
    anna = Customer(server, double, "U_ANNA")  # locale pl-PL
    asked = await anna.say("A-1017")  # nothing to tell the language by but the Slack locale
    assert asked["text"].startswith("Dla ochrony Twoich danych")
    answer = await anna.say("00-950")
    assert "jest w drodze" in answer["text"] and "INPOST826704" in answer["text"]
    assert button_titles(answer) == ["Inne zamówienie", "Rozmowa z konsultantem"]
    assert [c.params["user"] for c in double.successful("users.info")] == ["U_ANNA"]  # cached


async def test_a_button_press_is_answered_and_its_buttons_replaced_by_the_choice(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    await olivia.say("A-1015")
    status = await olivia.say("EH1 1YZ")
    pressed = copy.deepcopy(olivia.last_message_with_buttons())  # as the customer still sees it
    before = len(olivia.replies)

    response = await olivia.press("Talk to a person")
    assert response.status_code == 200
    answer = await olivia.next_reply(before)
    assert answer["text"].startswith("I'm passing you to a colleague.")
    update = (await double.wait_for("chat.update"))[0].params
    assert (update["channel"], update["ts"]) == (olivia.channel, pressed["ts"])
    assert [b["type"] for b in update["blocks"]] == ["section", "context"]
    assert texts(update) == texts(status)
    assert update["blocks"][-1]["elements"][0]["text"] == "✓ Talk to a person"

    rows = await inbox_rows(server.bot)
    again = await olivia.post(slack_api.as_form(slack_api.button_press(
        olivia.user, pressed, olivia.channel, 0)), form=True)
    assert again.status_code == 200
    await settle(server.bot)
    # the handoff and the wait estimate, nothing for the replayed press
    assert len(olivia.replies) == before + 2 and await inbox_rows(server.bot) == rows
    assert len(double.successful("chat.update")) == 1


async def test_slack_is_answered_once_the_message_is_recorded_before_the_turn_runs(
    server: LiveServer, double: SlackApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, release = server.bot, asyncio.Event()
    turn = bot.manager.handle

    async def held_turn(inbound: Inbound) -> None:  # the dialog is slow today
        await release.wait()
        await turn(inbound)

    monkeypatch.setattr(bot.manager, "handle", held_turn)
    olivia = Customer(server, double, "U_OLIVIA")
    # Slack has its 200 while the turn cannot have run, and the message is on record by then
    await olivia.send(slack_api.direct_message(olivia.user, olivia.channel, "hello"))
    assert await inbox_rows(bot) == 1 and olivia.replies == []
    release.set()
    assert "Hello!" in (await olivia.next_reply(0))["text"]


async def test_a_message_that_could_not_be_recorded_is_not_acknowledged_and_slacks_retry_is(
    server: LiveServer, double: SlackApiDouble, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = server.bot
    accept = bot.inbox.accept

    async def database_down_once(inbound: Inbound) -> bool:
        monkeypatch.setattr(bot.inbox, "accept", accept)
        raise OperationalError("INSERT INTO inbox ...", {"text": inbound.text}, Exception("down"))

    monkeypatch.setattr(bot.inbox, "accept", database_down_once)
    olivia = Customer(server, double, "U_OLIVIA")
    event = slack_api.direct_message(olivia.user, olivia.channel, "my secret hello")
    first = await olivia.post(json.dumps(event))
    assert first.status_code == 500  # not acknowledged: Slack sends it again
    assert "my secret hello" not in caplog.text  # the error's text quotes the message
    await olivia.send(event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert "Hello!" in (await olivia.next_reply(0))["text"]
    await settle(bot)
    assert len(olivia.replies) == 1 and await inbox_rows(bot) == 1


async def test_buttons_are_replaced_even_when_slack_rate_limits_the_edit(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    await olivia.say("A-1015")
    await olivia.say("EH1 1YZ")
    pressed = olivia.last_message_with_buttons()
    double.fail_next(1, "429", retry_after=1, method="chat.update")
    assert (await olivia.press("Another order")).status_code == 200
    await double.wait_for("chat.update")
    edits = [c.status for c in double.calls if c.method == "chat.update"]
    assert edits == [429, 200]
    shown = double.messages[(olivia.channel, pressed["ts"])]
    assert button_titles(shown) == []
    assert shown["blocks"][-1]["elements"][0]["text"] == "✓ Another order"


async def test_a_bad_signature_is_refused_and_nothing_recorded(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    body = json.dumps(slack_api.direct_message(olivia.user, olivia.channel, "hello"))
    response = await olivia.post(body, secret="not-the-secret")
    assert response.status_code == 401
    async with httpx.AsyncClient(base_url=server.url) as client:
        unsigned = await client.post("/slack/events", content=body)
    assert unsigned.status_code == 401
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0 and olivia.replies == []


async def test_a_correctly_signed_but_stale_request_is_refused(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    body = json.dumps(slack_api.direct_message(olivia.user, olivia.channel, "hello"))
    for timestamp in (int(time.time()) - 6 * 60, int(time.time()) + 6 * 60):
        response = await olivia.post(body, timestamp=timestamp)
        assert response.status_code == 401
    for stamp in ("abc", "", "1e9", "-1"):  # signed with this very stamp, still not a time
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        response = await olivia.post(body, **{"X-Slack-Request-Timestamp": stamp,
                                              "X-Slack-Signature": str(signature)})
        assert response.status_code == 401, stamp
    assert await inbox_rows(server.bot) == 0
    assert "Hello!" in (await olivia.say("hello"))["text"]


async def test_an_event_slack_delivers_again_is_answered_once(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    event = slack_api.direct_message(olivia.user, olivia.channel, "hello")
    await olivia.send(event)
    await olivia.send(event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    await settle(server.bot)
    assert len(olivia.replies) == 1 and "Hello!" in olivia.replies[0]["text"]
    assert await inbox_rows(server.bot) == 1


async def test_concurrent_duplicates_are_answered_once(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    event = slack_api.direct_message(olivia.user, olivia.channel, "hello")
    await asyncio.gather(*(olivia.send(event) for _ in range(5)))
    await settle(server.bot)
    assert len(olivia.replies) == 1 and await inbox_rows(server.bot) == 1


@pytest.mark.parametrize(("user", "event"), [
    (BOT_USER_ID, {"bot_id": BOT_ID}),  # our own reply, echoed back by Slack
    (BOT_USER_ID, {}),
    ("U_OLIVIA", {"bot_id": "BOTHER01", "subtype": "bot_message"}),
    ("U_OLIVIA", {"subtype": "message_changed"}),
    ("U_OLIVIA", {"channel_type": "channel"}),  # not a direct message
])
async def test_messages_that_are_not_a_customer_writing_are_ignored(
    server: LiveServer, double: SlackApiDouble, user: str, event: dict[str, str]
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    await olivia.send(slack_api.direct_message(user, olivia.channel, "hello", **event))
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0 and olivia.replies == []


def broken_presses() -> list[dict[str, Any]]:
    """block_actions payloads that parse as JSON but are not shaped like Slack's."""
    good = slack_api.button_press("U_OLIVIA", {"ts": "1.000100", "text": "t", "blocks": [
        {"type": "actions", "elements": [{"type": "button", "action_id": "ob_0", "value": "v",
                                          "text": {"type": "plain_text", "text": "Yes"}}]}]},
        "D_OLIVIA", 0)
    return [{**good, **change} for change in (
        {"actions": "ob_0"}, {"actions": [1]}, {"actions": [{"action_id": 5}]},
        {"actions": []}, {"user": "U_OLIVIA"}, {"user": None}, {"container": "D_OLIVIA"},
        {"message": "text"}, {"channel": ["D_OLIVIA"]}, {"type": None},
    )]


async def test_malformed_bodies_get_400_with_the_reason_and_the_channel_goes_on(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    message = slack_api.direct_message(olivia.user, olivia.channel, "hello")
    without_id = {k: v for k, v in message.items() if k != "event_id"}
    bodies = [("{not json", False), ("[1, 2]", False), ("{}", False), ('{"event": "x"}', False),
              ('{"type": "url_verification"}', False),  # no challenge
              (json.dumps(without_id), False),
              (json.dumps({**message, "event": {"text": "hello"}}), False),  # no event type
              (json.dumps({**message, "authorizations": "x"}), False),
              ("payload=%7Bnot+json", True), ("payload=%5B%5D", True), ("a=b", True),
              ("", True)]
    bodies += [(slack_api.as_form(press), True) for press in broken_presses()]
    for body, form in bodies:
        response = await olivia.post(body, form=form)
        assert response.status_code == 400, (body, response.status_code)
        assert response.text.startswith("malformed request body"), response.text
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/slack/events", content=b"\xff\xfe",
                                     headers=slack_api.signed_headers(SECRET, b"\xff\xfe"))
    assert (response.status_code, response.text) == (400, "malformed request body: not UTF-8")
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0 and olivia.replies == []
    assert "Hello!" in (await olivia.say("hello"))["text"]


async def test_an_oversized_body_is_refused_and_the_channel_goes_on(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    huge = json.dumps(slack_api.direct_message(olivia.user, olivia.channel, "x" * MAX_BODY_BYTES))
    assert (await olivia.post(huge)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(3):
            yield b"{" + b" " * (MAX_BODY_BYTES // 2)

    async with httpx.AsyncClient(base_url=server.url) as client:
        chunked = await client.post("/slack/events", content=chunks(),
                                    headers=slack_api.signed_headers(SECRET, "{}"))
    assert chunked.status_code == 413
    await settle(server.bot)
    assert await inbox_rows(server.bot) == 0 and olivia.replies == []
    assert "Hello!" in (await olivia.say("hello"))["text"]


async def test_with_an_operators_channel_set_direct_messages_work_and_its_messages_are_ignored(
    make_bot: BotFactory, double: SlackApiDouble
) -> None:
    # The operators channel is for operators (tests/channels/test_slack_operators.py): a
    # message posted there outside an escalation thread is nobody's customer message.
    bot = await make_bot(http={"port": free_port()},
                         slack=double.bot_settings(operators_channel="C_OPS"))
    live = await serve(bot)
    try:
        operator = Customer(live, double, "U_IVAN")
        for event in ({"channel_type": "channel"},
                      {"channel_type": "channel", "thread_ts": "1700000000.000100"}):
            await operator.send(slack_api.direct_message("U_IVAN", "C_OPS", "hi there", **event))
        await settle(bot)
        assert await inbox_rows(bot) == 0 and double.posted("C_OPS") == []
        assert "Hello!" in (await Customer(live, double, "U_OLIVIA").say("hello"))["text"]
    finally:
        await live.stop()


async def test_customer_text_reaches_slack_escaped_never_as_markup(
    server: LiveServer, double: SlackApiDouble
) -> None:
    key = ConversationKey("slack", "DOLIVIA")
    text = "Your name: <!channel> *bold* <https://x|y> & co"
    delivery = Delivery(
        outbox_id=1, message_id=1, at="2026-01-01T00:00:00Z", context={"channel": "DOLIVIA"},
        outbound=Outbound(key=key, text=text, buttons=(Button("<@U1> & me", "x"),),
                          sender="operator", author="Ann <ops>"),
    )
    await slack_channel(server.bot).send(delivery)
    posted = double.posted("DOLIVIA")[0]
    shown = "Ann &lt;ops&gt;: Your name: &lt;!channel&gt; *bold* &lt;https://x|y&gt; &amp; co"
    assert posted["text"] == shown and posted["mrkdwn"] is False
    section = posted["blocks"][0]["text"]
    assert section == {"type": "plain_text", "text": shown, "emoji": True}
    assert button_titles(posted) == ["&lt;@U1&gt; &amp; me"]


@pytest.mark.parametrize("answer", ["429", "500"])
async def test_a_reply_slack_refuses_for_a_while_is_delivered_once_and_in_order(
    server: LiveServer, double: SlackApiDouble, answer: str
) -> None:
    olivia = Customer(server, double, "U_OLIVIA")
    # Retry-After 2 s, longer than the outbox's first backoff (1 s): the double refuses any
    # call made before it ran out, as Slack does, so a retry that ignored it shows up as a
    # second 429 below.
    double.fail_next(1, answer, retry_after=2, method="chat.postMessage")
    await olivia.send(slack_api.direct_message(olivia.user, olivia.channel, "hello"))
    await olivia.send(slack_api.direct_message(olivia.user, olivia.channel, "A-1015"))
    await server.bot.inbox.drain()
    await double.wait_for("chat.postMessage", 2)
    attempts = [c for c in double.calls if c.method == "chat.postMessage"]
    assert [c.status for c in attempts] == [int(answer), 200, 200]
    assert attempts[0].params["text"] == attempts[1].params["text"]  # the same reply, retried
    assert "Hello!" in olivia.replies[0]["text"] and "A-1015" in olivia.replies[1]["text"]


async def test_a_burst_of_replies_to_one_channel_all_arrive_in_order(
    server: LiveServer, double: SlackApiDouble
) -> None:
    slack_channel(server.bot).pacer = ChannelPacer(interval=0.01, burst=3)  # Slack's, faster
    olivia = Customer(server, double, "U_OLIVIA")
    numbers = [f"A-{1001 + n}" for n in range(10)]
    for number in numbers:
        await olivia.send(slack_api.direct_message(
            olivia.user, olivia.channel, f"where is my order {number}"))
    await server.bot.inbox.drain()
    await double.wait_for("chat.postMessage", 10)
    assert [next(n for n in numbers if n in r["text"]) for r in olivia.replies] == numbers


async def test_the_pacer_spaces_one_channel_and_lets_others_through() -> None:
    now = [0.0]
    waits: list[tuple[str, float]] = []

    async def sleep(seconds: float) -> None:
        waits.append((current, seconds))
        now[0] += seconds

    pacer = ChannelPacer(interval=1.0, burst=3, clock=lambda: now[0], sleep=sleep)
    for current in ["D1"] * 6 + ["D2"]:
        await pacer.wait(current)
    # three at once (a burst), then one a second; another channel is not held back
    assert waits == [("D1", 1.0), ("D1", 1.0), ("D1", 1.0)]


@pytest.mark.parametrize(("answer", "retry_after", "permanent"), [
    ("429", 7.0, False),
    ("ratelimited", None, False),
    ("500", None, False),
    ("channel_not_found", None, True),
    ("not_in_channel", None, True),
    ("account_inactive", None, True),
])
async def test_slack_errors_tell_the_outbox_whether_to_retry(
    server: LiveServer, double: SlackApiDouble, answer: str, retry_after: float | None,
    permanent: bool,
) -> None:
    double.fail_next(1, answer, retry_after=7)
    key = ConversationKey("slack", "DOLIVIA")
    delivery = Delivery(outbox_id=1, message_id=1, at="2026-01-01T00:00:00Z",
                        outbound=Outbound(key=key, text="hi"))
    with pytest.raises(DeliveryFailed) as failed:
        await slack_channel(server.bot).send(delivery)
    assert (failed.value.retry_after, failed.value.permanent) == (retry_after, permanent)
    if answer != "429":  # (after a 429 Slack refuses until Retry-After has passed)
        await slack_channel(server.bot).send(delivery)  # the next attempt goes through
        assert [p["text"] for p in double.posted("DOLIVIA")] == ["hi"]


async def test_an_unreachable_slack_is_a_retryable_failure(server: LiveServer) -> None:
    settings = SlackSettings(enabled=True, bot_token=TOKEN, signing_secret=SECRET,
                             api_base=f"http://127.0.0.1:{free_port()}/api")
    bot = server.bot
    channel = SlackChannel(settings, bot.conversations, base_url="", shop_name="")
    key = ConversationKey("slack", "DOLIVIA")
    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(Delivery(outbox_id=1, message_id=1, at="",
                                    outbound=Outbound(key=key, text="hi")))
    assert not failed.value.permanent


async def test_a_proactive_conversation_opens_a_direct_message(
    server: LiveServer, double: SlackApiDouble
) -> None:
    channel = slack_channel(server.bot)
    contact = Contact(customer_id=3, name="Olivia", email=None, language="en",
                      identities={"slack": "U_OLIVIA"})
    assert await channel.open_conversation(contact) == ("D_OLIVIA", {"channel": "D_OLIVIA"})
    assert double.successful("conversations.open")[0].params["users"] == "U_OLIVIA"
    stranger = Contact(customer_id=4, name="Noah", email="noah.davies@example.com",
                       language="en", identities={"telegram": "42"})
    assert await channel.open_conversation(stranger) is None


def test_slack_markup_in_a_message_becomes_what_the_customer_typed() -> None:
    typed = plain_text("<mailto:a@b.example|a@b.example> &lt;3 &amp; <https://x.example> <!here>")
    assert typed == "a@b.example <3 & https://x.example @here"


def test_a_long_reply_is_cut_into_sections_that_slack_accepts() -> None:
    text = "\n".join(f"line {n} " + "<&>" * 40 for n in range(200))
    _, blocks = render(Outbound(key=ConversationKey("slack", "D1"), text=text))
    sections = [b["text"]["text"] for b in blocks]
    assert len(sections) > 1 and all(len(s) <= SECTION_LIMIT for s in sections)
    assert unescape("".join(sections)) == text and escape(text) == "".join(sections)

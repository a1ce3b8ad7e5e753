"""The Slack operators channel over the real server: escalations posted to a Slack double on
127.0.0.1, operators replying in threads and pressing buttons with signed requests, customers
on the web chat (a real WebSocket) or in Slack direct messages, and the console's side through
the shared operators' desk."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from channels.slack.operators import OperatorsBridge
from channels.webchat.identity import signed_identity
from composition.bootstrap import Orderbot
from coordination.base import Subscription
from dialog.desk_values import OperatorRef
from orders.demo import seed
from tests.channels.test_slack import Customer, settle, slack_channel, texts
from tests.conftest import BotFactory, LiveServer, serve
from tests.doubles import slack_api
from tests.doubles.slack_api import SIGNING_SECRET as SECRET
from tests.doubles.slack_api import SlackApiDouble
from tests.e2e.test_webchat import Chat, chat
from tests.servers import free_port

OPS = "C_OPS"  # the operators channel
OLIVIA = "olivia.brown@example.com"  # a demo customer
ANNA = OperatorRef("console:1", "Anna K.")  # an operator in the web console
WAIT_SECONDS = 10  # an upper bound; everything here normally takes milliseconds


@pytest.fixture
def double(slack_api: SlackApiDouble) -> SlackApiDouble:
    return slack_api


@pytest.fixture
async def server(make_bot: BotFactory, double: SlackApiDouble) -> AsyncIterator[LiveServer]:
    """The bot with the web chat and Slack on, and Slack's operators channel set."""
    bot = await make_bot(http={"port": free_port()},
                         slack=double.bot_settings(operators_channel=OPS))
    live = await serve(bot)
    yield live
    await live.stop()


def bridge(bot: Orderbot) -> OperatorsBridge:
    operators = slack_channel(bot).operators
    assert operators is not None
    return operators


class Operator:
    """A person in the operators channel, as Slack would deliver what they do."""

    def __init__(self, server: LiveServer, double: SlackApiDouble, user: str) -> None:
        self.double, self.user = double, user
        self._slack = Customer(server, double, user)  # signs and posts like Slack
        self._noticed = 0

    async def reply(self, post: dict[str, Any], text: str, *, secret: str = SECRET,
                    event: dict[str, Any] | None = None) -> httpx.Response:
        event = event or slack_api.thread_reply(self.user, OPS, post["ts"], text)
        return await self._slack.post(json.dumps(event), secret=secret)

    async def press(self, post: dict[str, Any], title: str,
                    secret: str = SECRET) -> httpx.Response:
        message = self.double.messages[(OPS, post["ts"])]  # as it looks now
        payload = slack_api.button_press(self.user, message, OPS, buttons(message).index(title))
        return await self._slack.post(slack_api.as_form(payload), form=True, secret=secret)

    async def notice(self) -> dict[str, Any]:
        """The next message that only this operator was shown."""
        await self.double.wait_until(lambda: len(self.double.ephemeral(self.user)) > self._noticed)
        self._noticed += 1
        return self.double.ephemeral(self.user)[self._noticed - 1]


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def status(message: dict[str, Any]) -> str:
    return str(next(b for b in message["blocks"] if b["type"] == "context")
               ["elements"][0]["text"])


def conversation_of(post: dict[str, Any]) -> int:
    value = next(e["value"] for b in post["blocks"] if b["type"] == "actions"
                 for e in b["elements"])
    return int(value.split(":")[0])


async def escalation_post(double: SlackApiDouble, *bots: Orderbot) -> dict[str, Any]:
    """The escalation post in the operators channel, once it is there and the bots' bridges
    have noted it (an operator cannot answer a post within its first millisecond; a test can)."""
    await double.wait_until(lambda: bool(double.top_level(OPS)))
    for bot in bots:
        await bridge(bot).drain()
    return copy.deepcopy(double.top_level(OPS)[-1])  # as first posted


async def post_shows(double: SlackApiDouble, post: dict[str, Any], expected: str
                     ) -> dict[str, Any]:
    """The post, once Slack shows it with this status."""
    await double.wait_until(lambda: status(double.messages[(OPS, post["ts"])]) == expected)
    return double.messages[(OPS, post["ts"])]


async def thread_says(double: SlackApiDouble, post: dict[str, Any], count: int) -> list[str]:
    """The thread's lines (as operators read them), once there are `count`."""
    await double.wait_until(lambda: len(double.thread(OPS, post["ts"])) >= count)
    return [shown_text(m) for m in double.thread(OPS, post["ts"])]


def shown_text(message: dict[str, Any]) -> str:
    return texts(message).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


async def frame(conversation: Chat, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next message on the customer's web chat that is the wanted one."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            message = await conversation.next()
            if message.get("type") == "message" and wanted(message):
                return message


@asynccontextmanager
async def olivia_on_web_chat(server: LiveServer) -> AsyncIterator[Chat]:
    """Olivia Brown on the shop's web chat, signed in (her name and email are known)."""
    body = {"customer": {"email": OLIVIA, "name": "Olivia Brown"},
            **signed_identity("test-identity-secret", OLIVIA), "language": "en"}
    async with chat(server, **body) as conversation:
        yield conversation


async def ask_for_a_person(conversation: Chat) -> None:
    await conversation.socket.send(json.dumps({"type": "message",
                                               "text": "I want to talk to a person"}))
    await frame(conversation, lambda m: "passing you to a colleague" in m["text"])


async def test_an_escalation_is_posted_with_a_summary_and_the_three_buttons(
    server: LiveServer, double: SlackApiDouble
) -> None:
    async with olivia_on_web_chat(server) as olivia:
        await olivia.say("Where is my order A-1015?")
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)
    shown = shown_text(post)
    assert "Customer: Olivia Brown (olivia.brown@example.com)" in shown
    assert "Channel: web chat · Language: en" in shown and "Reason: asked for a person" in shown
    assert "» Where is my order A-1015?\n» I want to talk to a person" in shown
    assert status(post) == "Waiting for an operator"
    assert buttons(post) == ["Claim", "Hand back", "Resolve"]
    assert double.posted(OPS)[0]["mrkdwn"] is False  # customers' words never become markup
    assert double.thread(OPS, post["ts"]) == []  # what came before is in the summary


async def test_an_operators_thread_reply_reaches_the_web_chat_and_the_customers_answer_the_thread(
    server: LiveServer, double: SlackApiDouble
) -> None:
    sam = Operator(server, double, "U_SAM")
    async with olivia_on_web_chat(server) as olivia:
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)

        assert (await sam.reply(post, "Hi Olivia, Sam here. How can I help?")).status_code == 200
        said = await frame(olivia, lambda m: m["from"] == "operator")
        assert said["text"] == "Hi Olivia, Sam here. How can I help?"
        assert said["author"] == "Sam from Support"  # the Slack display name
        # replying took the conversation: the desk (and so the console) and the post say so
        item = await server.bot.desk.get(conversation_of(post))
        assert item.status == "claimed"
        assert item.operator == OperatorRef("slack:U_SAM", "Sam from Support")
        await post_shows(double, post, "Claimed by Sam from Support (Slack)")

        await olivia.socket.send(json.dumps({"type": "message", "text": "My parcel is late"}))
        assert await thread_says(double, post, 1) == ["Olivia Brown: My parcel is late"]
    await bridge(server.bot).drain()
    # the operator's own reply is never mirrored back into the thread
    assert [shown_text(m) for m in double.thread(OPS, post["ts"])] == [
        "Olivia Brown: My parcel is late"]


async def test_a_slack_customer_is_answered_in_their_direct_messages_and_replays_count_once(
    server: LiveServer, double: SlackApiDouble
) -> None:
    olivia, sam = Customer(server, double, "U_OLIVIA"), Operator(server, double, "U_SAM")
    assert "passing you to a colleague" in (await olivia.say("I want to talk to a person"))["text"]
    post = await escalation_post(double, server.bot)
    assert "Channel: Slack · Language: en" in shown_text(post)

    before = len(olivia.replies)
    reply = slack_api.thread_reply("U_SAM", OPS, post["ts"], "Hello, Sam here.")
    await sam.reply(post, "", event=reply)
    await sam.reply(post, "", event=reply)  # Slack delivers it again
    answer = await olivia.next_reply(before)
    assert answer["text"] == "Sam from Support: Hello, Sam here."

    message = slack_api.direct_message(olivia.user, olivia.channel, "Thanks, it is A-1015")
    await olivia.send(message)
    await olivia.send(message, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert await thread_says(double, post, 1) == ["Customer: Thanks, it is A-1015"]
    await settle(server.bot)
    await bridge(server.bot).drain()
    assert len(double.thread(OPS, post["ts"])) == 1
    assert len(olivia.replies) == before + 1  # the replayed reply was not sent again


async def test_claim_in_slack_shows_in_the_desk_and_a_second_operator_is_told_it_is_taken(
    server: LiveServer, double: SlackApiDouble
) -> None:
    sam, kim = Operator(server, double, "U_SAM"), Operator(server, double, "U_KIM")
    async with olivia_on_web_chat(server) as olivia:
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)
        conversation = conversation_of(post)

        assert (await sam.press(post, "Claim")).status_code == 200
        item = await server.bot.desk.get(conversation)
        assert (item.status, item.operator) == (
            "claimed", OperatorRef("slack:U_SAM", "Sam from Support"))
        updated = await post_shows(double, post, "Claimed by Sam from Support (Slack)")
        assert buttons(updated) == ["Claim", "Hand back", "Resolve"]

        assert (await kim.press(post, "Claim")).status_code == 200
        taken = await kim.notice()
        assert taken["text"] == "Already taken by Sam from Support (Slack) — nothing changed."
        assert taken["channel"] == OPS
        assert (await kim.reply(post, "I can take this one")).status_code == 200
        refused = await kim.notice()
        assert refused["text"] == ("Held by Sam from Support (Slack) — your message was not "
                                   "sent.")
        assert refused["thread_ts"] == post["ts"]
        assert (await kim.press(post, "Resolve")).status_code == 200
        assert (await kim.notice())["text"] == (
            "Held by Sam from Support, not by you — nothing changed.")

        item = await server.bot.desk.get(conversation)
        assert item.status == "claimed" and item.operator is not None
        assert item.operator.key == "slack:U_SAM"
        transcript = await server.bot.desk.transcript(conversation)
        assert not any(line.author == "Kim" for line in transcript)
        assert status(double.messages[(OPS, post["ts"])]) == "Claimed by Sam from Support (Slack)"


async def test_the_console_and_slack_see_the_same_desk(
    server: LiveServer, double: SlackApiDouble
) -> None:
    desk, sam = server.bot.desk, Operator(server, double, "U_SAM")
    async with olivia_on_web_chat(server) as olivia:
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)
        conversation = conversation_of(post)

        await desk.claim(conversation, ANNA)  # in the console
        await post_shows(double, post, "Claimed by Anna K. (console)")
        await desk.say(conversation, ANNA, "Hello, this is Anna.")
        assert (await frame(olivia, lambda m: m["from"] == "operator"))["author"] == "Anna K."
        assert await thread_says(double, post, 1) == ["Anna K.: Hello, this is Anna."]

        assert (await sam.reply(post, "Sam here, need help?")).status_code == 200
        assert (await sam.notice())["text"] == (
            "Held by Anna K. (console) — your message was not sent.")

        await desk.resolve(conversation, ANNA)
        await frame(olivia, lambda m: "Anna K. has closed this conversation" in m["text"])
        resolved = await post_shows(double, post, "Resolved by Anna K. (console)")
        assert buttons(resolved) == []
        assert (await thread_says(double, post, 2))[1].startswith(
            "Bot: Anna K. has closed this conversation.")

        assert (await sam.reply(post, "Anything else?")).status_code == 200  # too late
        assert (await sam.notice())["text"] == (
            "This escalation is over — your message was not sent.")
    assert not any(line.text == "Anything else?"
                   for line in await desk.transcript(conversation))


async def test_hand_back_from_slack_gives_the_customer_back_to_the_bot(
    server: LiveServer, double: SlackApiDouble
) -> None:
    sam = Operator(server, double, "U_SAM")
    async with olivia_on_web_chat(server) as olivia:
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)
        await sam.press(post, "Claim")
        await post_shows(double, post, "Claimed by Sam from Support (Slack)")

        assert (await sam.press(post, "Hand back")).status_code == 200
        back = await frame(olivia, lambda m: "handed you back" in m["text"])
        assert back["from"] == "bot" and back["text"].startswith("Sam from Support has")
        ended = await post_shows(double, post, "Handed back to the bot by Sam from Support (Slack)")
        assert buttons(ended) == []
        assert (await server.bot.desk.get(conversation_of(post))).status == "bot"

        answer = await olivia.say("Where is my order A-1015?")
        assert answer["from"] == "bot" and "A-1015" in answer["text"]
    await bridge(server.bot).drain()
    thread = [shown_text(m) for m in double.thread(OPS, post["ts"])]
    assert len(thread) == 1 and "handed you back" in thread[0]  # nothing after the end


async def test_badly_signed_replies_and_presses_are_refused_and_change_nothing(
    server: LiveServer, double: SlackApiDouble
) -> None:
    sam = Operator(server, double, "U_SAM")
    async with olivia_on_web_chat(server) as olivia:
        await ask_for_a_person(olivia)
        post = await escalation_post(double, server.bot)
    conversation = conversation_of(post)
    assert (await sam.reply(post, "Sam here", secret="not-the-secret")).status_code == 401
    assert (await sam.press(post, "Claim", secret="not-the-secret")).status_code == 401
    await settle(server.bot)
    await bridge(server.bot).drain()
    assert (await server.bot.desk.get(conversation)).status == "escalated"
    transcript = await server.bot.desk.transcript(conversation)
    assert [line.sender for line in transcript if line.sender == "operator"] == []
    assert double.successful("chat.update") == [] and double.thread(OPS, post["ts"]) == []
    assert double.successful("chat.postEphemeral") == []


class DeskEvents:
    """What one bot's desk published, as its Slack bridge received it (it listens first)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.subscription: Subscription | None = None

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, wanted: Callable[[dict[str, Any]], bool]) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while not any(wanted(event) for event in self.events):
                self._changed.clear()
                await self._changed.wait()


def message_event(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "message" and e["message"]["text"] == text


async def test_two_bots_post_each_escalation_once_and_mirror_each_message_once(
    make_bot: BotFactory, double: SlackApiDouble, postgres_url: str, redis_url: str
) -> None:
    """Both processes get every desk event and both have the bridge on: the database decides."""
    settings = {"redis": {"url": redis_url}, "demo": {"enabled": False},
                "slack": double.bot_settings(operators_channel=OPS)}
    bot_a = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    bot_b = await make_bot(postgres_url, http={"port": free_port()}, **settings)
    async with bot_a.database.transaction() as session:
        await seed(session, bot_a.orders)
    server_a, server_b = await serve(bot_a), await serve(bot_b)
    seen = {bot: DeskEvents() for bot in (bot_a, bot_b)}
    for bot, events in seen.items():
        events.subscription = await bot.desk.subscribe(events)

    async def everyone_saw(wanted: Callable[[dict[str, Any]], bool]) -> None:
        """Both bridges have had the event, and finished what it started."""
        for events in seen.values():
            await events.wait_for(wanted)
        for bot in seen:
            await bridge(bot).drain()

    try:
        async with olivia_on_web_chat(server_a) as olivia:  # her WebSocket is on bot A
            await ask_for_a_person(olivia)
            post = await escalation_post(double, bot_a, bot_b)
            await everyone_saw(lambda e: e["type"] == "conversation")
            assert len(double.top_level(OPS)) == 1
            assert len([p for p in double.posted(OPS) if not p.get("thread_ts")]) == 1

            sam = Operator(server_b, double, "U_SAM")  # Slack's request lands on bot B
            await sam.reply(post, "Sam here, what is the matter?")
            said = await frame(olivia, lambda m: m["from"] == "operator")
            assert said["text"] == "Sam here, what is the matter?"

            lines = ["The parcel is late", "It is order A-1015", "Can you check?"]
            for count, text in enumerate(lines, 1):
                await olivia.socket.send(json.dumps({"type": "message", "text": text}))
                await thread_says(double, post, count)
            await everyone_saw(message_event(lines[-1]))
            await everyone_saw(lambda e: e["type"] == "conversation"
                               and e["conversation"]["status"] == "claimed")
        assert [shown_text(m) for m in double.thread(OPS, post["ts"])] == [
            f"Olivia Brown: {text}" for text in lines]
        assert len(double.top_level(OPS)) == 1
        assert status(double.messages[(OPS, post["ts"])]) == "Claimed by Sam from Support (Slack)"
        assert len(double.successful("chat.update")) == 1
    finally:
        for events in seen.values():
            if events.subscription is not None:
                await events.subscription.close()
        await server_a.stop()
        await server_b.stop()

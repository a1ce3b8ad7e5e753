"""Requests outside the shop's business get an honest answer and a person, not a wrong flow."""

from __future__ import annotations

import pytest

from composition.bootstrap import Orderbot
from dialog.nlu import NluModel
from tests.dialog.conftest import Conversation
from tests.dialog.test_handoff import status_of

WEATHER = [("en", "what's the weather tomorrow"), ("pl", "jaka będzie jutro pogoda"),
           ("ru", "какая погода завтра")]
ACCOUNTS = [("en", "I forgot my password"), ("pl", "zapomniałem hasła"),
            ("ru", "забыл пароль"), ("en", "how do I log in to my account"),
            ("ru", "как удалить аккаунт")]
SUBSCRIPTIONS = [("en", "unsubscribe me from the newsletter"),
                 ("pl", "wypisz mnie z newslettera"),  # read as "human" by the model today
                 ("pl", "rezygnuję z subskrypcji newslettera"),  # ... and this as cancel_order
                 ("ru", "отпишите меня от рассылки")]


@pytest.mark.parametrize(("language", "text"), WEATHER)
async def test_a_confident_out_of_scope_gets_the_honest_answer_and_a_person(
    bot: Orderbot, nlu: NluModel, language: str, text: str
) -> None:
    understood = nlu.understand(text)
    assert understood.intent == "out_of_scope" and understood.confidence >= nlu.threshold
    chat = Conversation(bot)
    assert await chat.say(text) == bot.texts.get(language, "out_of_scope", shop="Demo Shop")
    assert [b.title for b in chat.buttons] == [bot.texts.get(language, "button_human")]


async def test_the_english_answer_says_what_the_bot_does(bot: Orderbot) -> None:
    reply = await Conversation(bot).say("what's the weather tomorrow")
    assert reply.startswith("I'm afraid I can't help with that here. I'm the Demo Shop "
                            "assistant: I can tell you where your order is, cancel it")
    assert "didn't understand" not in reply


@pytest.mark.parametrize(("language", "text", "topic"), [
    *((language, text, "accounts") for language, text in ACCOUNTS),
    *((language, text, "subscriptions") for language, text in SUBSCRIPTIONS),
])
async def test_accounts_and_newsletters_get_their_own_line_and_a_person_not_a_flow(
    bot: Orderbot, language: str, text: str, topic: str
) -> None:
    chat = Conversation(bot)
    assert await chat.say(text) == bot.texts.get(language, f"out_of_scope_{topic}")
    assert [b.title for b in chat.buttons] == [bot.texts.get(language, "button_human")]
    assert await status_of(bot, chat) == ("bot", None)  # not handed over, no flow begun


async def test_no_accounts_line_in_english(bot: Orderbot) -> None:
    reply = await Conversation(bot).say("I forgot my password")
    assert reply.startswith("This shop has no customer accounts, so there is no login or "
                            "password: you order with your email address")


async def test_the_person_button_hands_over(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("what's the weather tomorrow")
    assert (await chat.press("Talk to a person")).startswith(bot.texts.get("en", "handoff"))
    assert await status_of(bot, chat) == ("escalated", "customer_asked")


async def test_an_honest_answer_is_no_miss_toward_the_handoff(bot: Orderbot) -> None:
    chat = Conversation(bot)
    await chat.say("what's the weather tomorrow")
    await chat.say("I forgot my password")
    assert await chat.say("qwzx vbnm") == bot.texts.get("en", "not_understood")
    assert await status_of(bot, chat) == ("bot", None)


@pytest.mark.parametrize("text", ["asdf", "qwpoeiru zxmcnv"])
async def test_keyboard_mash_is_not_understood_not_answered_as_outside(
    bot: Orderbot, text: str
) -> None:
    reply = await Conversation(bot).say(text)
    assert reply in {bot.texts.get(language, "not_understood") for language in ("en", "pl", "ru")}


async def test_a_shop_request_with_a_weak_topic_word_is_served(bot: Orderbot) -> None:
    """'account' is also a bank account: a clear payment question stays one."""
    chat = Conversation(bot)
    reply = await chat.say("my bank account was charged twice")
    assert reply != bot.texts.get("en", "out_of_scope_accounts")
    assert "accounts" not in reply


async def test_a_question_about_an_order_is_not_taken_for_a_login(bot: Orderbot) -> None:
    reply = await Conversation(bot).say("where is my order A-1002, I can't log in")
    assert "A-1002" in reply

"""When the bot is unsure what a message means, it asks with buttons instead of guessing.

These conversations run on a stand-in model trained here from a few lines, so that a message
is unclear between exactly the meanings a test wants ("the shoes parcel": return or track),
whatever the real training data will teach the real model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.bootstrap import Orderbot
from dialog.flows.clarify import courtesy, plausible
from dialog.nlu import Entities, NluModel, Understanding
from tests.conftest import BotFactory
from tests.dialog.conftest import Conversation
from tests.dialog.test_handoff import status_of

STAND_IN = {
    "en": """
order_status\twhere is my order
order_status\ttrack my parcel please
order_status\thas my package shipped
return_order\tI want to return the shoes
return_order\tsend the jacket back for a refund
cancel_order\tcancel my order
cancel_order\tI don't want it anymore, cancel it
human\ttalk to a person
greet\thello there
affirm\tyes please
affirm\tyes
deny\tno thanks
deny\tno
thanks\tthank you
goodbye\tbye
out_of_scope\twhat's the weather like
out_of_scope\ttell me a joke
""",
    "pl": """
order_status\tgdzie jest moje zamówienie
order_status\tkiedy przyjdzie paczka
return_order\tchcę zwrócić buty
return_order\toddam kurtkę i proszę o zwrot pieniędzy
cancel_order\tanuluj moje zamówienie
human\tchcę rozmawiać z konsultantem
greet\tdzień dobry
affirm\ttak
deny\tnie
thanks\tdziękuję
goodbye\tdo widzenia
out_of_scope\tjaka jest pogoda
out_of_scope\topowiedz dowcip
""",
    "ru": """
order_status\tгде мой заказ
order_status\tкогда придёт посылка
return_order\tхочу вернуть ботинки
return_order\tверните деньги за куртку
cancel_order\tотмените мой заказ
human\tпозовите оператора
greet\tздравствуйте
affirm\tда
deny\tнет
thanks\tспасибо
goodbye\tдо свидания
out_of_scope\tкакая погода
out_of_scope\tрасскажи анекдот
""",
}

# language, a message unclear between returning and tracking (returning likelier), its order,
# the order's postcode (orders/demo.py)
UNCLEAR = [
    ("en", "the shoes parcel {number}", "A-1025", "SW1A 1AA"),
    ("pl", "buty kurtka paczka {number}", "A-1007", "80-001"),
    ("ru", "вернуть посылка {number}", "A-1010", "190000"),
]
GIBBERISH = "qwzx vbnm"


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> NluModel:
    directory = tmp_path_factory.mktemp("stand_in_nlu")
    for language, lines in STAND_IN.items():
        (directory / f"{language}.tsv").write_text(lines, "utf-8")
    model = NluModel.train(data_dir=Path(directory))
    model.threshold = 0.5  # a margin above what the stand-in gives the unclear messages
    return model


@pytest.fixture
async def bot(make_bot: BotFactory, stand_in: NluModel) -> Orderbot:
    return await make_bot(model=stand_in)


def unclear(stand_in: NluModel, text: str) -> str:
    """The message, after checking the stand-in reads it as the test needs."""
    understood = stand_in.understand(text)
    assert understood.confidence < stand_in.threshold, understood
    assert [intent for intent, _ in understood.ranked[:2]] == ["return_order", "order_status"]
    return text


@pytest.mark.parametrize(("language", "text", "number", "postcode"), UNCLEAR)
async def test_unclear_message_offers_the_two_likeliest_and_a_button_runs_that_flow(
    bot: Orderbot, stand_in: NluModel, language: str, text: str, number: str, postcode: str
) -> None:
    texts, chat = bot.texts, Conversation(bot)
    reply = await chat.say(unclear(stand_in, text.format(number=number)))
    assert reply == texts.get(
        language, "clarify_two", option_1=texts.get(language, "clarify_what_return_order"),
        option_2=texts.get(language, "clarify_what_order_status"),
    )
    track = texts.get(language, "clarify_button_order_status")
    assert [b.title for b in chat.buttons] == [
        texts.get(language, "clarify_button_return_order"), track,
        texts.get(language, "button_human"),
    ]
    # The number written with the unclear message is not asked for again.
    assert await chat.press(track) == texts.get(language, "ask_proof", number=number)
    reply = await chat.say(postcode)
    status = "status_delivered" if number == "A-1025" else "status_confirmed"
    assert reply.startswith(texts.get(language, status, number=number, date="~").split("~")[0])


async def test_the_english_question_reads_naturally(bot: Orderbot, stand_in: NluModel) -> None:
    chat = Conversation(bot)
    reply = await chat.say(unclear(stand_in, "the shoes parcel"))
    assert reply == "Do you want to return something or track an order?"
    assert [b.title for b in chat.buttons] == ["Return an item", "Track an order",
                                               "Talk to a person"]


@pytest.mark.parametrize(("language", "text", "number", "postcode"), UNCLEAR)
async def test_typing_the_number_or_the_words_of_an_option_picks_it(
    bot: Orderbot, stand_in: NluModel, language: str, text: str, number: str, postcode: str
) -> None:
    texts = bot.texts
    by_number = Conversation(bot)
    await by_number.say(unclear(stand_in, text.format(number=number)))
    assert await by_number.say("2") == texts.get(language, "ask_proof", number=number)

    by_words = Conversation(bot)
    await by_words.say(text.format(number=number))
    title = texts.get(language, "clarify_button_return_order")
    assert await by_words.say(title.lower()) == texts.get(language, "returns_ask_proof",
                                                          number=number)


@pytest.mark.parametrize(("language", "text", "number", "postcode"), UNCLEAR)
async def test_a_second_unclear_message_in_a_row_reaches_a_person(
    bot: Orderbot, stand_in: NluModel, language: str, text: str, number: str, postcode: str
) -> None:
    chat = Conversation(bot)
    first = await chat.say(unclear(stand_in, text.format(number=number)))
    assert chat.buttons and first != bot.texts.get(language, "not_understood")
    reply = await chat.say(unclear(stand_in, text.format(number="")))
    assert reply.startswith(bot.texts.get(language, "not_understood_handoff"))
    assert await status_of(bot, chat) == ("escalated", "not_understood")


async def test_a_customer_who_picks_an_option_is_understood(
    bot: Orderbot, stand_in: NluModel
) -> None:
    chat = Conversation(bot)
    await chat.say(unclear(stand_in, "the shoes parcel A-1025"))
    await chat.press("Track an order")
    assert "A-1025 was delivered" in await chat.say("SW1A 1AA")
    # Asked again later, the customer is asked again, not handed over.
    assert await chat.say("the shoes parcel") == ("Do you want to return something or track "
                                                  "an order?")
    assert await status_of(bot, chat) == ("bot", None)


async def test_one_plausible_meaning_is_asked_and_yes_runs_it(
    bot: Orderbot, stand_in: NluModel
) -> None:
    understood = stand_in.understand("joke parcel")
    assert understood.confidence < stand_in.threshold
    assert stand_in.understand("yes").confidence >= stand_in.threshold
    chat = Conversation(bot)
    assert await chat.say("joke parcel") == "Do you want to track an order?"
    assert [b.title for b in chat.buttons] == ["Track an order", "Talk to a person"]
    assert await chat.say("yes") == bot.texts.get("en", "ask_order_number")


async def test_an_order_number_whose_status_is_likeliest_gets_the_status(
    bot: Orderbot, stand_in: NluModel
) -> None:
    """As before clarifications: telling a status (after the proof) is no risky guess."""
    understood = stand_in.understand("shoes parcel A-1025")
    assert understood.confidence < stand_in.threshold and understood.intent == "order_status"
    reply = await Conversation(bot).say("shoes parcel A-1025")
    assert reply == bot.texts.get("en", "ask_proof", number="A-1025")


async def test_no_to_the_question_asks_what_else(bot: Orderbot, stand_in: NluModel) -> None:
    chat = Conversation(bot)
    await chat.say(unclear(stand_in, "the shoes parcel"))
    assert await chat.say("no") == bot.texts.get("en", "anything_else")


async def test_gibberish_is_still_not_understood(bot: Orderbot, stand_in: NluModel) -> None:
    chat = Conversation(bot)
    reply = await chat.say(GIBBERISH)  # whichever language the mash looks like
    assert reply in {bot.texts.get(language, "not_understood") for language in STAND_IN}


async def test_the_person_button_of_a_clarification_hands_over(
    bot: Orderbot, stand_in: NluModel
) -> None:
    chat = Conversation(bot)
    await chat.say(unclear(stand_in, "the shoes parcel"))
    assert (await chat.press("Talk to a person")).startswith(bot.texts.get("en", "handoff"))
    assert await status_of(bot, chat) == ("escalated", "customer_asked")


def understanding(*ranked: tuple[str, float]) -> Understanding:
    return Understanding(ranked[0][0], ranked[0][1], "en", 1.0, Entities((), (), ()), ranked)


@pytest.mark.parametrize(("ranked", "offered"), [
    ((("order_status", 0.3), ("return_order", 0.2), ("payment", 0.1)),
     ["order_status", "return_order"]),
    # out_of_scope is no thing to do, small talk no thing to offer: one meaning left
    ((("out_of_scope", 0.3), ("payment", 0.25), ("greet", 0.1)), ["payment"]),
    ((("cancel_order", 0.35), ("greet", 0.3), ("payment", 0.1)), ["cancel_order"]),
    # too little said for either: "I didn't understand"
    ((("payment", 0.15), ("order_status", 0.14), ("greet", 0.1)), []),
    ((("out_of_scope", 0.3), ("affirm", 0.2), ("goodbye", 0.1)), []),
])
def test_what_is_offered_follows_the_ranking_and_the_threshold(
    ranked: tuple[tuple[str, float], ...], offered: list[str]
) -> None:
    assert plausible(understanding(*ranked), threshold=0.4) == offered


def test_two_courtesies_get_the_likelier_answered() -> None:
    assert courtesy(understanding(("thanks", 0.3), ("goodbye", 0.25)), 0.4) == "thanks"
    assert courtesy(understanding(("thanks", 0.3), ("payment", 0.25)), 0.4) is None

"""Splitting a message into requests (dialog/nlu/requests.py), on a model whose readings the
test sets, and on the real one for the messages the dialog tests use."""

from __future__ import annotations

import pytest

from dialog.nlu import NluModel, Understanding, extract_entities
from dialog.nlu.requests import understand_requests
from dialog.nlu.topics import ACCOUNTS, SUBSCRIPTIONS, outside_topic


class ReadingsModel:
    """Reads each text as the test says (unknown texts: unsure out_of_scope); counts calls."""

    threshold = 0.4

    def __init__(self, readings: dict[str, tuple[str, float]]) -> None:
        self.readings = readings
        self.calls: list[str] = []

    def understand(self, text: str) -> Understanding:
        self.calls.append(text)
        intent, confidence = self.readings.get(text, ("out_of_scope", 0.2))
        return Understanding(intent, confidence, "en", 1.0, extract_entities(text),
                             ((intent, confidence),))


def requests_of(readings: dict[str, tuple[str, float]], text: str) -> list[tuple[str, tuple]]:
    understood = understand_requests(ReadingsModel(readings), text)
    return [(r.intent, r.entities.order_numbers) for r in understood.requests]


def test_two_requests_each_with_its_own_order() -> None:
    readings = {
        "cancel A-1001 and where is A-1002": ("cancel_order", 0.7),
        "cancel A-1001": ("cancel_order", 0.99), "where is A-1002": ("order_status", 0.8),
    }
    assert requests_of(readings, "cancel A-1001 and where is A-1002") == [
        ("cancel_order", ("A-1001",)), ("order_status", ("A-1002",))]


@pytest.mark.parametrize("text", [
    "Cancel A-1001. Where is A-1002?", "cancel A-1001, and then where is A-1002",
    "cancel A-1001 also where is A-1002", "cancel A-1001\nwhere is A-1002",
])
def test_sentence_ends_and_joining_words_separate(text: str) -> None:
    readings = {text: ("cancel_order", 0.7)}
    for part in ("Cancel A-1001", "cancel A-1001"):
        readings[part] = ("cancel_order", 0.99)
    for part in ("Where is A-1002", "where is A-1002"):
        readings[part] = ("order_status", 0.8)
    assert [intent for intent, _ in requests_of(readings, text)] == ["cancel_order",
                                                                     "order_status"]


@pytest.mark.parametrize(("text", "parts"), [
    ("anuluj A-1001 i gdzie jest A-1002", ("anuluj A-1001", "gdzie jest A-1002")),
    ("anuluj A-1001, a potem gdzie jest A-1002", ("anuluj A-1001", "gdzie jest A-1002")),
    ("отмените A-1001 и где A-1002", ("отмените A-1001", "где A-1002")),
    ("отмените A-1001, а также где A-1002", ("отмените A-1001", "где A-1002")),
    ("отмените A-1001, ещё где A-1002", ("отмените A-1001", "где A-1002")),
])
def test_polish_and_russian_joining_words(text: str, parts: tuple[str, str]) -> None:
    readings = {text: ("cancel_order", 0.6), parts[0]: ("cancel_order", 0.99),
                parts[1]: ("order_status", 0.8)}
    assert len(requests_of(readings, text)) == 2


def test_a_split_must_agree_with_the_whole_message() -> None:
    """"I ordered a kettle and it does not work" is a return, however its halves read."""
    text = "Я заказал чайник и он не работает"
    readings = {text: ("return_order", 0.8), "Я заказал чайник": ("order_status", 0.6),
                "он не работает": ("return_order", 0.7)}
    assert requests_of(readings, text) == []


def test_the_english_i_joins_nothing() -> None:
    model = ReadingsModel({})
    understand_requests(model, "where is my order I need it for Friday")
    assert model.calls == ["where is my order I need it for Friday"]


@pytest.mark.parametrize("text", ["cancel my order A-1001 please", "A-1001", "yes",
                                  "I paid 12.50 to jan.kowalski@example.com"])
def test_a_message_without_a_separator_costs_one_reading(text: str) -> None:
    model = ReadingsModel({})
    understand_requests(model, text)
    assert model.calls == [text]


def test_the_same_request_twice_is_one() -> None:
    text = "where is my order and when will it arrive"
    readings = {text: ("order_status", 0.9), "where is my order": ("order_status", 0.9),
                "when will it arrive": ("order_status", 0.7)}
    assert requests_of(readings, text) == []


def test_the_same_intent_for_two_orders_is_two_requests() -> None:
    text = "where is A-1001 and where is A-1002"
    readings = {text: ("order_status", 0.8), "where is A-1001": ("order_status", 0.8),
                "where is A-1002": ("order_status", 0.8)}
    assert requests_of(readings, text) == [("order_status", ("A-1001",)),
                                           ("order_status", ("A-1002",))]


def test_a_refund_with_a_return_is_the_same_request() -> None:
    text = "I want to return the shoes and get a refund"
    readings = {text: ("return_order", 0.9), "I want to return the shoes": ("return_order", 0.9),
                "get a refund": ("payment", 0.6)}
    assert requests_of(readings, text) == []


def test_a_request_without_a_number_takes_the_one_just_written() -> None:
    text = "where is A-1001 and please change the delivery address"
    readings = {text: ("order_status", 0.8), "where is A-1001": ("order_status", 0.8),
                "please change the delivery address": ("change_delivery", 0.9)}
    assert requests_of(readings, text) == [("order_status", ("A-1001",)),
                                           ("change_delivery", ("A-1001",))]


def test_unsure_small_talk_and_one_word_parts_are_no_requests() -> None:
    text = "Hi. Cancel A-1001 and thanks"
    readings = {text: ("cancel_order", 0.8), "Hi": ("greet", 0.9),
                "Cancel A-1001": ("cancel_order", 0.99), "thanks": ("thanks", 0.9)}
    assert requests_of(readings, text) == []


@pytest.mark.parametrize("text", [
    "cancel A-1001 and where is A-1002", "anuluj A-1001 i gdzie jest A-1002",
    "отмените A-1001 и где A-1002",
])
def test_the_real_model_reads_the_dialog_tests_messages_as_two(nlu: NluModel, text: str) -> None:
    understood = understand_requests(nlu, text)
    assert [(r.intent, r.entities.order_numbers) for r in understood.requests] == [
        ("cancel_order", ("A-1001",)), ("order_status", ("A-1002",))]


@pytest.mark.parametrize(("text", "strong", "any_word"), [
    ("I forgot my password", ACCOUNTS, ACCOUNTS),
    ("zapomniałem hasła", ACCOUNTS, ACCOUNTS),
    ("Как войти в личный кабинет?", ACCOUNTS, ACCOUNTS),
    ("unsubscribe me from the newsletter", SUBSCRIPTIONS, SUBSCRIPTIONS),
    ("отпишите меня от рассылки", SUBSCRIPTIONS, SUBSCRIPTIONS),
    ("my bank account was charged twice", None, ACCOUNTS),
    ("przelew na konto", None, ACCOUNTS),
    ("subscribe me when the boots are back", None, SUBSCRIPTIONS),
    ("chcę się skontaktować z konsultantem", None, None),
    ("where is my order", None, None),
])
def test_outside_topics(text: str, strong: str | None, any_word: str | None) -> None:
    assert outside_topic(text, strong_only=True) == strong
    assert outside_topic(text) == any_word


@pytest.mark.parametrize("text", [
    "where is A-1021? postcode 99-000",
    "Hi, this is Anna. Where is my order A-1003? I write from my other address.",
])
def test_a_proof_or_a_remark_after_a_request_is_no_second_request(
    nlu: NluModel, text: str
) -> None:
    assert understand_requests(nlu, text).requests == ()

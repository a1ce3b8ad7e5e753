from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from dialog.nlu import INTENTS, NluModel, evaluate, extract_entities
from dialog.nlu.features import NgramFeatures
from dialog.nlu.scoring import SoftmaxScorer

EVAL_FILE = Path(__file__).resolve().parents[1] / "nlu_eval.tsv"


@pytest.fixture(scope="module")
def model() -> NluModel:
    return NluModel.train()


INTENT_CASES = [
    # greet
    ("hello there, good morning", "greet"),
    ("hiya!", "greet"),
    ("dzień dobry, mam pytanie", "greet"),
    ("czesc", "greet"),
    ("добрый день", "greet"),
    ("привет!", "greet"),
    # goodbye
    ("ok bye, have a nice day", "goodbye"),
    ("see you later", "goodbye"),
    ("do widzenia", "goodbye"),
    ("to wszystko, pa", "goodbye"),
    ("до свидания", "goodbye"),
    ("всё, пока", "goodbye"),
    # thanks
    ("thanks a lot!", "thanks"),
    ("thank you so much for your help", "thanks"),
    ("dziekuje bardzo", "thanks"),
    ("wielkie dzięki za pomoc", "thanks"),
    ("спасибо большое", "thanks"),
    ("благодарю за помощь", "thanks"),
    # affirm
    ("yes", "affirm"),
    ("yeah sure", "affirm"),
    ("tak", "affirm"),
    ("jasne, zgadza się", "affirm"),
    ("да", "affirm"),
    ("ага, верно", "affirm"),
    # deny
    ("no", "deny"),
    ("nope, not really", "deny"),
    ("nie", "deny"),
    ("nie chcę", "deny"),
    ("нет", "deny"),
    ("не надо", "deny"),
    # order_status
    ("wher is my ordr", "order_status"),
    ("Where is my parcel A-1001?", "order_status"),
    ("gdzie jest moja paczka", "order_status"),
    ("gdzie jest moje zamowienie", "order_status"),
    ("где мой заказ", "order_status"),
    ("что с моим заказом A-1002?", "order_status"),
    # cancel_order
    ("please cancel my order A-1003", "cancel_order"),
    ("i want to cancel the order", "cancel_order"),
    ("chcę anulować zamówienie", "cancel_order"),
    ("anuluj zamowienie a1004", "cancel_order"),
    ("отмените заказ", "cancel_order"),
    ("хочу отменить мой заказ", "cancel_order"),
    # change_delivery
    ("can you deliver it tomorrow instead?", "change_delivery"),
    ("i need to change the delivery address", "change_delivery"),
    ("chcę zmienić adres dostawy", "change_delivery"),
    ("przełóżcie dostawę na piątek", "change_delivery"),
    ("перенесите доставку на завтра", "change_delivery"),
    ("хочу изменить адрес доставки", "change_delivery"),
    # return_order
    ("i want to return an item", "return_order"),
    ("how do i send it back?", "return_order"),
    ("chcę zrobić zwrot", "return_order"),
    ("odstąpienie od umowy", "return_order"),
    ("хочу вернуть товар", "return_order"),
    ("как оформить возврат", "return_order"),
    # human
    ("let me talk to a real person", "human"),
    ("connect me to an agent", "human"),
    ("chcę rozmawiać z konsultantem", "human"),
    ("chce rozmawiac z czlowiekiem", "human"),
    ("позовите оператора", "human"),
    ("живой человек", "human"),
    # product_availability
    ("is the blue jacket in stock?", "product_availability"),
    ("when will the sneakers be available", "product_availability"),
    ("czy ten produkt jest dostępny?", "product_availability"),
    ("czy macie to na stanie", "product_availability"),
    ("есть ли в наличии эта куртка?", "product_availability"),
    ("когда появится в продаже?", "product_availability"),
    # payment
    ("how can i pay?", "payment"),
    ("did you get my payment for A-1005?", "payment"),
    ("płatność nie przeszła", "payment"),
    ("potrzebuję faktury", "payment"),
    ("как оплатить заказ", "payment"),
    ("нужен счёт на оплату", "payment"),
    # out_of_scope
    ("what's the capital of France", "out_of_scope"),
    ("tell me a joke", "out_of_scope"),
    ("jaka jest pogoda", "out_of_scope"),
    ("kto wygra wybory", "out_of_scope"),
    ("расскажи анекдот", "out_of_scope"),
    ("какая сегодня погода", "out_of_scope"),
]


def test_every_intent_is_covered_by_the_cases() -> None:
    assert {intent for _, intent in INTENT_CASES} == set(INTENTS)


@pytest.mark.parametrize(("text", "intent"), INTENT_CASES)
def test_intent_is_understood_with_confidence(model: NluModel, text: str, intent: str) -> None:
    understanding = model.understand(text)

    assert understanding.intent == intent
    assert understanding.confidence >= model.threshold


def test_order_number_in_the_message_is_extracted_and_does_not_change_the_intent(
    model: NluModel,
) -> None:
    understanding = model.understand("cancel A-1017 please")

    assert understanding.intent == "cancel_order"
    assert understanding.entities.order_numbers == ("A-1017",)


@pytest.mark.parametrize("text", ["A-1001", "a1001", "#1001", "jan@example.com", "00-950", "1"])
def test_entity_only_message_has_no_intent_and_zero_confidence(model: NluModel, text: str) -> None:
    understanding = model.understand(text)

    assert understanding.intent == "out_of_scope"
    assert understanding.confidence == 0.0
    assert understanding.confidence < model.threshold


@pytest.mark.parametrize("text", ["qwzx vbnm", "asdkjh qwe", "blorf snark"])
def test_gibberish_is_out_of_scope_or_below_threshold(model: NluModel, text: str) -> None:
    understanding = model.understand(text)

    assert understanding.intent == "out_of_scope" or understanding.confidence < model.threshold


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("where is my parcel", "en"),
        ("I would like to cancel my order A-1001", "en"),
        ("gdzie jest moja paczka", "pl"),
        ("chce zmienic adres dostawy", "pl"),
        ("chcę zwrócić buty", "pl"),
        ("где мой заказ", "ru"),
        ("хочу вернуть товар A-1001", "ru"),
    ],
)
def test_language_is_detected_confidently_enough_to_switch(
    model: NluModel, text: str, language: str
) -> None:
    understanding = model.understand(text)

    assert understanding.language == language
    assert understanding.language_confidence >= 0.7


@pytest.mark.parametrize("text", ["A-1001", "ok", "1", "no", "tak", "jan@example.com", ""])
def test_short_or_entity_only_text_has_low_language_confidence(model: NluModel, text: str) -> None:
    understanding = model.understand(text)

    assert understanding.language in ("en", "pl", "ru")
    assert understanding.language_confidence < 0.5


@pytest.mark.parametrize(
    ("text", "order_numbers"),
    [
        ("where is my order A-1001?", ("A-1001",)),
        ("order a-1002 and A-1003", ("A-1002", "A-1003")),
        ("zamówienie a1001 nie doszło", ("A1001", "A-1001")),
        ("status of #1001", ("1001",)),
        ("#A-1005", ("A-1005",)),
        ("ref ORD-2024-0042", ("ORD-2024-0042",)),
        ("my number is 1001234", ("1001234",)),
        ("заказ А-1005 (Cyrillic А)", ("A-1005",)),
        ("заказ №1005", ("1005",)),
        ("paid 12.05.2024, call +48 600 700 800", ()),
        ("where is my order", ()),
    ],
)
def test_order_numbers_are_extracted(text: str, order_numbers: tuple[str, ...]) -> None:
    assert extract_entities(text).order_numbers == order_numbers


@pytest.mark.parametrize("text", ["a" * 100_000, "1" * 100_000, "x@" + "b." * 50_000 + "1"],
                         ids=["one-long-word", "digits", "dotted-domain"])
def test_a_long_message_is_scanned_in_one_pass(text: str) -> None:
    """The address pattern once rescanned a long word from each of its letters (100,000
    letters: about a minute). The thread is only a deadline for failure."""
    done = threading.Event()
    threading.Thread(target=lambda: (extract_entities(text), done.set()), daemon=True).start()
    assert done.wait(10)


def test_email_is_extracted_lower_cased_and_not_taken_for_an_order_number() -> None:
    entities = extract_entities("my mail is Jan.Kowalski1001@Example.COM, order A-1001")

    assert entities.emails == ("jan.kowalski1001@example.com",)
    assert entities.order_numbers == ("A-1001",)


@pytest.mark.parametrize(
    ("text", "postcodes"),
    [
        ("ul. Marszałkowska 10, 00-950 Warszawa", ("00-950",)),
        ("10 Downing Street, London SW1A 2AA", ("SW1A 2AA",)),
        ("Manchester M1 1AE", ("M1 1AE",)),
        ("Тверская 1, 101000 Москва", ("101000",)),
        ("Berlin 10115", ("10115",)),
    ],
)
def test_postcodes_are_extracted_as_written(text: str, postcodes: tuple[str, ...]) -> None:
    assert extract_entities(text).postcodes == postcodes


def test_polish_postcode_is_not_an_order_number() -> None:
    assert extract_entities("deliver to 00-950 please").order_numbers == ()


def test_digit_postcode_is_also_an_order_number_candidate() -> None:
    entities = extract_entities("101000")

    assert entities.postcodes == ("101000",)
    assert entities.order_numbers == ("101000",)


def test_evaluation_report_shows_accuracy_on_the_evaluation_set(model: NluModel) -> None:
    report = evaluate(model, EVAL_FILE)

    lines = report.splitlines()
    match = re.fullmatch(r"accuracy: (\d\.\d{3})", lines[-1])
    assert match is not None
    assert float(match.group(1)) >= 0.85
    assert all(any(line.startswith(intent + " ") for line in lines) for intent in INTENTS)


def test_evaluation_set_has_ten_examples_per_intent_and_language() -> None:
    counts: dict[tuple[str, str], int] = {}
    language = ""
    for line in EVAL_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# --- "):
            language = line.split()[2]
        elif "\t" in line:
            key = (language, line.split("\t", 1)[0])
            counts[key] = counts.get(key, 0) + 1
    assert {language for language, _ in counts} == {"en", "pl", "ru"}
    assert len(counts) == 3 * len(INTENTS)
    assert min(counts.values()) >= 10


def test_evaluation_rejects_an_unknown_intent_naming_the_line(
    model: NluModel, tmp_path: Path
) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("# comment\ngreet\thello\nwhere_is_it\twhere is my order\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"line 3: unknown intent 'where_is_it'"):
        evaluate(model, path)


def test_training_rejects_a_data_file_with_an_unknown_intent(tmp_path: Path) -> None:
    for language in ("en", "pl", "ru"):
        (tmp_path / f"{language}.tsv").write_text("greet\thello\n", encoding="utf-8")
    (tmp_path / "pl.tsv").write_text("greet\tcześć\n\ngreeting\tczesc\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"pl\.tsv, line 3"):
        NluModel.train(tmp_path)


def test_fast_scoring_matches_scikit_learn_predict_proba() -> None:
    documents = [
        text.split()
        for text in (
            "where is my order",
            "cancel it",
            "hello there",
            "cancel my order",
            "hi",
            "where is it",
        )
    ]
    labels = ["status", "cancel", "greet", "cancel", "greet", "status"]
    features = NgramFeatures(char_sizes=(2, 4), word_sizes=(1, 2))
    matrix = features.fit(documents)
    classifier = LogisticRegression(C=10.0).fit(matrix, labels)
    scorer = SoftmaxScorer(classifier)

    expected = classifier.predict_proba(features.matrix([["where", "my", "order"]]))[0]
    actual = scorer.probabilities(features.vector(["where", "my", "order"]))

    assert scorer.classes == tuple(classifier.classes_)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)

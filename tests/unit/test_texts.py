"""Every reply text exists in English, Polish and Russian, with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dialog.texts import LANGUAGES, Amount, Texts

TEXTS = Texts.load()
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    assert TEXTS.keys(language) == TEXTS.keys("en")
    for key in TEXTS.keys("en"):
        assert TEXTS.placeholders(language, key) == TEXTS.placeholders("en", key), key


# Where a call names a text key: the position of the key among its arguments.
_KEY_ARGUMENT = {"say": 0, "text": 0, "button": 0, "ask": 3, "ask_again": 1, "tell": 2}


def _keys_named_in_dialog_code() -> tuple[set[str], set[str]]:
    """Literal keys, and the prefixes of f-string keys (f"status_{...}"), that dialog code
    passes to say/text/button, choices.ask/ask_again, proactive tell, or a `*key=` argument."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in (ROOT / "dialog").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            position = _KEY_ARGUMENT.get(name or "")
            named = [node.args[position]] if position is not None and len(node.args) > position \
                else []
            named += [k.value for k in node.keywords if k.arg and k.arg.endswith("key")]
            for argument in named:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    keys.add(argument.value)
                elif isinstance(argument, ast.JoinedStr) and argument.values \
                        and isinstance(argument.values[0], ast.Constant):
                    prefixes.add(str(argument.values[0].value))
    return keys, prefixes


def test_every_key_flows_use_exists() -> None:
    used, prefixes = _keys_named_in_dialog_code()
    assert {"returns_ask_proof", "confirm_summary", "choice_already_answered",
            "confirm_request"} <= used, "the scan misses a way keys are named"
    assert used <= TEXTS.keys("en"), used - TEXTS.keys("en")
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in TEXTS.keys("en")), prefix


def test_every_key_built_from_a_code_exists() -> None:
    """f"confirm_voucher_{reason}" and the like: a key for every code the order core has."""
    from dialog.flows.confirm_plan import PAYMENTS
    from dialog.nlu.requests import ACTIONABLE
    from orders.billing import ACCEPTED_METHODS
    from orders.returns import METHODS, REASONS
    from orders.states import OrderStatus
    from orders.vouchers import REFUSALS

    _, prefixes = _keys_named_in_dialog_code()
    families = {
        "confirm_option_": PAYMENTS, "confirm_voucher_": REFUSALS,
        "payment_method_": ACCEPTED_METHODS, "returns_created_": METHODS,
        "returns_method_": METHODS, "returns_reason_": REASONS,
        "status_": [status.value for status in OrderStatus],
        "tracking_history_": [status.value for status in OrderStatus],
        "clarify_what_": ACTIONABLE,
    }
    assert prefixes == set(families), "a new f-string key: say here which codes it takes"
    wanted = {prefix + code for prefix, codes in families.items() for code in codes}
    assert wanted <= TEXTS.keys("en"), wanted - TEXTS.keys("en")


def test_every_clarification_offer_and_outside_topic_has_its_text() -> None:
    """Keys built in variables (dialog/flows/clarify.py, outside.py, dialog/proposals.py)."""
    from dialog.nlu.requests import ACTIONABLE
    from dialog.nlu.topics import ACCOUNTS, SUBSCRIPTIONS

    wanted = {f"clarify_button_{intent}" for intent in ACTIONABLE - {"human"}}
    wanted |= {f"also_{intent}" for intent in ACTIONABLE}
    wanted |= {f"out_of_scope_{topic}" for topic in (ACCOUNTS, SUBSCRIPTIONS)}
    assert wanted <= TEXTS.keys("en"), wanted - TEXTS.keys("en")


@pytest.mark.parametrize(("language", "big", "small"), [
    ("en", "1234.05 EUR", "-0.05 EUR"), ("pl", "1234,05 EUR", "-0,05 EUR"),
    ("ru", "1234,05 EUR", "-0,05 EUR"), ("de", "1234.05 EUR", "-0.05 EUR"),
])
def test_money_is_written_the_languages_way(language: str, big: str, small: str) -> None:
    assert TEXTS.money(language, 123405, "EUR") == big
    assert TEXTS.money(language, -5, "EUR") == small
    refund = TEXTS.get(language, "notify_return_refunded", number="A-1", refund=Amount(-5, "EUR"))
    assert small in refund


def test_unknown_language_falls_back_to_english() -> None:
    assert TEXTS.get("de", "handoff_already") == TEXTS.get("en", "handoff_already")


def test_every_order_status_has_a_status_text() -> None:
    from orders.states import OrderStatus

    assert {f"status_{status.value}" for status in OrderStatus} <= TEXTS.keys("en")

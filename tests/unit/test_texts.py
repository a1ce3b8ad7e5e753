"""Every reply text exists in English, Polish and Russian, with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dialog.texts import LANGUAGES, Texts

TEXTS = Texts.load()
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    assert TEXTS.keys(language) == TEXTS.keys("en")
    for key in TEXTS.keys("en"):
        assert TEXTS.placeholders(language, key) == TEXTS.placeholders("en", key), key


def test_every_key_flows_use_exists() -> None:
    """Keys named in flow code (say/text/button calls with a literal) are in the catalogue."""
    used: set[str] = set()
    for path in (ROOT / "dialog").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("say", "text", "button")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add(node.args[0].value)
    assert used, "the scan found no texts at all"
    assert used <= TEXTS.keys("en"), used - TEXTS.keys("en")


def test_unknown_language_falls_back_to_english() -> None:
    assert TEXTS.get("de", "handoff_already") == TEXTS.get("en", "handoff_already")


def test_every_order_status_has_a_status_text() -> None:
    from orders.states import OrderStatus

    assert {f"status_{status.value}" for status in OrderStatus} <= TEXTS.keys("en")

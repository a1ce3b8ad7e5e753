"""The product index answers every question as scoring every alias of every product did:
the demo shop's names in three languages, asked for by each word of them, its plural and
inflected forms, a letter changed or cut, and words nobody indexed."""

from __future__ import annotations

import pytest

from orders.demo import NAMES, PRODUCTS
from orders.product_index import ProductIndex, words_of
from tests.product_scan import full_scan

ROWS = sorted((sku, name, {"en": name, "pl": NAMES[sku][0], "ru": NAMES[sku][1]})
              for sku, name, *_ in PRODUCTS)
ENDINGS = ["", "s", "es", "y", "i", "a", "e", "u", "ami", "ów", "ку", "ки", "ой", "ями", "ing"]


def scanned(text: str) -> list[str]:
    return full_scan(((sku, names) for sku, _, names in ROWS), text)


def asked_words() -> list[str]:
    """Every indexed word changed the ways customers change it."""
    words = {w for _, name, names in ROWS for text in (name, *names.values())
             for w in words_of(text)}
    asked = set()
    for word in words:
        for cut in range(0, 4):
            stem = word[:len(word) - cut] if cut else word
            asked.update(stem + ending for ending in ENDINGS)
            asked.add(stem[:-1] + "x")
    return sorted(asked)


def test_every_word_finds_what_the_full_scan_found() -> None:
    index = ProductIndex((sku, name, names) for sku, name, names in ROWS)
    asked = asked_words()
    assert len(asked) > 3000
    differing = [w for w in asked if [p.sku for p in index.find(w)] != scanned(w)]
    assert differing == []


@pytest.mark.parametrize("text", [
    "do you have the wireless mouse?", "czy macie mysz bezprzewodową", "беспроводную мышку",
    "mechanical keyboards", "MS-210", "ms 210", "a mug and a monitor arm", "??", "",
])
def test_sentences_find_what_the_full_scan_found(text: str) -> None:
    index = ProductIndex((sku, name, names) for sku, name, names in ROWS)
    assert [p.sku for p in index.find(text)] == scanned(text)

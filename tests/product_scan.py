"""What the product search answered before it had an index: every alias of every product
scored against the customer's words. The index must answer the same (tests/unit and
tests/integration compare them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from orders.product_index import MAX_CHOICES, _aliases, _word_score, words_of


def full_scan(rows: Iterable[tuple[str, Mapping[str, str]]], text: str) -> list[str]:
    """The skus found for text among rows (sku, names by language), in sku order."""
    said = words_of(text)
    scored = []
    for sku, names in sorted(rows, key=lambda row: row[0]):
        score = 0
        for alias, bonus in _aliases(sku, tuple(names.values())):
            scores = [max((_word_score(w, word) for w in said), default=0) for word in alias]
            if all(scores):
                score = max(score, sum(scores) + bonus)
        if score:
            scored.append((score, sku))
    best = max((score for score, _ in scored), default=0)
    return [sku for score, sku in scored if score == best][:MAX_CHOICES]

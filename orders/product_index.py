"""The words of the catalogue, indexed: which products a customer's words can name.

A product is named by its sku, by each whole name (any language) and by each longer word of a
name, with inflected and plural forms and without diacritics (orders/stock.py says why). The
index files each alias under its rarest word, so a question scores only the aliases whose
rarest word it matched, instead of every alias of every product. The rules of `_word_score`
decide a match; the index only finds the words that can pass them: the same word, the word
less a plural ending, or a word sharing the said word's prefix of max(len - 3, 3) letters
(every fuzzy match shares at least that much, see `_candidates`).

An index is immutable and knows nothing of stock: it is built from (sku, name, names) rows
and kept while the catalogue's version stays the same (orders/catalogue_version.py).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from orders.catalogue import fold, name_in

MAX_CHOICES = 6
_FUZZY_FROM = 6  # aliases this long also match inflected forms ("klawiatury", "кружку")
_SHORT_FUZZY_FROM = 4  # these, by a changed last letter or two only
_WORD_ALONE_FROM = 3
# Words of product names too common to name a product alone (folded, as _words gives them).
_COMMON = frozenset({"the", "and", "for", "with", "set", "dla", "bez", "lub", "oraz",
                     "для", "без", "или"})
_WORD = re.compile(r"[^\W_]+")

Alias = tuple[tuple[str, ...], int]  # the words, and the bonus of naming the whole product


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _word_score(said: str, alias: str) -> int:
    """2 for the same word, 1 for an inflected or plural form, 0 otherwise."""
    if said == alias:
        return 2
    if said in (alias + "s", alias + "es"):
        return 1
    common = len(_common_prefix(said, alias))
    if len(alias) >= _FUZZY_FROM:
        if common >= len(alias) - 2 and len(said) - common <= 3:
            return 1
    elif len(alias) >= _SHORT_FUZZY_FROM and common >= len(alias) - 1 and len(said) - common <= 2:
        return 1  # "мышку" for "мышь", "myszki" for "mysz"
    return 0


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


@lru_cache(maxsize=65536)  # the same names are indexed again after every catalogue change
def _aliases(sku: str, names: tuple[str, ...]) -> tuple[Alias, ...]:
    """(words, bonus) of each way to name the product: its sku, each whole name (a bonus
    over a word of it: "monitor" is the monitor, not the monitor arm) and each word alone."""
    whole = [tuple(w for w in words_of(name) if _names_alone(w)) for name in names]
    aliases = [(tuple(words_of(sku)), 1), *((words, 1) for words in whole)]
    aliases += [((word,), 0) for words in whole for word in words]
    return tuple(dict.fromkeys(alias for alias in aliases if alias[0]))


def _names_alone(word: str) -> bool:
    # Not "do", "для", "2" or "m": such words name nothing by themselves.
    return len(word) >= _WORD_ALONE_FROM and not word.isdigit() and word not in _COMMON


@dataclass(frozen=True, slots=True)
class IndexedProduct:
    sku: str
    names: Mapping[str, str]  # language -> name
    name: str  # the products.name column: the name when `names` has none

    def name_in(self, language: str) -> str:
        return name_in(self.names, language, self.name)


class ProductIndex:
    """The products (in sku order) and their aliases, each filed under its rarest word: an
    alias can only be complete when that word was said, so a question looks at the aliases
    of the words it matched and no others ("GEN-04321" at the one sku with "04321", not at
    every sku with "gen")."""

    def __init__(self, rows: Iterable[tuple[str, str, Mapping[str, Any] | None]]) -> None:
        """rows: (sku, name, names) of every product, in sku order."""
        self._products: list[IndexedProduct] = []
        aliases_of: list[tuple[Alias, ...]] = []
        products_with: dict[str, int] = {}
        for sku, name, names in rows:
            names = {k: str(v) for k, v in (names or {}).items()}
            aliases = _aliases(sku, tuple(names.values()) or (name,))
            self._products.append(IndexedProduct(sku, names, name))
            aliases_of.append(aliases)
            for word in {word for words, _ in aliases for word in words}:
                products_with[word] = products_with.get(word, 0) + 1
        self._by_word: dict[str, list[tuple[int, tuple[str, ...], int]]] = {}
        for position, aliases in enumerate(aliases_of):
            for words, bonus in aliases:
                rarest = min(words, key=products_with.__getitem__)
                self._by_word.setdefault(rarest, []).append((position, words, bonus))
        self._sorted_words = sorted(products_with)
        self._known = products_with

    def __len__(self) -> int:
        return len(self._products)

    def find(self, text: str) -> list[IndexedProduct]:
        """The products the text names best (several when it is ambiguous, none if unknown),
        in sku order, at most MAX_CHOICES. A product scores its best alias whose every word
        the customer said: the sum of the words' scores, plus the alias's bonus."""
        matched: dict[str, int] = {}
        for said in set(words_of(text)):
            for word in self._candidates(said):
                score = _word_score(said, word)
                if score > matched.get(word, 0):
                    matched[word] = score
        scores: dict[int, int] = {}
        for word in matched:
            for position, words, bonus in self._by_word.get(word, ()):
                total = 0
                for alias_word in words:
                    found = matched.get(alias_word, 0)
                    if not found:
                        total = 0
                        break
                    total += found
                if total and total + bonus > scores.get(position, 0):
                    scores[position] = total + bonus
        if not scores:
            return []
        best = max(scores.values())
        return [self._products[position]
                for position in sorted(p for p, score in scores.items() if score == best)
                ][:MAX_CHOICES]

    def _candidates(self, said: str) -> Iterator[str]:
        """The indexed words that may match `said` by _word_score (a superset): the same word,
        it less "s" or "es", and, for a fuzzy match, those sharing its first max(len - 3, 3)
        letters. A fuzzy match needs a common prefix of at least len(alias) - 2 letters of an
        alias of 6+ letters (so 4+), or len(alias) - 1 of one of 4-5 letters (so 3+), and
        leaves at most 3 of the said word's letters after it."""
        for word in (said, said[:-1], said[:-2]):
            if word in self._known:
                yield word
        if len(said) < 3:
            return
        prefix = said[:max(len(said) - 3, 3)]
        words = self._sorted_words
        at = bisect_left(words, prefix)
        while at < len(words) and words[at].startswith(prefix):
            yield words[at]
            at += 1

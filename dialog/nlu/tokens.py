"""Text normalisation and tokenisation shared by the intent and language models.

Entity spans are replaced by placeholder tokens (see ``entities.mask``) before a text reaches
the models; the placeholders survive tokenisation as single tokens such as ``<order>``.
"""

from __future__ import annotations

import re

# Customers often type Polish without diacritics and Russian without "ё"; folding both
# spellings together lets one training line cover both.
_FOLD = str.maketrans("ąćęłńóśźż\u0451", "acelnoszz\u0435")  # ... and Cyrillic ё -> е
_TOKEN = re.compile(r"<[a-z]+>|\w+")
_TOKEN_OR_BREAK = re.compile(r"<[a-z]+>|\w+|[.,!?;:()]")


def is_placeholder(token: str) -> bool:
    return token.startswith("<")


def is_word(token: str) -> bool:
    """A token with at least one letter that is not a placeholder."""
    if token.isalpha():
        return True
    return not is_placeholder(token) and any(char.isalpha() for char in token)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, punctuation dropped, diacritics kept."""
    return _TOKEN.findall(text.lower())


def tokenize_with_breaks(text: str) -> list[str]:
    """As ``tokenize``, plus the punctuation that ends a clause as tokens of its own."""
    return _TOKEN_OR_BREAK.findall(text.lower())


def fold(token: str) -> str:
    """Strip Polish diacritics and Russian "ё" from a lower-cased token."""
    return token.translate(_FOLD)

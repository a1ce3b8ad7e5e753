"""The language of a mail with no new text of its own, from what it does hold (the subject,
the quoted mail, the client's attribution line): enough to answer it in that language.

By script and the words mail clients write, not by the NLU's model: the text is not the
customer's own and may be a single line ("Odp: Zamówienie", "пн, 2 мар. 2026 г. ... :").
"""

from __future__ import annotations

import re

from dialog.nlu.labels import LANGUAGES

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-ząćęłńóśźż]", re.IGNORECASE)
_POLISH = re.compile(
    r"[ąćęłńśźż]|\b(?:odp|napisał|napisała|pisze|wysłano|wysłane|temat|zamówienie|dzień dobry)\b",
    re.IGNORECASE,
)
_SAMPLE_CHARS = 5000


def mail_language(text: str) -> str:
    """"ru", "pl" or "en" (the default)."""
    sample = text[:_SAMPLE_CHARS]
    if len(_CYRILLIC.findall(sample)) > len(_LATIN.findall(sample)) // 2:
        return "ru"
    if _POLISH.search(sample):
        return "pl"
    return LANGUAGES[0]

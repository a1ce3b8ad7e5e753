"""Russian typed in Latin letters ("gde moi zakaz", "spasibo", "vernut' den'gi").

Customers without a Cyrillic keyboard romanise Russian in no one standard way: й is "i",
"y" or "j", х is "h" or "kh", я is "ya" or "ja", ь is "'" or nothing. Training romanises the
Russian examples in several such schemes (``romanise``), so the language detector learns what
romanised Russian looks like; serving turns a message detected as such back into Cyrillic
(``cyrillise``) and classifies it with the Russian the model was trained on. What the way
back cannot restore (и/й/ы, е/э, ь: "moi" -> "мои" for "мой") is left to the character
n-grams and the spelling tolerance; training on round-tripped copies of the Russian examples
was tried and changed nothing on the dev sets but the training time.
"""

from __future__ import annotations

import re

_COMMON = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "ч": "ch", "ш": "sh", "ъ": "",
    "э": "e",
}  # fmt: skip

# Three ways people write the letters without one obvious Latin twin: chat style
# ("gde moi zakaz", "spasibo, vse horosho"), the passport/Wikipedia style ("kh", "ts", "ya")
# and the j-style of older Slavic transliteration ("ja", "ju", "shch", "'").
SCHEMES: tuple[dict[str, str], ...] = (
    {**_COMMON, "й": "i", "х": "h", "ц": "c", "щ": "sch", "ы": "y", "ь": "", "ю": "yu",
     "я": "ya"},
    {**_COMMON, "й": "y", "х": "kh", "ц": "ts", "щ": "shch", "ы": "y", "ь": "", "ю": "yu",
     "я": "ya"},
    {**_COMMON, "й": "j", "х": "h", "ц": "ts", "щ": "shch", "ы": "i", "ь": "'", "ю": "ju",
     "я": "ja", "ё": "jo"},
)  # fmt: skip

# Longest first, so "shch" is not read as "sh" + "ch".
_BACK = {
    "shch": "щ", "sch": "щ", "zh": "ж", "kh": "х", "ch": "ч", "sh": "ш", "ts": "ц",
    "yu": "ю", "ju": "ю", "ya": "я", "ja": "я", "yo": "ё", "jo": "ё", "ye": "е",
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х",
    "i": "и", "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
    "q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс",
    "y": "ы", "z": "з", "'": "ь", "’": "ь",
}  # fmt: skip
_BACK_PATTERN = re.compile("|".join(sorted(map(re.escape, _BACK), key=len, reverse=True)))
_VOWELS = frozenset("аеёиоуыэюя")
# An apostrophe after a Latin letter is a soft sign ("den'gi", "vernut'").
_SOFT_SIGN = re.compile(r"(?<=[a-z])['’]")
_WORD = re.compile(r"<[a-z]+>|[a-zь]+")


def romanise(text: str, scheme: int) -> str:
    """``text`` (lower-cased Russian) in Latin letters by one of ``SCHEMES``."""
    table = SCHEMES[scheme]
    return "".join(table.get(char, char) for char in text)


def cyrillise(text: str) -> str:
    """Latin letters of lower-cased ``text`` back to Cyrillic; placeholders and digits stay."""
    text = _SOFT_SIGN.sub("ь", text)
    return _WORD.sub(_word, text)


def _word(match: re.Match[str]) -> str:
    word = match.group()
    if word.startswith("<"):
        return word
    cyrillic = _BACK_PATTERN.sub(lambda m: _BACK[m.group()], word)
    # "moy", "kakoy": a final y after a vowel is й, not ы
    if len(cyrillic) > 1 and cyrillic.endswith("ы") and cyrillic[-2] in _VOWELS:
        cyrillic = cyrillic[:-1] + "й"
    return cyrillic

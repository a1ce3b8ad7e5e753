"""Topics outside this shop's business that deserve a specific honest answer.

The shop has no customer accounts (customers order with their e-mail address), so there is no
password, login or profile; nor does it sell subscriptions or plans, and this chat does not
manage newsletters. A customer asking about those gets a line that says so
(dialog/flows/outside.py) instead of "I didn't understand" or a wrong flow.

Stems (regular expressions) are matched at the start of a word, on lower case with Polish
diacritics and "ё" folded, so that one stem covers the inflected forms (hasło/hasła/haśle,
пароль/пароля).
"""

from __future__ import annotations

import re

from dialog.nlu.tokens import fold

ACCOUNTS = "accounts"
SUBSCRIPTIONS = "subscriptions"

# Stems per topic, all three languages together (they do not collide across scripts).
# Strong words name the topic in any message ("password", "newsletter"): they outweigh even a
# confident intent, which then comes from other words of the message ("I can't log in to pay"
# is not a payment question here). Weak words also have a meaning in the shop's business ("bank
# account", "konto" for a transfer, "subscribe" to a back-in-stock notice, "тариф" of
# delivery), so they count only when the message is not confidently something else.
_STRONG: dict[str, tuple[str, ...]] = {
    ACCOUNTS: (
        "password", "passwd", "login", "log in", "logging in", "log into", "sign in", "signin",
        "sign up", "signup", "username", "user name",
        "haslo", "hasla", "hasle", "zaloguj", "zalogowa", "logowani",
        "аккаунт", "акаунт", "учетн", "парол", "логин", "личн[а-я]* кабинет",
    ),
    SUBSCRIPTIONS: (
        "newsletter", "news letter", "unsubscri", "mailing list", "membership",
        r"(?:free|paid|pro|premium) plan",
        "abonament", "czlonkostw", r"(?:darmowy|platny) plan", r"plan premium",
        "рассылк", "отпис", "членств",
    ),
}
_WEAK: dict[str, tuple[str, ...]] = {
    ACCOUNTS: (
        "account", "my profile", "register", "registration",
        r"kont[oa]\b", "koncie", "kontem", "profil", "rejestracj", "zarejestr",
        "войти в", "вход в", "регистрац", "зарегистр", "профил",
    ),
    SUBSCRIPTIONS: (
        "subscri", "premium", "my plan",
        "subskrypc", "subskryb", "wypisz", "wypisac",
        "подписк", "подпиш", "премиум", "тариф",
    ),
}


def _patterns(stems: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    return {topic: re.compile(r"(?<!\w)(?:" + "|".join(words) + ")")
            for topic, words in stems.items()}


_STRONG_PATTERNS = _patterns(_STRONG)
_ALL_PATTERNS = _patterns({topic: _STRONG[topic] + _WEAK[topic] for topic in _STRONG})


def outside_topic(text: str, strong_only: bool = False) -> str | None:
    """ACCOUNTS, SUBSCRIPTIONS, or None when the message names neither (with `strong_only`,
    by a strong word)."""
    folded = " ".join(map(fold, text.lower().split()))
    for topic, pattern in (_STRONG_PATTERNS if strong_only else _ALL_PATTERNS).items():
        if pattern.search(folded):
            return topic
    return None

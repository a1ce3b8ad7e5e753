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

ACCOUNTS = "accounts"
SUBSCRIPTIONS = "subscriptions"

# Stems per topic, all three languages together: they do not collide across scripts.
_STEMS: dict[str, tuple[str, ...]] = {
    ACCOUNTS: (
        # English
        "account", "password", "passwd", "login", "log in", "logging in", "log into",
        "sign in", "signin", "sign up", "signup", "username", "user name", "my profile",
        "register", "registration",
        # Polish
        r"kont[oa]\b", "koncie", "kontem", "haslo", "hasla", "hasle", "zaloguj",
        "zalogowa", "logowani", "rejestracj", "zarejestr", "profil",
        # Russian
        "аккаунт", "акаунт", "учетн", "парол", "логин", "войти в", "вход в",
        "личный кабинет", "личном кабинет", "личного кабинет", "регистрац",
        "зарегистр", "профил",
    ),
    SUBSCRIPTIONS: (
        # English
        "newsletter", "news letter", "subscri", "unsubscri", "premium", "membership",
        "free plan", "paid plan", "pro plan", "my plan", "mailing list",
        # Polish
        "subskrypc", "subskryb", "abonament", "wypisz", "wypisac", "czlonkostw",
        "plan premium", "pakiet premium", "darmowy plan",
        # Russian
        "рассылк", "подписк", "подпиш", "отпиш", "отпис", "премиум", "тариф", "членств",
    ),
}
_FOLD = str.maketrans("ąćęłńóśźżё", "acelnoszzе")
_PATTERNS = {
    topic: re.compile(r"(?<!\w)(?:" + "|".join(stems) + ")")
    for topic, stems in _STEMS.items()
}


def outside_topic(text: str) -> str | None:
    """ACCOUNTS, SUBSCRIPTIONS, or None when the message names neither."""
    folded = " ".join(text.lower().translate(_FOLD).split())
    for topic, pattern in _PATTERNS.items():
        if pattern.search(folded):
            return topic
    return None

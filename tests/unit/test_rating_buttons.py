"""The one-tap rating works the same on every channel: stars in order, so the option number
is the score (an email reply "4" rates 4), and payloads fit every platform's buttons."""

from __future__ import annotations

import pytest

from channels.email.options import chosen_button, numbered
from channels.telegram.sending import keyboard
from dialog.flows.rating import rating_buttons, with_question
from dialog.texts import LANGUAGES, Texts

TEXTS = Texts.load()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_option_number_is_the_score(language: str) -> None:
    buttons = list(rating_buttons(TEXTS, language))
    assert [b.payload for b in buttons] == [f"rating:{n}" for n in range(1, 6)]
    assert numbered(buttons)[3] == "4. ★★★★"
    for score in range(1, 6):
        picked = chosen_button(str(score), buttons)
        assert picked is not None and picked.payload == f"rating:{score}"
    assert with_question(TEXTS, language, "Bye!").startswith("Bye!\n\n")


def test_telegram_shows_the_five_stars_as_inline_buttons() -> None:
    markup = keyboard(rating_buttons(TEXTS, "en"))
    assert markup is not None
    assert [row[0]["callback_data"] for row in markup["inline_keyboard"]] == [
        f"rating:{n}" for n in range(1, 6)]

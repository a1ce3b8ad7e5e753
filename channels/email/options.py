"""Buttons in mail: shown as numbered options; a reply with a number (or the words) picks one."""

from __future__ import annotations

import re
import unicodedata

from dialog.messages import Button

MAX_ANSWER_CHARS = 80  # a longer reply is a message, not a choice
_NUMBER = re.compile(
    r"^(?:option|opcja|opcję|opcje|wybór|wybieram|nr|no|number|numer|вариант|пункт|номер|№)?"
    r"\s*[#(\[]?\s*(\d{1,2})\s*[.)\]]?\s*[.!]?$",
    re.IGNORECASE,
)


def numbered(buttons: tuple[Button, ...] | list[Button]) -> list[str]:
    return [f"{index}. {button.title}" for index, button in enumerate(buttons, 1)]


def chosen_button(text: str, buttons: list[Button]) -> Button | None:
    """The option a short reply picks: "2", "2.", "option 2", "(2)", or the option's words."""
    if not buttons:
        return None
    answer = text.strip()
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        return None
    first_line = answer.split("\n", 1)[0].strip()
    match = _NUMBER.match(first_line)
    if match and _is_alone(answer, first_line):
        index = int(match.group(1))
        return buttons[index - 1] if 1 <= index <= len(buttons) else None
    wanted = _words(answer)
    for button in buttons:
        if wanted and wanted == _words(button.title):
            return button
    return None


def _is_alone(answer: str, first_line: str) -> bool:
    """Only a short courtesy may follow the number ("2\\n\\nThanks")."""
    rest = answer[len(first_line):].strip()
    return len(rest) <= 40


def _words(text: str) -> str:
    """Lower-case words without punctuation or a leading option number."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"^\s*\d{1,2}\s*[.)]\s*", "", text)
    return " ".join(re.findall(r"\w+", text))

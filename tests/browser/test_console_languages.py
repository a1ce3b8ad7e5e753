"""The console speaks the operator's language: a Polish and a Russian browser get the whole
page in Polish and Russian (console/static/locales/*.json), from the login form to the
"What did they mean?" intents, and none of the English labels shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PageFactory
from tests.browser.test_console import script_errors, tid, transcript, waiting
from tests.browser.test_widget import messages, open_chat, say
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

LOCALES = Path(__file__).resolve().parents[2] / "console" / "static" / "locales"
ENGLISH = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))

# What a Polish or Russian operator sees, word for word, and what their customer writes.
SEEN = {
    "pl-PL": {
        "asks": "chcę rozmawiać z człowiekiem",
        "login-submit": "Zaloguj się",
        "connection": "Na żywo",
        "title": "konsola orderbot",
        "queue-channel": "Czat na stronie",
        "queue-language": "Polski",
        "queue-customer": "Anonimowy klient",
        "claim": "Przejmij",
        "conversation-status": "Prowadzisz tę rozmowę",
        "queue-holder": "Prowadzisz Ty",
        "meaning-toggle": "Co klient miał na myśli?",
        "return_order": "Zwrot towaru lub pieniędzy",
        "meant": "Chodziło o: Zwrot towaru lub pieniędzy",
        "reply-placeholder":
            "Napisz do klienta — Enter wysyła, Shift+Enter zaczyna nowy wiersz",
        "logout": "Wyloguj",
    },
    "ru-RU": {
        "asks": "хочу поговорить с человеком",
        "login-submit": "Войти",
        "connection": "В сети",
        "title": "консоль orderbot",
        "queue-channel": "Веб-чат",
        "queue-language": "Русский",
        "queue-customer": "Анонимный клиент",
        "claim": "Взять",
        "conversation-status": "Вы ведёте этот разговор",
        "queue-holder": "Ведёте вы",
        "meaning-toggle": "Что имел в виду клиент?",
        "return_order": "Возврат товара или денег",
        "meant": "Имелось в виду: Возврат товара или денег",
        "reply-placeholder":
            "Напишите клиенту — Enter отправляет, Shift+Enter начинает новую строку",
        "logout": "Выйти",
    },
}


def table(locale: str) -> dict[str, str]:
    language = locale.split("-")[0]
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


async def english_left(page: Page, translated: dict[str, str]) -> list[str]:
    """The English labels (of two words or more, not the same in the other language) that the
    page shows as text."""
    shown = await page.evaluate("document.body.innerText")
    return sorted(text for key, text in ENGLISH.items()
                  if " " in text and "{" not in text and translated[key] != text
                  and text in shown)


@pytest.mark.parametrize("locale", sorted(SEEN))
async def test_a_polish_or_russian_browser_gets_the_console_in_its_language(
    new_page: PageFactory, live_server: LiveServer, locale: str
) -> None:
    seen, translated = SEEN[locale], table(locale)
    operator = await new_page(locale=locale)
    errors = script_errors(operator)
    await operator.goto(live_server.url + "/console")
    await expect(tid(operator, "login-submit")).to_have_text(seen["login-submit"])
    await expect(operator.locator("html")).to_have_attribute("lang", locale.split("-")[0])
    assert await english_left(operator, translated) == []

    await tid(operator, "login-username").fill("demo")
    await tid(operator, "login-password").fill("demo")
    await tid(operator, "login-submit").click()
    await expect(tid(operator, "connection")).to_have_text(seen["connection"])
    await expect(tid(operator, "logout")).to_have_text(seen["logout"])
    await expect(operator).to_have_title(seen["title"])

    customer = await new_page(locale=locale)
    await open_chat(customer, live_server.url + "/")
    await say(customer, seen["asks"])
    await expect(messages(customer, "bot")).not_to_have_count(0)

    item = waiting(operator).first
    await expect(item).to_be_visible()
    await expect(operator).to_have_title(re.compile(r"^\(1\) " + re.escape(seen["title"]) + "$"))
    await expect(item.get_by_test_id("queue-reason")).to_have_text(
        translated["reason.customer_asked"])
    for name in ("queue-channel", "queue-language", "queue-customer"):
        await expect(item.get_by_test_id(name)).to_have_text(seen[name])

    await item.click()
    await expect(tid(operator, "claim")).to_have_text(seen["claim"])
    await expect(tid(operator, "reply-input")).to_have_attribute(
        "placeholder", seen["reply-placeholder"])
    await tid(operator, "claim").click()
    await expect(tid(operator, "conversation-status")).to_have_text(
        seen["conversation-status"])
    await expect(tid(operator, "queue-claimed").get_by_test_id("queue-holder")).to_have_text(
        seen["queue-holder"])

    said = transcript(operator, "customer").filter(has_text=seen["asks"])
    toggle = said.get_by_test_id("meaning-toggle")
    await expect(toggle).to_have_text(seen["meaning-toggle"])
    await toggle.click()
    options = said.get_by_test_id("meaning-option")
    await expect(options).to_have_count(13)
    await options.filter(has_text=seen["return_order"]).click()
    await expect(toggle).to_have_text(seen["meant"])

    assert await english_left(operator, translated) == []
    assert errors == []

"""Operators teach the bot, end to end in a real Chromium: a customer writes something the bot
misunderstands, an operator marks in the console what they meant, `python bot.py nlu retrain`
learns it, and after a restart the bot understands the same words from a new customer."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import PageFactory
from tests.browser.test_console import (
    ASK_FOR_A_PERSON,
    log_in,
    script_errors,
    tid,
    transcript,
    waiting,
)
from tests.browser.test_widget import messages, open_chat, say
from tests.conftest import BotFactory, serve

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
# Ways to say "the item came damaged" (a return) that the training data alone does not teach;
# the test takes the first one the current model gets wrong (when the data learns them all,
# add another).
DAMAGE_WORDINGS = [
    "the parcel smells of smoke",
    "the jumper shrank after one wash",
    "can I get a reimbursement",
]
RETURN_FLOW = re.compile("Which order would you like to return items from")


def _retrain(database_url: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORDERBOT__DATABASE__URL": database_url,
           "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "nlu", "retrain"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


async def _customer_says(page: Page, url: str, text: str) -> None:
    await open_chat(page, url)
    await say(page, text)
    await expect(messages(page, "bot")).not_to_have_count(0)


async def test_an_operators_label_teaches_the_bot(
    new_page: PageFactory, make_bot: BotFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    bot = await make_bot()
    server = await serve(bot)
    try:
        misunderstood = next((text for text in DAMAGE_WORDINGS
                              if bot.nlu.understand(text).intent != "return_order"
                              or bot.nlu.understand(text).confidence < bot.nlu.threshold),
                             None)
        assert misunderstood is not None, "the model understands every wording: add one"

        # The customer asks in their own words, is not understood, and asks for a person.
        customer = await new_page()
        await _customer_says(customer, server.url + "/", misunderstood)
        await expect(messages(customer, "bot").last).not_to_contain_text(RETURN_FLOW)
        await say(customer, ASK_FOR_A_PERSON)
        await expect(messages(customer, "bot").filter(has_text="passing you to a colleague")
                     ).to_have_count(1)

        # The operator opens the conversation and marks what the customer meant: first a slip
        # (with the mouse), then corrected with the keyboard alone.
        operator = await new_page()
        errors = script_errors(operator)
        await log_in(operator, server)
        await waiting(operator).first.click()
        said = transcript(operator, "customer").filter(has_text=misunderstood)
        await expect(said).to_have_count(1)
        toggle = said.get_by_test_id("meaning-toggle")
        await expect(toggle).to_have_text("What did they mean?")
        await toggle.click()
        options = said.get_by_test_id("meaning-option")
        await expect(options).to_have_count(13)
        await expect(said.get_by_test_id("meaning-option").first).to_be_focused()
        await options.filter(has_text="Thanks").click()
        await expect(toggle).to_have_text("Meant: Thanks")
        await expect(options).to_have_count(0)  # the choice closes the list
        await expect(toggle).to_be_focused()

        await operator.keyboard.press("Enter")  # opens the list again, on its first intent
        await expect(options.first).to_be_focused()
        await expect(options.filter(has_text="Thanks")).to_have_attribute("aria-pressed",
                                                                           "true")
        while not await options.filter(has_text="Return or refund").evaluate(
                "node => node === document.activeElement"):
            await operator.keyboard.press("Tab")
        await operator.keyboard.press("Enter")
        await expect(toggle).to_have_text("Meant: Return or refund")
        await operator.reload()  # stored, not only shown
        await waiting(operator).first.click()
        await expect(transcript(operator, "customer").filter(has_text=misunderstood)
                     .get_by_test_id("meaning-toggle")).to_have_text("Meant: Return or refund")

        # The admin's dashboard shows the label, not yet learned.
        await operator.goto(server.url + "/console/dashboard")
        await expect(tid(operator, "kpi-labels-value")).to_have_text("1")
        await expect(tid(operator, "kpi-labels-new-value")).to_have_text("1")
        row = tid(operator, "label-row")
        await expect(row).to_have_count(1)
        await expect(row.locator("td")).to_have_text(
            [misunderstood, re.compile("."), "Return or refund", "Demo Operator",
             re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")])
        assert errors == []
    finally:
        await server.stop()

    # The model learns it; the bot, started again, understands the same words.
    done = await asyncio.to_thread(_retrain, bot.settings.database.url, cache)
    assert done.returncode == 0, done.stderr
    assert "the new model is not worse" in done.stdout
    restarted = await make_bot(database_url=bot.settings.database.url)
    server = await serve(restarted)
    try:
        newcomer = await new_page()
        await _customer_says(newcomer, server.url + "/", misunderstood)
        await expect(messages(newcomer, "bot").last).to_contain_text(RETURN_FLOW)
        admin = await new_page()
        await log_in(admin, server)
        await admin.goto(server.url + "/console/dashboard")
        await expect(tid(admin, "kpi-labels-value")).to_have_text("1")
        await expect(tid(admin, "kpi-labels-new-value")).to_have_text("0")  # learned
    finally:
        await server.stop()

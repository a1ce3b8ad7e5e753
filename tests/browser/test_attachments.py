"""Attachments as a customer and an operator see them in Chromium: the widget's attach button
uploads a photo and a PDF, shows a thumbnail and a file bubble, and says why a file was
refused; the operator's transcript shows the photo and links the PDF."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.attachment_files import photo_with_gps, plain_pdf, renamed_program
from tests.browser.conftest import PageFactory
from tests.browser.test_console import (
    customer_asks_for_a_person,
    log_in,
    script_errors,
    tid,
    transcript,
    waiting,
)
from tests.browser.test_widget import hook, messages
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


async def attach(page: Page, name: str, mime: str, data: bytes) -> None:
    await hook(page, "file-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])


async def image_shown(page: Page, selector: str) -> None:
    """The image at `selector` has loaded real pixels (not a broken-image icon)."""
    await page.wait_for_function(
        f"""() => {{
            const host = document.getElementById("orderbot-widget");
            const root = host && host.shadowRoot ? host.shadowRoot : document;
            const img = root.querySelector({selector!r}) || document.querySelector({selector!r});
            return img && img.complete && img.naturalWidth > 0;
        }}""")


async def test_a_customer_attaches_a_photo_and_a_pdf_and_the_operator_sees_them(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    customer = await new_page()
    customer_errors = script_errors(customer)
    await customer_asks_for_a_person(customer, live_server)
    await expect(hook(customer, "attach")).to_have_attribute("aria-label", "Attach a photo or PDF")

    await attach(customer, "parcel.jpg", "image/jpeg", photo_with_gps((120, 90)))
    photo = messages(customer, "customer").last
    await expect(photo.locator('[data-ob="thumbnail"]')).to_have_attribute("alt", "parcel.jpg")
    await image_shown(customer, '[data-ob="thumbnail"]')
    await expect(photo).not_to_have_class("msg customer pending")

    await attach(customer, "receipt.pdf", "application/pdf", plain_pdf())
    await expect(messages(customer, "customer").last.locator('[data-ob="file"]')).to_have_text(
        "receipt.pdf")

    # A program named like a photo: refused, and the customer is told why.
    await attach(customer, "holiday.jpg", "image/jpeg", renamed_program())
    await expect(hook(customer, "note").last).to_have_text(
        "I can only take photos (JPEG, PNG, WebP) and PDF files.")

    operator = await new_page()
    operator_errors = script_errors(operator)
    await log_in(operator, live_server)
    await waiting(operator).first.click()
    await expect(transcript(operator, "customer")).to_have_count(3)
    shown = tid(operator, "transcript").get_by_test_id("message-photo")
    await expect(shown).to_have_count(1)
    await expect(shown.locator("img")).to_have_attribute("alt", "Photo: parcel.jpg")
    await image_shown(operator, '[data-testid="message-photo"] img')
    await expect(tid(operator, "transcript").get_by_test_id("message-file")).to_have_text(
        "File: receipt.pdf")

    # After a reload the widget shows the files again, from the history.
    await customer.reload()
    await hook(customer, "launcher").click()
    await expect(messages(customer, "customer").locator('[data-ob="thumbnail"]')).to_have_count(1)
    await image_shown(customer, '[data-ob="thumbnail"]')
    assert customer_errors == [] and operator_errors == []

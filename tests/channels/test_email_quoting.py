"""The customer's new text, whole, from replies as the common mail clients write them.

Each case is a reply body as a client sends it (the header lines as the client writes them in
that language), and the text the customer added. Quoted history, attributions and app
signatures are cut; the customer's own words, wherever they sit, are kept.
"""

from __future__ import annotations

import pytest

from channels.email.parsing import parse_mail
from channels.email.quoting import strip_quotes

DOMAIN = "shop.example"


def mail(body: str, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = ("From: Olivia <olivia@example.com>\r\nTo: orders@shop.example\r\n"
            "Subject: Re: Order A-1015\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    return (head + body.replace("\n", "\r\n")).encode()


def new_text(body: str, content_type: str = "text/plain; charset=utf-8") -> str:
    return parse_mail(mail(body, content_type), "olivia@example.com", DOMAIN).text


OUTLOOK_BLOCKS = [  # (from, sent, to, subject) as Outlook writes them per language
    ("From", "Sent", "To", "Subject"),
    ("De :", "Envoyé :", "À :", "Objet :"),
    ("Van:", "Verzonden:", "Aan:", "Onderwerp:"),
    ("Da:", "Inviato:", "A:", "Oggetto:"),
    ("Fra:", "Sendt:", "Til:", "Emne:"),
    ("Från:", "Skickat:", "Till:", "Ämne:"),
    ("Von:", "Gesendet:", "An:", "Betreff:"),
    ("Od:", "Wysłano:", "Do:", "Temat:"),
    ("От:", "Отправлено:", "Кому:", "Тема:"),
]


@pytest.mark.parametrize("fields", OUTLOOK_BLOCKS, ids=lambda fields: fields[0])
def test_outlooks_header_block_in_each_language_ends_the_new_text(
    fields: tuple[str, str, str, str]
) -> None:
    sender, sent, to, subject = (field if field.endswith(":") else field + ":"
                                 for field in fields)
    body = (f"Where is A-1015?\n\n{sender} Demo Shop <orders@shop.example>\n"
            f"{sent} 2 March 2026 10:00\n{to} Olivia\n{subject} Order A-1015\n\n"
            "Your order is confirmed.")
    assert new_text(body) == "Where is A-1015?"


ATTRIBUTIONS = [
    # Gmail (en, pl, ru), Apple Mail, Thunderbird
    "On Mon, 2 Mar 2026 at 10:00, Demo Shop <orders@shop.example> wrote:",
    "pon., 2 mar 2026 o 10:00 Demo Shop <orders@shop.example> napisał(a):",
    "пн, 2 мар. 2026 г. в 10:00, Demo Shop <orders@shop.example>:",
    "2 марта 2026 г., в 10:00, Demo Shop <orders@shop.example> написал(а):",
    "W dniu 2.03.2026 o 10:00, Demo Shop pisze:",
    # Yandex, Mail.ru
    "02.03.2026, 10:00, \"Demo Shop\" <orders@shop.example>:",
    "Понедельник, 2 марта 2026, 10:00 +03:00 от Demo Shop <orders@shop.example>:",
    "Пн, 02.03.2026 в 10:00, Demo Shop пишет:",
    # Onet, WP, Interia
    "Dnia 2 marca 2026 10:00 Demo Shop <orders@shop.example> napisał(a):",
    "Dnia 2-03-2026 o godz. 10:00 Demo Shop <orders@shop.example> napisał(a):",
    "Dnia 2 marca 2026 o 10:00 \"Demo Shop\" <orders@shop.example> napisała:",
    # other languages
    "Den 2. mar. 2026 kl. 10.00 skrev Demo Shop <orders@shop.example>:",
    "ma 2. maalisk. 2026 klo 10.00 Demo Shop <orders@shop.example> kirjoitti:",
    "Op 2 mrt. 2026, om 10:00 heeft Demo Shop <orders@shop.example> het volgende geschreven:",
    "Le lun. 2 mars 2026 à 10:00, Demo Shop <orders@shop.example> a écrit :",
    "Am Mo., 2. März 2026 um 10:00 Uhr schrieb Demo Shop <orders@shop.example>:",
    "El lun, 2 mar 2026 a las 10:00, Demo Shop (<orders@shop.example>) escribió:",
    "Il giorno lun 2 mar 2026 alle ore 10:00 Demo Shop <orders@shop.example> ha scritto:",
    # Zoho, Polish iOS
    "---- On Mon, 02 Mar 2026 10:00:00 +0100 Demo Shop <orders@shop.example> wrote ----",
    "Wiadomość napisana przez Demo Shop <orders@shop.example> w dniu 02.03.2026, o godz. 10:00:",
    # wrapped over lines, and by Gmail right after "<"
    "On Mon, 2 Mar 2026 at 10:00, Demo Shop\n<orders@shop.example>\nwrote:",
    "On Mon, 2 Mar 2026 at 10:00, Demo Shop <\norders@shop.example> wrote:",
    "On Monday, 2 March 2026 at 10:00:00 CET,\nDemo Shop from the customer service team\n"
    "<orders@shop.example> wrote:",
    # forwarded/original separators
    "-----Original Message-----",
    "-----Ursprüngliche Nachricht-----",
    "-------- Wiadomość oryginalna --------",
    "-------- Исходное сообщение --------",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_attributions_end_the_new_text(attribution: str) -> None:
    body = f"Where is A-1015?\n\n{attribution}\n\nYour order is confirmed.\n> Thanks"
    assert new_text(body) == "Where is A-1015?"
    quoted = f"Where is A-1015?\n\n{attribution}\n> Your order is confirmed."
    assert new_text(quoted) == "Where is A-1015?"


SIGNATURES = [
    "Pobierz aplikację Outlook dla systemu Android<https://aka.ms/AAb9ysg>",
    "Получить Outlook для iOS<https://aka.ms/o0ukef>",
    "Scarica Outlook per Android<https://aka.ms/AAb9ysg>",
    "Sent from my iPhone", "Sent from my Galaxy", "Sent from Mail for Windows",
    "Get Outlook for iOS", "Get Outlook for Android", "Wysłane z iPhone'a",
    "Wysłane z mojego iPhone'a", "Wysłano z aplikacji Poczta dla Windows",
    "Pobierz aplikację Outlook dla Android", "Gesendet von Outlook für Android",
    "Von meinem iPhone gesendet", "Отправлено с iPhone", "Отправлено из мобильной Почты Mail.ru",
    "Envoyé de mon iPhone", "Enviado desde mi iPhone", "-- \nOlivia Brown\n+48 600 000 000",
]


@pytest.mark.parametrize("signature", SIGNATURES)
def test_app_signatures_are_cut(signature: str) -> None:
    assert new_text(f"Where is A-1015?\n\n{signature}") == "Where is A-1015?"


def test_sent_from_in_the_middle_of_prose_is_not_a_signature() -> None:
    body = "Here is my answer\n\nSent from my desk, is much easier than my mobile phone."
    assert new_text(body) == body


def test_a_line_with_a_time_above_a_signature_and_a_quote_is_kept() -> None:
    # A last line with a digit ("5 pm") once joined the quote's attribution two lines below
    # as if it were a wrapped "On <date> ... wrote:" and the whole answer was lost.
    body = ("Yes, please confirm it. And can you deliver after 5 pm?\n\nSent from my iPhone\n\n"
            "> On 3 Jun 2024, at 09:00, Demo Shop <orders@shop.example> wrote:\n>\n"
            "> Please confirm your order A-1160.\n")
    assert new_text(body) == "Yes, please confirm it. And can you deliver after 5 pm?"


def test_a_flowed_bottom_post_keeps_the_answer_below_the_quote() -> None:
    body = "On Mon, 2 Mar 2026 at 10:00, Demo Shop wrote:\n> Hi \nHello"
    assert new_text(body, "text/plain; charset=utf-8; format=flowed") == "Hello"
    flowed = "> Which order? \n> Tell us. \nA-1015, the \nblue one.\n"
    assert new_text(flowed, "text/plain; format=flowed") == "A-1015, the blue one."


def test_a_forward_starting_with_a_header_block_keeps_the_forwarded_text() -> None:
    body = ("Od: Kurier <info@courier.example>\nWysłano: poniedziałek, 2 marca 2026 10:00\n"
            "Do: Olivia\nTemat: Paczka opóźniona\n\nPaczka do zamówienia A-1015 jest opóźniona.")
    assert new_text(body) == "Paczka do zamówienia A-1015 jest opóźniona."
    forwarded = ("---------- Forwarded message ---------\nFrom: Courier <info@courier.example>\n"
                 "Date: Mon, 2 Mar 2026\nSubject: Parcel delayed\nTo: Olivia\n\n"
                 "Your parcel is delayed.")
    assert new_text(forwarded) == "Your parcel is delayed."


def test_a_note_above_a_forward_is_the_new_text() -> None:
    body = ("Czy to moje zamówienie?\n\nOd: Kurier <info@courier.example>\n"
            "Wysłano: poniedziałek, 2 marca 2026 10:00\nTemat: Paczka\n\nPaczka jest opóźniona.")
    assert new_text(body) == "Czy to moje zamówienie?"


def test_field_like_lines_of_the_customer_are_kept() -> None:
    body = "Please change the delivery.\nFrom: Warsaw\nTo: Krakow\n\nThanks"
    assert new_text(body) == body
    appointment = "Pick-up:\n\nDate: Monday 9 March\nTime: 10:00\nPlace: the shop"
    assert new_text(appointment) == appointment


HTML = "text/html; charset=utf-8"


@pytest.mark.parametrize("html, text", [
    # Outlook on the web: the header, then the quoted body in a sibling block
    ('<div>Where is A-1015?</div><div id="appendonsend"></div><hr>'
     '<div id="divRplyFwdMsg"><b>From:</b> Demo Shop<br><b>Sent:</b> Monday</div>'
     "<div><div>Your order is confirmed.</div></div>", "Where is A-1015?"),
    # Gmail: attribution and blockquote inside div.gmail_quote
    ('<div dir="ltr">Where?</div><br><div class="gmail_quote"><div class="gmail_attr">'
     "On Mon, Shop wrote:<br></div><blockquote class=\"gmail_quote\">Confirmed.</blockquote>"
     "</div>", "Where?"),
    # Yahoo, Thunderbird
    ('<div>Where?</div><div class="yahoo_quoted"><div>On Monday, Shop wrote:</div>'
     "<div>Confirmed.</div></div>", "Where?"),
    ('<p>Where?</p><div class="moz-cite-prefix">On 02.03.2026 10:00, Shop wrote:<br></div>'
     '<blockquote type="cite">Confirmed.</blockquote>', "Where?"),
    # all of it inside a blockquote with no reply header: the customer wrote it so
    ("<blockquote><p>Where is A-1015?</p></blockquote>", "Where is A-1015?"),
    # a gmail_quote blockquote outside Gmail's quote container: the customer's own text
    ('<div>Look:</div><blockquote class="gmail_quote">My parcel is damaged.</blockquote>',
     "Look:\nMy parcel is damaged."),
    # Outlook desktop: a line per p.MsoNormal, "&nbsp;" paragraphs are blank lines
    ('<p class=MsoNormal>Hi,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>'
     "<p class=MsoNormal>where is A-1015?</p><div style='border-top:solid'><p class=MsoNormal>"
     "<b>From:</b> Demo Shop<br><b>Sent:</b> Monday<br><b>Subject:</b> Order</p></div>"
     "<p>Confirmed.</p>", "Hi,\n\nwhere is A-1015?"),
])
def test_html_replies_keep_only_the_new_text(html: str, text: str) -> None:
    assert new_text(html, HTML) == text


def test_quotes_between_answers_leave_every_answer() -> None:
    body = ("On Mon, 2 Mar 2026, Shop <o@s.example> wrote:\n> Which order?\n\nA-1015\n\n"
            "> Which address?\n\nThe new one, please.\n")
    assert strip_quotes(body) == "A-1015\n\nThe new one, please."

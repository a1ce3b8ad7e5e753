"""Signature lines: the "-- " delimiter and the lines phones and mail apps add below the text
("Sent from my iPhone", "Wysłane z iPhone'a", "Отправлено с iPhone", "Get Outlook for iOS").

An app's line is short and has no punctuation inside it: "Sent from my desk, is much easier
then my mobile phone." is prose, not a signature.
"""

from __future__ import annotations

import re

_APP = r"[\w .'’()\-–]{1,60}"  # "my Verizon Wireless BlackBerry", "Mail for Windows 10"
_SIGNATURE_LINE = re.compile(
    "|".join([
        r"^--\s*$",
        rf"^sent (?:from|with|via|using) {_APP}$",
        r"^(?:get|download) outlook for (?:ios|android)\b.{0,30}$",
        r"^(?:получить|скачать|загрузить) outlook для (?:ios|android)\b.{0,30}$",
        r"^scarica outlook per (?:ios|android)\b.{0,30}$",
        r"^outlook für (?:ios|android) herunterladen\b.{0,30}$",
        r"^(?:obtenir|télécharger) outlook pour (?:ios|android)\b.{0,30}$",
        r"^(?:obtener|descargar) outlook para (?:ios|android)\b.{0,30}$",
        r"^(?:download|installeer) outlook voor (?:ios|android)\b.{0,30}$",
        r"^(?:hämta|skaffa) outlook för (?:ios|android)\b.{0,30}$",
        rf"^(?:wysłane|wysłano) (?:z|ze|przez|za pomocą) {_APP}$",
        r"^pobierz aplikację outlook\b.{0,40}$",
        rf"^gesendet (?:von|mit|vom|aus) {_APP}$",
        rf"^von meine(?:m|r) {_APP} gesendet$",
        rf"^отправлено (?:с|со|из|через|с помощью) {_APP}$",
        rf"^(?:envoyé|envoyée) (?:de|depuis|avec) {_APP}$",
        rf"^enviado (?:desde|de|con) {_APP}$",
        rf"^inviato da {_APP}$",
        rf"^(?:verzonden|verstuurd) (?:vanaf|van|met) {_APP}$",
        rf"^(?:skickat|sendt|sendt) (?:från|fra) {_APP}$",
        rf"^lähetetty {_APP}$",
    ]),
    re.IGNORECASE,
)
# "-Abhishek Kona" closing the text: a sign-off in the way of a signature.
_SIGN_OFF = re.compile(r"^-\s?[A-ZА-ЯŁŚŻŹĆ][\w.'’-]{0,30}(?: [A-ZА-ЯŁŚŻŹĆ][\w.'’-]{0,30}){0,2}$")


# Outlook's apps write their line with the store link glued on: "Get Outlook for iOS<https://aka.ms/o0ukef>".
_TRAILING_LINK = re.compile(r"\s*[<(]https?://[^\s<>()]{1,200}[>)]$")


def is_signature_line(line: str) -> bool:
    return bool(_SIGNATURE_LINE.match(_TRAILING_LINK.sub("", line.strip())))


def without_sign_off(lines: list[str]) -> list[str]:
    """The lines without a "-Name" line at their end (when something comes before it)."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    if len(filled) >= 2 and _SIGN_OFF.match(lines[filled[-1]].strip()):
        return lines[:filled[-1]]
    return lines

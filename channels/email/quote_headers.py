"""The lines with which mail clients introduce the quoted history, in the languages customers
write in: attributions ("On ... wrote:"), separators ("-----Original Message-----") and the
fields of Outlook's header block ("From:/Sent:/To:/Subject:").

Every pattern is anchored and bounded ({0,300}), so none can take long on a long line.
"""

from __future__ import annotations

import re

# Verbs of "<date>, <name> wrote:" (en, pl, ru, de, fr, es, it, nl, da/no/sv, fi, pt, vi...).
_WROTE = (
    r"wrote|napisał\(a\)|napisała?|pisze|написал\(а\)|написала?|пишет|schrieb|"
    r"a écrit|escribió|ha scritto|scrisse|het volgende geschreven|schreef|skrev|kirjoitti|"
    r"escreveu|đã viết|yazdı|napsal\(a\)|napsala?|írta"
)
_ADDRESS = r"<\s*(?:mailto:)?[^<>\s@]{1,64}@[^<>\s]{1,255}\s*>"
ATTRIBUTION = re.compile(
    "|".join([
        # Gmail, Apple Mail, Thunderbird: "On <date>, <name> wrote:" (also "sent:")
        rf"^-*\s*on\b.{{0,300}}\b(?:{_WROTE}|sent)\s*:\s*$",
        r"^w dniu\b.{0,300}\bpisze:\s*$",  # Thunderbird (pl)
        # any language, when the line holds a date or an address: "<date>, <name> skrev:"
        rf"^(?=.{{0,300}}(?:\d|@)).{{0,300}}\b(?:{_WROTE})\s*:\s*$",
        # Polish iOS: "Wiadomość napisana przez <name> w dniu <date>, o godz. <time>:"
        r"^wiadomość napisana przez\b.{0,300}\bw dniu\b.{0,300}$",
        r"^.{0,200}\d.{0,200}" + _ADDRESS + r"\s*:\s*$",  # "<date>, <name> <address>:"
        # Android, Zoho: "---- John wrote ----", "---- On <date> <name> wrote ----"
        rf"^-{{2,}}\s*.{{0,300}}\b(?:{_WROTE})\s*-{{2,}}\s*$",
        r"^begin forwarded message:\s*$",  # Apple Mail's forward
    ]),
    re.IGNORECASE,
)
# "<date> <name> <address>" with no colon: an attribution only when a quote follows.
WEAK_ATTRIBUTION = re.compile(r"^.{0,200}\d.{0,200}" + _ADDRESS + r"\s*$", re.IGNORECASE)
# "reply text On <date>, <name> wrote:" on one line: the reply and the attribution.
TRAILING_ATTRIBUTION = re.compile(
    r"^(?P<reply>.{0,300}?\S)(?:\s+|-{2,}\s*)(?P<attribution>(?-i:On)\s(?=.{0,300}\d).{0,300}"
    r"\b(?:wrote|sent)\s*:)\s*$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(
    r"^-{2,}\s*(?:original message|reply message|forwarded message|original-nachricht|"
    r"ursprüngliche nachricht|antwort nachricht|weitergeleitete nachricht|"
    r"message d'origine|message transféré|messaggio originale|messaggio inoltrato|"
    r"mensaje original|mensaje reenviado|oorspronkelijk bericht|doorgestuurd bericht|"
    r"oprindelig meddelelse|videresendt meddelelse|opprinnelig melding|originalmeddelande|"
    r"vidarebefordrat meddelande|alkuperäinen viesti|mensagem original|"
    r"wiadomość oryginalna|oryginalna wiadomość|przekazana wiadomość|wiadomość przekazana|"
    r"исходное сообщение|пересылаемое сообщение|пересланное сообщение|"
    r"исходное письмо|пересылаемое письмо)\s*-{2,}.{0,100}$"
    r"|^-{5,}\s*(?:forwarded|przekazana|пересланное)\b.{0,200}$"
    r"|^={4,}\s*(?:forwarded|original|reply) message\s*={4,}$"  # Zoho
    r"|^_{20,}\s*$",  # Outlook's line above its header block
    re.IGNORECASE,
)
# The fields of a header block, by kind; each language's name of it.
_FIELDS = {
    "from": r"from|od|от|von|de|van|da|fra|från|lähettäjä|feladó|odesílatel",
    "sent": r"sent|date|wysłano|wysłane|data|отправлено|дата|gesendet|datum|envoyé|date d'envoi|"
            r"verzonden|inviato|enviado|fecha|sendt|skickat|lähetetty|elküldve|odesláno",
    "to": r"to|do|кому|an|à|a|aan|para|per|til|till|vastaanottaja|címzett|komu",
    "subject": r"subject|temat|тема|betreff|objet|onderwerp|oggetto|asunto|assunto|emne|ämne|"
               r"aihe|tárgy|předmět",
    "cc": r"cc|dw|kopia|копия|kopie|cci|kopio",
}
_FIELD = re.compile(
    r"^\s*\*?(?:" + "|".join(f"(?P<{kind}>{names})" for kind, names in _FIELDS.items())
    + r")\s?\*?\s*:",  # Outlook 2013 writes "От:Alexander" without a space
    re.IGNORECASE,
)
# "From: bob@example.com Date: Thu, ..." on one line (HTML with the fields side by side).
ONE_LINE_BLOCK = re.compile(
    rf"^\s*\*?(?:{_FIELDS['from']})\s?\*?\s*:.{{0,300}}\b(?:{_FIELDS['sent']})\s*:",
    re.IGNORECASE,
)


def field_kind(line: str) -> str | None:
    """"from", "sent", "to", "subject" or "cc" when the line is such a header field."""
    match = _FIELD.match(line)
    return match.lastgroup if match else None

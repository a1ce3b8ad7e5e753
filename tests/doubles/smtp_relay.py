"""An SMTP relay double on 127.0.0.1 (aiosmtpd), and a fake customer who mails the bot.

    python -m tests.doubles.smtp_relay [--port N] [--bot-port P] [--customer ADDRESS]

prints the relay_host/relay_port to give the bot (email.relay_host, email.relay_port). With
--bot-port it then mails each line typed to the bot's SMTP listener as ADDRESS, as a reply
in the thread of the bot's last mail to ADDRESS (In-Reply-To and References, like a mail
client), and prints every mail the bot sends as it arrives.

The double stores every message it accepts, wakes waiters on each SMTP transaction, and can
answer the next transactions with a failure at RCPT or DATA (451 try later, 550 refused...).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP

WAIT_SECONDS = 10.0  # an upper bound for tests; the bot normally sends in milliseconds
# The authserv-id of the shop's receiving mail server in the tests: give it to a bot as
# [email] authserv_id, and customer_mail marks mail as that server would (see below).
MTA = "mx.shop.example"
ANSWERS = {
    421: "4.3.2 Service shutting down, try again later",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Temporary local problem, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 <{recipient}>: Recipient address rejected: User unknown",
    552: "5.3.4 Message size exceeds fixed limit",
    554: "5.7.1 Message rejected as spam",
}


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)

    def __getitem__(self, header: str) -> str:
        value = self.message.get(header)
        return str(value) if value is not None else ""

    @property
    def text(self) -> str:
        return _body(self.message, "plain")

    @property
    def html(self) -> str:
        return _body(self.message, "html")


@dataclass
class _Failure:
    code: int
    stage: str  # "RCPT" | "DATA"


class SmtpRelayDouble:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.refused: list[tuple[str, int]] = []  # (stage, code) of each failure answered
        self.host = "127.0.0.1"
        self.port = 0
        self._failures: list[_Failure] = []
        self._current: _Failure | None = None  # the failure planned for this transaction
        self._changed = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="relay.test", ident="relay double",
                         enable_SMTPUTF8=True),
            self.host, port,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # What a test tells the double

    def fail_next(self, count: int, code: int = 451, stage: str = "RCPT") -> None:
        """Answer the next `count` transactions with `code` at RCPT or at the end of DATA."""
        assert stage in ("RCPT", "DATA") and code in ANSWERS
        self._failures.extend(_Failure(code, stage) for _ in range(count))

    # What a test reads

    def to(self, address: str) -> list[ReceivedMail]:
        """The mails received for `address`, in arrival order."""
        return [m for m in self.received if address.lower() in (r.lower() for r in m.rcpt_tos)]

    async def wait_for(self, count: int, address: str | None = None) -> list[ReceivedMail]:
        """Wait until `count` mails (to `address`, or to anyone) were received."""
        def arrived() -> list[ReceivedMail]:
            return self.to(address) if address else self.received

        await self.wait_until(lambda: len(arrived()) >= count)
        return arrived()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until the condition holds, checking it after every transaction (no polling)."""
        async with asyncio.timeout(WAIT_SECONDS):
            while not condition():
                await self.next_change()

    async def next_change(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    # The SMTP server (aiosmtpd handler hooks)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self._current = self._failures.pop(0) if self._failures else None
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._current is not None and self._current.stage == "RCPT":
            return self._refuse(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._current is not None and self._current.stage == "DATA":
            return self._refuse(",".join(envelope.rcpt_tos))
        raw = bytes(envelope.content)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                          message))
        self._changed.set()
        return "250 OK: queued"

    def _refuse(self, recipient: str) -> str:
        failure, self._current = self._current, None
        assert failure is not None
        self.refused.append((failure.stage, failure.code))
        self._changed.set()
        return f"{failure.code} {ANSWERS[failure.code].format(recipient=recipient)}"


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return str(part.get_content()).replace("\r\n", "\n") if part is not None else ""


# A customer's mail client


def authentication_results(
    sender: str, *, dmarc: str = "pass", authserv_id: str = MTA, header_from: str | None = None
) -> str:
    """The Authentication-Results value a receiving server writes for mail From `sender`
    (RFC 8601): SPF, DKIM and DMARC for the sender's domain, unless told otherwise."""
    domain = sender.rpartition("@")[2]
    return (f"{authserv_id}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; "
            f"dmarc={dmarc} (p=reject) header.from={header_from or domain}")


def customer_mail(
    sender: str,
    text: str,
    *,
    to: str = "orders@shop.example",
    subject: str = "My order",
    reply_to: ReceivedMail | None = None,
    html: str | None = None,
    message_id: str | None = None,
    authenticated: bool = True,
    **headers: str,
) -> EmailMessage:
    """A mail as a client writes it; as a reply to `reply_to` it is threaded and quotes it.

    authenticated: as the shop's mail server (MTA) passes it on after checking it, with its
    Authentication-Results on top: DMARC passed for the From domain. False: no such header,
    as a forged From arrives (headers=... may add the forger's own)."""
    message = EmailMessage()
    if authenticated:
        message["Authentication-Results"] = authentication_results(sender)
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
    if reply_to is not None:
        subject = "Re: " + reply_to["Subject"].removeprefix("Re: ")
        message["In-Reply-To"] = reply_to["Message-ID"]
        message["References"] = f"{reply_to['References']} {reply_to['Message-ID']}".strip()
        quoted = "\n".join("> " + line for line in reply_to.text.splitlines())
        text = f"{text}\n\nOn Mon, 2 Mar 2026 at 10:00, Shop <{to}> wrote:\n{quoted}\n"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text:
        message.set_content(text)
    if html is not None:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    return message


# By hand: a customer in a terminal.


async def _show(relay: SmtpRelayDouble) -> None:
    shown = 0
    while True:
        while len(relay.received) <= shown:
            await relay.next_change()
        for mail in relay.received[shown:]:
            print(f"\n--- mail to {', '.join(mail.rcpt_tos)}", flush=True)
            for name in ("Subject", "Message-ID", "In-Reply-To", "References",
                         "Auto-Submitted"):
                if mail[name]:
                    print(f"{name}: {mail[name]}", flush=True)
            print(f"\n{mail.text}", flush=True)
        shown = len(relay.received)


async def _chat(relay: SmtpRelayDouble, bot_port: int, address: str, customer: str) -> None:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        line = line.strip()
        if not line:
            continue
        previous = relay.to(customer)
        mail = customer_mail(customer, line, to=address,
                             reply_to=previous[-1] if previous else None)
        try:
            await aiosmtplib.send(mail, hostname="127.0.0.1", port=bot_port)
            print("  (the bot's listener answered 250)", flush=True)
        except aiosmtplib.SMTPException as error:
            print(f"  (the bot's listener refused: {error})", flush=True)


async def _main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.smtp_relay")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot-port", type=int, help="the bot's email.listen_port")
    parser.add_argument("--address", default="orders@shop.example", help="email.address")
    parser.add_argument("--customer", default="olivia.brown@example.com")
    args = parser.parse_args()
    relay = SmtpRelayDouble()
    await relay.start(args.port)
    print(f"smtp relay double: relay_host = {relay.host}  relay_port = {relay.port}", flush=True)
    printer = asyncio.create_task(_show(relay))
    try:
        if args.bot_port:
            print(f"writing as {args.customer} to {args.address} at 127.0.0.1:{args.bot_port}; "
                  "each line is one mail", flush=True)
            await _chat(relay, args.bot_port, args.address, args.customer)
        await asyncio.Event().wait()
    finally:
        printer.cancel()
        await relay.stop()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        pass

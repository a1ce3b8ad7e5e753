"""The shop's own payment page, for the local payments adapter (adapters/payments/local.py):
GET /pay/{token} shows what is still due on the order whose payment token (Order.pay_token) its
customer was sent. That token can only pay: it opens no chat, and an order's chat link is no
payment token.

Without a payment provider the shop records payments itself (the shop API's payment_received
event), so the page tells how to pay by bank transfer. In the demo ([demo] enabled) it also has
a "pay now" button whose POST records the payment exactly as that event does: the reminders
are cancelled and the customer is told on their channel. The POST must come from the page
itself (its Origin, or else its Referer, is the bot's own origin), and an order is paid once:
a second POST changes nothing.
"""

from __future__ import annotations

import html
import logging
import tomllib
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, status
from fastapi.responses import HTMLResponse
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.billing import cancel_payment_reminders
from orders.service import OrderNotifier, OrderService, OrderView
from orders.states import OrderStatus
from orders.tables import Order
from storage.database import Database

PAY_PATH = "/pay"
DEFAULT_LANGUAGE = "en"
MAX_TOKEN_CHARS = 64  # the pay_token column's width
TEXTS: dict[str, dict[str, str]] = tomllib.loads(
    (Path(__file__).parent / "page_texts.toml").read_text(encoding="utf-8")
)
_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it a browser sends the form's POST with "Origin: null".
    "Referrer-Policy": "same-origin",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}"
    "main{max-width:30rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08)}"
    ".shop{color:#5b6474;font-size:.9rem;margin:0 0 .5rem}h1{font-size:1.35rem;margin:0 0 1rem}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem;margin:0 0 1.5rem}"
    "dt{color:#5b6474}dd{margin:0;font-weight:600}.amount{font-size:1.2rem}"
    "button{width:100%;padding:.8rem;font-size:1rem;border:0;border-radius:8px;"
    "background:#1f6feb;color:#fff;cursor:pointer}.note{color:#5b6474;font-size:.85rem}"
)
_PAID_CAUSE = "payment page (demo): payment_received"

log = logging.getLogger(__name__)


def make_payment_page_router(
    database: Database,
    service: OrderService,
    notifier: OrderNotifier,
    *,
    shop_name: str,
    base_url: str,
    demo: bool,
) -> APIRouter:
    """The payment page; with demo, its button records the payment (no money moves)."""
    router = APIRouter(prefix=PAY_PATH, tags=["payments"], include_in_schema=False)
    own_origin = _origin(base_url)

    async def find(session: AsyncSession, token: str) -> OrderView | None:
        if len(token) > MAX_TOKEN_CHARS:
            return None
        return await service.order_by_pay_token(session, token)

    async def record_payment(session: AsyncSession, token: str) -> OrderView | None:
        """As the shop API's payment_received event; None when the order is not payable (paid
        already, cancelled). The conditional update claims the order first, so that of two
        POSTs at once only one records the payment and tells the customer."""
        number = await session.scalar(
            update(Order)
            .where(Order.pay_token == token, Order.payment_status != "paid",
                   Order.status != OrderStatus.CANCELLED)
            .values(payment_status="paid")
            .returning(Order.number)
        )
        if number is None:
            return None
        order = await service.apply_event(session, number, "payment_received", _PAID_CAUSE)
        await cancel_payment_reminders(session, order.number)
        await notifier.order_changed(session, order, "payment_received")
        return order

    @router.get("/{token}", response_class=HTMLResponse)
    async def payment_page(
        token: str, accept_language: Annotated[str | None, Header()] = None
    ) -> HTMLResponse:
        async with database.transaction() as session:
            order = await find(session, token)
        if order is None:
            return _not_found(_preferred(accept_language))
        return _order_page(order, shop_name, demo)

    @router.post("/{token}", response_class=HTMLResponse)
    async def pay(
        token: str,
        origin: Annotated[str | None, Header()] = None,
        referer: Annotated[str | None, Header()] = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> HTMLResponse:
        async with database.transaction() as session:
            order = await find(session, token)
        if order is None:
            return _not_found(_preferred(accept_language))
        language = _language_of(order)
        if not demo:
            return _refused(language, "refused_not_demo")
        if _source_origin(origin, referer) != own_origin:
            return _refused(language, "refused_origin")
        async with database.transaction() as session:
            paid = await record_payment(session, token)
            current = paid or await find(session, token)
        if paid is None:  # paid already, or cancelled: say so, change nothing
            if current is None:
                return _not_found(language)
            cancelled = current.status is OrderStatus.CANCELLED
            return _order_page(current, shop_name, demo,
                               status.HTTP_409_CONFLICT if cancelled else status.HTTP_200_OK)
        log.info("order %s paid on the demo payment page", paid.number)
        amount = _money(paid.total_minor, paid.currency, language)
        return _page(language, shop_name, _text(language, "paid_title", number=paid.number),
                     f"<p>{_text(language, 'paid_body', amount=amount)}</p>")

    return router


def _source_origin(origin: str | None, referer: str | None) -> str | None:
    """The origin a browser says the request came from: its Origin header (sent with every
    form POST by current browsers), or else its Referer's; None when it gives neither."""
    source = origin if origin is not None else referer
    if not source or source == "null":
        return None
    return _origin(source)


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser writes it (no default port)."""
    parts = urlsplit(url.lower())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: matches nothing of ours
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _order_page(
    order: OrderView, shop_name: str, demo: bool, status_code: int = status.HTTP_200_OK
) -> HTMLResponse:
    language = _language_of(order)
    number = order.number
    if order.payment_status == "paid":
        return _page(language, shop_name, _text(language, "already_paid_title", number=number),
                     f"<p>{_text(language, 'already_paid_body')}</p>", status_code)
    if order.status is OrderStatus.CANCELLED:
        return _page(language, shop_name, _text(language, "cancelled_title", number=number),
                     f"<p>{_text(language, 'cancelled_body')}</p>", status_code)
    # Payment is whole or nothing (payment_status), so what is due is the total, which already
    # has any voucher discount taken off.
    amount = _money(order.total_minor, order.currency, language)
    rows = [("label_order", html.escape(number)), ("label_amount", html.escape(amount))]
    if order.payment_due_date is not None:
        day = order.payment_due_date.strftime(TEXTS[language]["date_format"])
        rows.append(("label_due", html.escape(day)))
    details = "".join(
        f"<dt>{_text(language, label)}</dt>"
        f"<dd{' class=amount' if label == 'label_amount' else ''}>{value}</dd>"
        for label, value in rows
    )
    if demo:
        how = (f"<form method=post><button type=submit>{_text(language, 'pay_button')}"
               f"</button></form><p class=note>{_text(language, 'demo_note')}</p>")
    else:
        how = f"<p>{_text(language, 'transfer', amount=amount, shop=shop_name, number=number)}</p>"
    return _page(language, shop_name, _text(language, "title_pay", number=number),
                 f"<dl>{details}</dl>{how}", status_code)


def _not_found(language: str) -> HTMLResponse:
    return _page(language, None, _text(language, "not_found_title"),
                 f"<p>{_text(language, 'not_found_body')}</p>", status.HTTP_404_NOT_FOUND)


def _refused(language: str, reason_key: str) -> HTMLResponse:
    return _page(language, None, _text(language, "refused_title"),
                 f"<p>{_text(language, reason_key)}</p>", status.HTTP_403_FORBIDDEN)


def _page(
    language: str, shop_name: str | None, title: str, body: str, status_code: int = 200
) -> HTMLResponse:
    """The whole document; title and body are HTML already escaped by the caller."""
    shop = f"<p class=shop>{html.escape(shop_name)}</p>" if shop_name else ""
    document = (
        f"<!doctype html><html lang={language}><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<meta name=robots content=noindex><title>{title}</title><style>{_STYLE}</style>"
        f"</head><body><main>{shop}<h1>{title}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=_HEADERS)


def _text(language: str, key: str, **params: object) -> str:
    """A text of the page with its parameters, escaped for HTML."""
    return html.escape(TEXTS[language][key].format(**params))


def _money(minor: int, currency: str, language: str) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole}{TEXTS[language]['decimal_separator']}{cents:02d} {currency}"


def _language_of(order: OrderView) -> str:
    return order.customer_language if order.customer_language in TEXTS else DEFAULT_LANGUAGE


def _preferred(accept_language: str | None) -> str:
    """The first of the browser's languages the page speaks (no order to ask)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TEXTS:
            return code
    return DEFAULT_LANGUAGE

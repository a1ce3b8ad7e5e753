"""What a started bot prints: the URLs it serves, the channels on, where its data and the
shop's systems are (README, Running)."""

from __future__ import annotations

from urllib.parse import urlsplit

from composition.bootstrap import Orderbot
from config import Settings


def describe(bot: Orderbot) -> list[str]:
    settings = bot.settings
    base = settings.base_url
    lines = [f"orderbot serving on {base}"]
    if settings.demo.enabled:
        lines.append(f"  demo shop:      {base}/")
    if settings.webchat.enabled:
        lines.append(f"  web chat:       {base}/webchat/widget.js  (WebSocket /webchat/ws)")
    lines.append(f"  shop API:       {base}/api  (OpenAPI: {base}/docs)")
    demo_login = ("  (demo / demo)" if settings.demo.enabled
                  and settings.public_host is None else "")
    lines.append(f"  operators:      {base}/console{demo_login}  (dashboard: "
                 f"{base}/console/dashboard)")
    if settings.metrics.enabled:
        lines.append(f"  metrics:        {base}/metrics")
    on = [c.name for c in bot.channels] or ["none"]
    lines.append(f"  channels on:    {', '.join(on)}")
    lines.append(f"  database:       {_redact(settings.database.url)}")
    coordination = "redis" if bot.coordination.redis else "in-process (one process)"
    lines.append(f"  coordination:   {coordination}")
    lines.append(f"  adapters:       {adapters_line(settings)}")
    hooks = settings.webhooks.url
    lines.append(f"  webhooks:       {'on -> ' + _redact(hooks) if hooks else 'off'}")
    return lines


def adapters_line(settings: Settings) -> str:
    """Which of the shop's systems are the bot's local stand-ins and which are real (HTTP)."""
    urls = settings.adapters
    named = (("inventory", urls.inventory_url, "local"), ("courier", urls.courier_url, "local"),
             ("payments", urls.payments_url, "local"),
             ("credit_check", urls.credit_check_url, "local"),
             ("vouchers", urls.vouchers_url, "local"), ("orders", urls.orders_url, "none"))
    return " ".join(f"{name}={_where(url) if url else absent}" for name, url, absent in named)


def _where(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"http({parts.hostname}:{port})"


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest

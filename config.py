"""Settings: settings.toml, overridden by ORDERBOT__SECTION__KEY environment variables.

Every value is checked against the type of its default; a bad or unknown value stops the
start with one line that names the key (Starlette's config.py habit: fail loudly, early).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "ORDERBOT__"
DEMO_SECRETS = frozenset({"demo-identity-secret", "demo-shop-key"})


class SettingsError(ValueError):
    """A setting is missing, unknown or has a bad value; str() names the key."""


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    # A request body longer than this is refused with 413 before it is read (declared) or
    # as soon as it passes it (streamed): no endpoint needs more (http_guards/body_limit.py).
    max_body_bytes: int = 1024 * 1024
    # A connection idle this long between requests is closed (uvicorn's keep-alive timeout);
    # a request sent slowly is the reverse proxy's to cut (deploy/nginx.conf).
    keep_alive_seconds: int = 5
    # Connections and requests served at once by one process before new ones get 503;
    # 0 = no limit (then the reverse proxy's limit_conn is the one).
    max_connections: int = 0


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///var/orderbot.db"
    pool_size: int = 10  # PostgreSQL connections kept open per process for transactions
    max_overflow: int = 20  # more for migrations and tools, closed after


@dataclass(frozen=True)
class RedisSettings:
    url: str = ""


@dataclass(frozen=True)
class CoordinationSettings:
    """Locks shared by several processes through Redis (coordination/redis.py)."""

    # A conversation's lock is a lease of this many seconds, renewed while its turn runs: the
    # lock of a process that died frees this long after its death at most.
    lock_lease_seconds: int = 5


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = True
    history: bool = True  # with the demo shop, a few weeks of conversations for the dashboard


@dataclass(frozen=True)
class WebchatSettings:
    enabled: bool = True
    allowed_origins: list[str] = field(default_factory=list)
    identity_secret: str = "demo-identity-secret"
    max_message_chars: int = 2000
    # A shop's identity signature covers "email:timestamp" and is accepted this long after
    # (and at most 5 minutes before) its timestamp, so that a leaked one stops working.
    identity_max_age_seconds: int = 86400
    identity_legacy: bool = False  # deprecated: also accept the HMAC of the email alone
    token_idle_days: int = 30  # a chat token unused this long is refused (close 4401)
    token_max_age_days: int = 90  # and any chat token this old, used or not
    max_sockets_per_conversation: int = 5  # open widgets per conversation, per process


@dataclass(frozen=True)
class TelegramSettings:
    enabled: bool = False
    token: str = ""
    api_base: str = "https://api.telegram.org"
    mode: str = "webhook"
    webhook_secret: str = ""


@dataclass(frozen=True)
class SlackSettings:
    enabled: bool = False
    bot_token: str = ""
    signing_secret: str = ""
    api_base: str = "https://slack.com/api/"
    operators_channel: str = ""


@dataclass(frozen=True)
class EmailSettings:
    enabled: bool = False
    listen_host: str = "127.0.0.1"
    listen_port: int = 2525
    address: str = "orders@shop.example"
    relay_host: str = "127.0.0.1"
    relay_port: int = 25
    relay_username: str = ""
    relay_password: str = ""
    relay_tls: str = "none"
    # The Authentication-Results id (RFC 8601) of the shop's receiving mail server: From is
    # taken as the customer's identity only with that server's aligned dmarc=pass. Empty: no
    # mail is trusted, every sender proves their order like a web visitor (channels/email/
    # authentication.py).
    authserv_id: str = ""
    parse_timeout_seconds: int = 5  # a mail not read by then is refused (552)
    parse_workers: int = 2  # mails read at once, each in a process of its own
    # The shop's own signs of automatic mail, beside the built-in ones (channels/email/
    # automatic.py): regular expressions matched at the start of the Subject, and
    # "Header-Name: regex" matched at the start of that header's value (case-insensitive).
    automatic_subjects: list[str] = field(default_factory=list)
    automatic_headers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ShopSettings:
    name: str = "Demo Shop"
    api_keys: list[str] = field(default_factory=lambda: ["demo-shop-key"])
    return_window_days: int = 14
    cod_credit_check_above: int = 500  # cash on delivery above this total needs a credit check
    idempotency_hours: int = 24  # an Idempotency-Key of the shop API is remembered this long
    delivery_slots: list[str] = field(
        default_factory=lambda: ["09:00-12:00", "12:00-15:00", "15:00-18:00"]
    )
    confirmation_reminder_minutes: int = 60  # no answer to "please confirm": remind once
    confirmation_escalation_minutes: int = 120  # still none after the reminder: an operator
    payment_overdue_escalation_days: int = 14
    transcript_retention_days: int = 0  # chat transcripts older than this are deleted; 0: kept


@dataclass(frozen=True)
class AdaptersSettings:
    """External systems; an empty URL means the built-in local implementation."""

    inventory_url: str = ""
    courier_url: str = ""
    payments_url: str = ""
    credit_check_url: str = ""
    vouchers_url: str = ""
    orders_url: str = ""  # the shop's open orders, for the daily reconciliation; "": none
    api_key: str = ""  # sent as Authorization: Bearer to every adapter URL
    timeout_seconds: int = 5


@dataclass(frozen=True)
class OperatorsSettings:
    """The people behind the bot: when they work, how the queue is estimated, the console."""

    # When operators answer, in `timezone`: "mon-fri 09:00-18:00", "sat 10:00-14:00".
    # Empty: always. Outside these hours the customer is told when someone will answer.
    business_hours: list[str] = field(default_factory=lambda: ["mon-fri 09:00-18:00"])
    timezone: str = "Europe/Warsaw"
    minutes_per_conversation: int = 6  # the wait estimate's basis until handoffs are measured
    idle_minutes: int = 10  # an operator silent this long while the customer waits: back to queue
    session_hours: int = 12  # a console login lasts this long
    # Console logins (console/login_throttle.py): attempts are counted before the password is
    # checked, per client address and per username from that address, over a moving window.
    login_failures_per_address: int = 10
    login_failures_per_user_and_address: int = 5
    login_lockout_minutes: int = 15


@dataclass(frozen=True)
class LimitsSettings:
    """Rate limits of the public endpoints (channels/limits.py); 0 = no limit."""

    webchat_sessions_per_ip_per_minute: int = 300
    webhook_requests_per_ip_per_second: int = 200  # Telegram and Slack send from few addresses
    messages_per_conversation_per_minute: int = 120  # past it: not answered (README)
    # New mail threads from senders whose From is not authenticated (a forger can name any
    # address, and each answer goes to it): past these, accepted and not answered.
    email_unverified_threads_per_address_per_minute: int = 3
    email_unverified_threads_per_domain_per_minute: int = 20
    email_unverified_threads_per_minute: int = 60


@dataclass(frozen=True)
class SecuritySettings:
    """Who may get into which order (docs/security.md): chat links (orders/links.py), and
    failed proofs that lock an order or a client out (dialog/proof_limits.py)."""

    link_token_days: int = 30  # an order's chat link (web chat, Telegram /start) lasts this long

    proof_failures_per_order: int = 5  # within proof_window_seconds, from any chat
    proof_failures_per_client: int = 10  # per conversation and per web chat address
    proof_window_seconds: int = 3600
    proof_lockout_seconds: int = 3600  # doubled for each further lockout within a day


@dataclass(frozen=True)
class ProcessSettings:
    """This bot process among several on one database (dialog/takeover.py)."""

    name: str = ""  # unique per process; "" = this host's name and [http] port
    takeover_seconds: int = 6  # a process silent this long has its pending work taken over


@dataclass(frozen=True)
class MetricsSettings:
    """GET /metrics for Prometheus."""

    enabled: bool = True
    # Empty: loopback callers only. Set: `Authorization: Bearer <token>` from anywhere (use it
    # when a proxy on the same host forwards outside requests, which would look loopback).
    token: str = ""


@dataclass(frozen=True)
class WebhooksSettings:
    """Webhooks to the shop (docs/webhooks.md)."""

    url: str = ""  # where every change the bot makes is POSTed; empty = off
    secret: str = ""  # whsec_ + a base64 key (Standard Webhooks); required with a url
    retry_hours: int = 72  # a webhook is retried this long after the change, then failed
    timeout_seconds: int = 10  # for the shop's answer to one POST
    keep_days: int = 30  # delivered webhooks are deleted this long after delivery; 0 keeps


@dataclass(frozen=True)
class AttachmentsSettings:
    """Photos and PDFs from customers (docs/channels/attachments.md): kept outside the web
    root, checked by their content, images re-encoded."""

    directory: str = "var/attachments"  # relative to the working directory, like the database
    max_bytes: int = 10 * 1024 * 1024  # one file; larger ones are refused (413 on upload)
    # A clamd daemon to ask about every file (host:port); empty = no virus scanner.
    clamd: str = ""


@dataclass(frozen=True)
class Settings:
    http: HttpSettings = field(default_factory=HttpSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    coordination: CoordinationSettings = field(default_factory=CoordinationSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    webchat: WebchatSettings = field(default_factory=WebchatSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    shop: ShopSettings = field(default_factory=ShopSettings)
    adapters: AdaptersSettings = field(default_factory=AdaptersSettings)
    operators: OperatorsSettings = field(default_factory=OperatorsSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    process: ProcessSettings = field(default_factory=ProcessSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    webhooks: WebhooksSettings = field(default_factory=WebhooksSettings)
    attachments: AttachmentsSettings = field(default_factory=AttachmentsSettings)

    @property
    def base_url(self) -> str:
        return self.http.public_url.rstrip("/") or f"http://{self.http.host}:{self.http.port}"

    @property
    def public_host(self) -> str | None:
        """The host customers reach the bot at, when that is not this machine itself: the
        listening address, or the public URL's host (behind a reverse proxy the bot listens
        on 127.0.0.1 and is public all the same). None for a bot only this machine reaches."""
        for host in (self.http.host, urlsplit(self.http.public_url).hostname or "localhost"):
            if not is_loopback(host):
                return host
        return None


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate everything."""
    raw: dict[str, dict[str, Any]] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"config file {path} is not valid TOML: {error}") from None
    environ = os.environ if environ is None else environ
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise SettingsError(f"{name}: expected {ENV_PREFIX}<SECTION>__<KEY>")
        section, key = parts
        raw.setdefault(section, {})[key] = _EnvText(value)
    settings = _build(Settings, raw, "")
    _check(settings)
    return settings


class _EnvText(str):
    """A value that came from the environment: parsed according to the target type."""


def _build(cls: type, raw: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(raw, Mapping):
        raise SettingsError(f"{prefix.rstrip('.')}: expected a table")
    known = {f.name: f for f in fields(cls)}
    for name in raw:
        if name not in known:
            raise SettingsError(f"{prefix}{name}: unknown setting")
    values: dict[str, Any] = {}
    defaults = cls()
    for name in known:
        default = getattr(defaults, name)
        if is_dataclass(default):
            values[name] = _build(type(default), raw.get(name, {}), f"{prefix}{name}.")
        elif name in raw:
            values[name] = _coerce(raw[name], default, f"{prefix}{name}")
    return cls(**values)


def _coerce(value: Any, default: Any, key: str) -> Any:
    if isinstance(value, _EnvText):
        value = _parse_env(str(value), default, key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{key}: expected true or false, got {value!r}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{key}: expected a whole number, got {value!r}")
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{key}: expected a list of strings, got {value!r}")
    elif not isinstance(value, str):
        raise SettingsError(f"{key}: expected a string, got {value!r}")
    return value


def _parse_env(text: str, default: Any, key: str) -> Any:
    if isinstance(default, bool):
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise SettingsError(f"{key}: expected true or false, got {text!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{key}: expected a whole number, got {text!r}") from None
    if isinstance(default, list):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise SettingsError(f"{key}: expected a JSON list, got {text!r}") from None
    return text


def _check_automatic_patterns(email: EmailSettings) -> None:
    from channels.email.automatic import AutomaticRules  # read in the mail workers too

    for name, subjects, headers in (("automatic_subjects", email.automatic_subjects, []),
                                    ("automatic_headers", [], email.automatic_headers)):
        try:
            AutomaticRules.from_settings(subjects, headers)
        except ValueError as error:
            raise SettingsError(f"email.{name}: {error}") from None


def _check_attachments(attachments: AttachmentsSettings) -> None:
    if not attachments.directory.strip():
        raise SettingsError("attachments.directory: must not be empty")
    if not 1024 <= attachments.max_bytes <= 100 * 1024 * 1024:
        raise SettingsError("attachments.max_bytes: expected 1024 to 104857600 bytes")
    if attachments.clamd and not re.fullmatch(r"[^\s:]+:\d{1,5}", attachments.clamd):
        raise SettingsError("attachments.clamd: expected HOST:PORT or empty")


def _check(settings: Settings) -> None:
    if not 0 <= settings.http.port <= 65535:
        raise SettingsError(f"http.port: {settings.http.port} is not a TCP port")
    for name in ("max_body_bytes", "keep_alive_seconds"):
        if getattr(settings.http, name) < 1:
            raise SettingsError(f"http.{name}: must be positive")
    if settings.http.max_connections < 0:
        raise SettingsError("http.max_connections: must not be negative (0 = no limit)")
    url = settings.database.url
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            "database.url: expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://..."
        )
    if settings.redis.url and not settings.redis.url.startswith(("redis://", "rediss://")):
        raise SettingsError("redis.url: expected redis://HOST:PORT/DB or empty")
    if settings.telegram.mode not in ("webhook", "polling"):
        raise SettingsError("telegram.mode: expected \"webhook\" or \"polling\"")
    if settings.email.relay_tls not in ("none", "starttls", "tls"):
        raise SettingsError("email.relay_tls: expected \"none\", \"starttls\" or \"tls\"")
    if settings.email.authserv_id and not re.fullmatch(r"[^\s;()\\\"]+",
                                                       settings.email.authserv_id):
        raise SettingsError("email.authserv_id: expected the mail server's id as its "
                            "Authentication-Results header gives it, like mx.shop.example")
    for name in ("parse_timeout_seconds", "parse_workers"):
        if getattr(settings.email, name) < 1:
            raise SettingsError(f"email.{name}: must be positive")
    _check_automatic_patterns(settings.email)
    if settings.shop.return_window_days < 0:
        raise SettingsError("shop.return_window_days: must not be negative")
    if settings.shop.transcript_retention_days < 0:
        raise SettingsError("shop.transcript_retention_days: must not be negative (0 = keep)")
    if settings.webchat.max_message_chars < 1:
        raise SettingsError("webchat.max_message_chars: must be positive")
    for name in ("identity_max_age_seconds", "token_idle_days", "token_max_age_days",
                 "max_sockets_per_conversation"):
        if getattr(settings.webchat, name) < 1:
            raise SettingsError(f"webchat.{name}: must be positive")
    _check_attachments(settings.attachments)
    if settings.security.link_token_days < 1:
        raise SettingsError("security.link_token_days: must be positive")
    for name in ("inventory_url", "courier_url", "payments_url", "credit_check_url",
                 "vouchers_url", "orders_url"):
        url = getattr(settings.adapters, name)
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise SettingsError(f"adapters.{name}: expected an http:// or https:// URL or empty")
    if settings.adapters.timeout_seconds < 1:
        raise SettingsError("adapters.timeout_seconds: must be positive")
    if settings.shop.cod_credit_check_above < 0:
        raise SettingsError("shop.cod_credit_check_above: must not be negative")
    for slot in settings.shop.delivery_slots:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", slot):
            raise SettingsError(f"shop.delivery_slots: expected HH:MM-HH:MM, got {slot!r}")
    for name in ("confirmation_reminder_minutes", "confirmation_escalation_minutes",
                 "payment_overdue_escalation_days"):
        if getattr(settings.shop, name) < 1:
            raise SettingsError(f"shop.{name}: must be positive")
    _check_operators(settings.operators)
    _check_webhooks(settings.webhooks)
    if settings.database.pool_size < 1 or settings.database.max_overflow < 0:
        raise SettingsError("database.pool_size: must be positive (max_overflow: not negative)")
    if settings.process.takeover_seconds < 1:
        raise SettingsError("process.takeover_seconds: must be positive")
    if not 1 <= settings.coordination.lock_lease_seconds <= 300:
        raise SettingsError("coordination.lock_lease_seconds: expected 1 to 300")
    for name in ("webchat_sessions_per_ip_per_minute", "webhook_requests_per_ip_per_second",
                 "messages_per_conversation_per_minute",
                 "email_unverified_threads_per_address_per_minute",
                 "email_unverified_threads_per_domain_per_minute",
                 "email_unverified_threads_per_minute"):
        if getattr(settings.limits, name) < 0:
            raise SettingsError(f"limits.{name}: must not be negative (0 = no limit)")
    for name in ("proof_failures_per_order", "proof_failures_per_client",
                 "proof_window_seconds", "proof_lockout_seconds"):
        if getattr(settings.security, name) < 1:
            raise SettingsError(f"security.{name}: must be positive")
    if settings.shop.idempotency_hours < 24:
        raise SettingsError("shop.idempotency_hours: at least 24 (shops retry for a day)")
    if not settings.shop.api_keys:
        raise SettingsError("shop.api_keys: at least one key is needed for the shop API")
    if settings.http.public_url and urlsplit(settings.http.public_url).scheme not in (
        "http", "https"
    ):
        raise SettingsError("http.public_url: expected an http:// or https:// URL")
    if settings.webchat.enabled and not settings.webchat.identity_secret:
        raise SettingsError("webchat.identity_secret: must not be empty (anyone could sign an "
                            "identity with an empty key); set a long random secret")
    public = settings.public_host
    if public is not None:
        for key, value in (
            ("webchat.identity_secret", settings.webchat.identity_secret),
            *(("shop.api_keys", k) for k in settings.shop.api_keys),
        ):
            if value in DEMO_SECRETS:
                raise SettingsError(
                    f"{key}: the demo value is refused on the non-loopback host "
                    f"{public}; set your own secret"
                )
        # The demo seeds made-up orders, serves them at /demo/orders and lets anyone "pay"
        # them with a button: on a host others reach, that is a shop anyone can write to.
        if settings.demo.enabled:
            raise SettingsError(
                f"demo.enabled: the demo shop is refused on the non-loopback host {public}; "
                "set ORDERBOT__DEMO__ENABLED=false"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_webhooks(webhooks: WebhooksSettings) -> None:
    for name in ("retry_hours", "timeout_seconds"):
        if getattr(webhooks, name) < 1:
            raise SettingsError(f"webhooks.{name}: must be positive")
    if webhooks.keep_days < 0:
        raise SettingsError("webhooks.keep_days: must not be negative (0 keeps them)")
    if not webhooks.url:
        return
    parts = urlsplit(webhooks.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("webhooks.url: expected an http:// or https:// URL or empty")
    if webhook_key(webhooks.secret) is None:
        raise SettingsError("webhooks.secret: expected whsec_ and a base64 key of at least "
                            f"{MIN_WEBHOOK_KEY_BYTES} bytes (e.g. whsec_ + `openssl rand "
                            "-base64 32`)")


MIN_WEBHOOK_KEY_BYTES = 24


def webhook_key(secret: str) -> bytes | None:
    """The key of a `whsec_<base64>` secret; None when it is not one."""
    prefix = "whsec_"
    if not secret.startswith(prefix):
        return None
    try:
        key = base64.b64decode(secret[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) >= MIN_WEBHOOK_KEY_BYTES else None


def plain_http_to_public_host(url: str) -> bool:
    """An http:// URL whose host is not this machine: the webhooks cross a network in clear."""
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback(parts.hostname or "")


def _check_operators(operators: OperatorsSettings) -> None:
    from dialog.hours import BusinessHours  # the one parser of the hours' format

    try:
        BusinessHours.parse(operators.business_hours, operators.timezone)
    except ValueError as error:
        raise SettingsError(f"operators.business_hours: {error}") from None
    for name in ("minutes_per_conversation", "idle_minutes", "session_hours",
                 "login_failures_per_address", "login_failures_per_user_and_address",
                 "login_lockout_minutes"):
        if getattr(operators, name) < 1:
            raise SettingsError(f"operators.{name}: must be positive")

"""orderbot: the composition root and command line.

    python bot.py [--config FILE]            run everything enabled in the settings
    python bot.py nlu-eval FILE              evaluate the intent classifier on FILE
    python bot.py nlu retrain                learn from the operators' labels (kept only if
                                             not worse on the holdout)
    python bot.py operator add NAME [--display-name X] [--admin] [--password-stdin]
                                             create a console operator account
    python bot.py erase-customer EMAIL       erase a customer's conversations and personal data
    python bot.py reconcile                  compare the shop's open orders with the bot's now
    python bot.py products import FILE [--format jsonl|csv] [--report FILE]
                                             load the catalogue from JSON lines or CSV

This is the only module that knows every part; it wires channels -> dialog -> orders.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.exceptions import RedisError
from sqlalchemy import text

from adapters.courier.http import HttpCourier
from adapters.courier.local import LocalCourier
from adapters.credit_check.http import HttpCreditCheck
from adapters.credit_check.local import LocalCreditCheck
from adapters.inventory.http import HttpInventory
from adapters.inventory.local import LocalInventory
from adapters.orders.http import HttpShopOrders
from adapters.payments.http import HttpPayments
from adapters.payments.local import LocalPayments
from adapters.payments.page import make_payment_page_router
from adapters.vouchers.http import HttpVouchers
from adapters.vouchers.local import LocalVouchers
from channels.base import Channel
from channels.limits import PublicLimits
from channels.webchat.channel import STATIC as WEBCHAT_STATIC
from channels.webchat.channel import WebchatChannel
from config import Settings, SettingsError, load_settings, plain_http_to_public_host
from console import cli as operator_cli
from console import erase_cli
from console.app import OperatorConsole
from coordination.base import Attempts, Locks, PubSub
from coordination.fallback import (
    FallbackAttempts,
    FallbackLocks,
    FallbackPubSub,
    FallbackRateLimiter,
    RedisHealth,
)
from coordination.limits import RateLimiter
from coordination.memory import InProcessAttempts, InProcessLocks, InProcessPubSub
from coordination.redis import RedisAttempts, RedisLocks, RedisPubSub
from dialog import learning
from dialog.demo_history import seed_history
from dialog.desk import OperatorDesk
from dialog.flows.availability import BackInStockMessages
from dialog.flows.confirm_reminders import ConfirmationStarter
from dialog.flows.payment import PaymentMessages
from dialog.flows.registry import all_flows
from dialog.hours import BusinessHours
from dialog.inbox import Inbox
from dialog.manager import DialogManager
from dialog.nlu import NluModel, evaluate
from dialog.nlu.prepared import prepared_model
from dialog.nlu.retrain import LearnedModels
from dialog.nlu.served import ServedModel
from dialog.outbox import OutboxSender
from dialog.proactive import ProactiveMessages
from dialog.proof_limits import ProofLimits, ProofPolicy
from dialog.retention import TranscriptRetention
from dialog.services import Services
from dialog.store import ConversationStore
from dialog.takeover import Takeover
from dialog.texts import Texts
from dialog.tokens import TokenStore
from dialog.waits import QueueWaits
from http_guards.body_limit import BodyLimit
from http_guards.security_headers import SecurityHeaders, page_policy
from http_guards.validation_errors import add_validation_handler
from monitoring.endpoint import make_metrics_router
from monitoring.prometheus import PrometheusMetrics
from orders import demo, reconcile_cli
from orders.billing import Invoices, PaymentReminders
from orders.confirmation import ConfirmationSettings
from orders.credit_check import CreditCheck
from orders.documents import make_documents_router
from orders.inventory import Inventory
from orders.payments import Payments
from orders.reconcile import Reconciliation
from orders.reservation_jobs import ReservationJobs
from orders.reservations import Reservations
from orders.returns import ReturnDesk, ReturnPolicy
from orders.service import OrderService
from orders.shop_orders import ShopOrders
from orders.tracking import Courier
from orders.unavailable import add_unavailable_handler
from orders.vouchers import Vouchers
from repositories.demo_history import SqlDemoHistory
from repositories.unit_of_work import SqlRepositories, SqlUnitOfWork
from serving import MAX_WEBSOCKET_FRAME as MAX_WEBSOCKET_FRAME  # tests import it from here
from serving import event_loop, http_server
from shop_api import products_cli
from shop_api.orders import make_router as make_shop_router
from shop_api.webhooks.deliveries import WebhookDeliveries, oldest_undelivered
from shop_api.webhooks.recorder import WebhookLog
from shop_api.webhooks.retention import WebhookRetention
from shop_api.webhooks.sender import WebhookSender
from storage.clock import utcnow
from storage.database import Database, make_engine
from storage.jobs import JobRunner
from storage.upgrade import hold_setup_lock, upgrade

if TYPE_CHECKING:
    from channels.telegram import TelegramChannel

ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG = ROOT / "settings.toml"
HEALTH_REDIS_TIMEOUT = 1.0  # GET /health waits this long for Redis's PONG
REDIS_CONNECTIONS = 100  # per process
REDIS_WAIT_SECONDS = 30.0  # for a free connection, before a turn fails

log = logging.getLogger("orderbot")


def _adapter(settings: Settings, url: str, http: type[Any], local: object) -> Any:
    """The HTTP implementation when [adapters] names its URL, else the local one."""
    if url:
        return http(url, settings.adapters.api_key, settings.adapters.timeout_seconds)
    return local


def _shop_orders(settings: Settings) -> ShopOrders | None:
    """The shop's open orders ([adapters] orders_url); None: there is nothing to reconcile."""
    url = settings.adapters.orders_url
    return _adapter(settings, url, HttpShopOrders, None) if url else None


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


class Orderbot:
    """Every part of one bot process, built from the settings, started by the HTTP app."""

    def __init__(self, settings: Settings, nlu: NluModel | None = None) -> None:
        self.settings = settings
        self.database = Database(make_engine(_database_url(settings.database.url),
                                             settings.database.pool_size,
                                             settings.database.max_overflow))
        self.redis = _redis(settings.redis.url) if settings.redis.url else None
        # With Redis: its locks and pub/sub, falling back to this process's while it is down.
        self.redis_health = RedisHealth()
        self.locks: Locks = (FallbackLocks(RedisLocks(self.redis), self.redis_health)
                             if self.redis else InProcessLocks())
        self.pubsub: PubSub = (FallbackPubSub(RedisPubSub(self.redis), self.redis_health)
                               if self.redis else InProcessPubSub())
        # Failed proofs of orders, counted across processes (dialog/proof_limits.py).
        self.attempts: Attempts = (FallbackAttempts(RedisAttempts(self.redis), self.redis_health)
                                   if self.redis else InProcessAttempts())
        self.orders = OrderService(link_token_days=settings.security.link_token_days)
        self.process_name = settings.process.name or f"{socket.gethostname()}:{settings.http.port}"
        # A turn's transaction and its repositories (repositories/), one per unit of work.
        self.units = partial(SqlUnitOfWork, self.database)
        self.store = ConversationStore(owner=self.process_name, join=SqlRepositories.joining)
        self.texts = Texts.load()
        # trained once, then loaded (dialog/nlu/prepared.py); at start, what operators taught
        # it replaces it (dialog/learning.py)
        self.nlu = ServedModel(nlu or prepared_model())
        self.metrics = PrometheusMetrics(self.database)
        self.outbox = OutboxSender(self.units, self.store, {}, metrics=self.metrics)
        self.webhooks = self._webhooks(settings)
        operators = settings.operators
        self.waits = QueueWaits(
            BusinessHours.parse(operators.business_hours, operators.timezone),
            operators.minutes_per_conversation, self.texts,
        )
        self.desk = OperatorDesk(
            database=self.database, store=self.store, outbox=self.outbox, texts=self.texts,
            locks=self.locks, pubsub=self.pubsub, waits=self.waits,
            idle_minutes=operators.idle_minutes,
        )
        self.store.on_escalated = self.desk.announce  # the consoles see every new escalation
        self.jobs = JobRunner(self.database)
        self.services = Services()  # adapters and use cases the flows use (see _wire)
        self.manager = DialogManager(
            units=self.units,
            store=self.store,
            orders=self.orders,
            nlu=self.nlu,
            texts=self.texts,
            locks=self.locks,
            outbox=self.outbox,
            flows=all_flows(),
            shop_name=settings.shop.name,
            services=self.services,
            desk=self.desk,
            metrics=self.metrics,
            tokens=TokenStore(idle=timedelta(days=settings.webchat.token_idle_days),
                              max_age=timedelta(days=settings.webchat.token_max_age_days)),
        )
        self.proactive = ProactiveMessages(
            self.store, self.texts, self.outbox, self.orders, settings.shop.name,
            join=SqlRepositories.joining,
        )
        self.rate_limiter = (FallbackRateLimiter(settings.redis.url, self.redis_health)
                             if settings.redis.url else RateLimiter())
        self.limits = PublicLimits(settings.limits, self.rate_limiter)
        self.inbox = Inbox(self.units, self.manager, admit=self.limits.message_admitted,
                           owner=self.process_name)
        self.takeover = Takeover(self.units, self.process_name,
                                 settings.process.takeover_seconds, self._resume)
        self._wire()
        self.channels: list[Channel] = []
        self.telegram: TelegramChannel | None = None
        self.app = FastAPI(title="orderbot", lifespan=self._lifespan)
        add_unavailable_handler(self.app)  # database down or locked: 503, nothing kept
        add_validation_handler(self.app)  # a 422 names the bad fields, echoes little
        self.app.add_api_route("/health", self._health, methods=["GET"], tags=["operations"])
        self.app.include_router(make_documents_router(self.database))
        if not settings.adapters.payments_url:  # local payments: the shop's own payment page
            self.app.include_router(make_payment_page_router(
                self.database, self.orders, self.proactive, shop_name=settings.shop.name,
                base_url=settings.base_url, demo=settings.demo.enabled,
            ))
        self.app.include_router(
            make_shop_router(
                self.database, self.orders, self.proactive, settings.shop.api_keys, self._links,
                stock_notifier=BackInStockMessages(self.proactive),
                idempotency_hours=settings.shop.idempotency_hours,
            )
        )
        self.console = OperatorConsole(
            settings, database=self.database, desk=self.desk, orders=self.orders,
            services=self.services, texts=self.texts, locks=self.locks,
            limiter=self.rate_limiter, metrics=self.metrics, units=self.units,
        )
        self.console.learned_labels = lambda: self.nlu.labels  # the dashboard's "new" labels
        self.console.deliveries = WebhookDeliveries(
            self.database, settings.webhooks.retry_hours,
            self.webhooks.wake if self.webhooks else _nothing)
        self.app.include_router(self.console.router())
        if settings.metrics.enabled:
            self.app.include_router(make_metrics_router(self.metrics, settings.metrics))
        if settings.webchat.enabled:
            webchat = WebchatChannel(self.manager, self.pubsub, settings.webchat, settings.base_url,
                                     limits=self.limits)
            self._add_channel(webchat)
            # The widget on a shop's site opens its session cross-origin. Every origin may read
            # the answer, so that a refused one (403 from the session endpoint, which checks
            # the origin itself) shows "unavailable" instead of a network error. No credentials,
            # and no Authorization header: the shop API stays out of reach of browsers.
            self.app.add_middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["POST"],
                allow_headers=["Content-Type"],
            )
        common = {"manager": self.manager, "base_url": settings.base_url,
                  "shop_name": settings.shop.name}
        if settings.telegram.enabled:
            from channels.telegram import TelegramChannel

            self.telegram = TelegramChannel(settings.telegram, self.inbox, **common)
            self._add_channel(self.telegram)
        if settings.slack.enabled:
            from channels.slack import SlackChannel

            self._add_channel(SlackChannel(settings.slack, self.inbox, desk=self.desk,
                                           database=self.database, **common))
        if settings.email.enabled:
            from channels.email import EmailChannel

            self._add_channel(EmailChannel(settings.email, self.inbox, limits=self.limits,
                                           metrics=self.metrics, **common))
        if settings.demo.enabled:
            self.app.include_router(
                demo.make_demo_router(self.database, self.orders, WEBCHAT_STATIC / "demo.html")
            )
        # Outermost last: the body limit sees a request before anything else reads it.
        self.app.add_middleware(SecurityHeaders, pages={
            "/": page_policy(WEBCHAT_STATIC / "demo.html"),
            "/webchat/chat": page_policy(WEBCHAT_STATIC / "chat.html"),
        })
        self.app.add_middleware(BodyLimit, max_bytes=settings.http.max_body_bytes,
                                refused=self.metrics.refused)

    def _wire(self) -> None:
        """Adapters (local, or HTTP when [adapters] names a URL), use cases, due jobs."""
        settings, urls = self.settings, self.settings.adapters
        self.services.add(Payments, _adapter(
            settings, urls.payments_url, HttpPayments, LocalPayments(settings.base_url)))
        inventory = _adapter(settings, urls.inventory_url, HttpInventory, LocalInventory())
        self.services.add(Inventory, inventory)
        # Confirming, cancelling and shipping reserve, release and commit at the inventory.
        self.orders.reservations = Reservations(inventory)
        ReservationJobs(inventory).register(self.jobs)
        self.services.add(CreditCheck, _adapter(
            settings, urls.credit_check_url, HttpCreditCheck, LocalCreditCheck()))
        self.services.add(Vouchers, _adapter(
            settings, urls.vouchers_url, HttpVouchers, LocalVouchers()))
        self.services.add(Courier, _adapter(
            settings, urls.courier_url, HttpCourier, LocalCourier()))
        shop = self.settings.shop
        confirmation = ConfirmationSettings(
            base_url=self.settings.base_url, delivery_slots=tuple(shop.delivery_slots),
            cod_credit_check_above=shop.cod_credit_check_above,
            reminder_minutes=shop.confirmation_reminder_minutes,
            escalation_minutes=shop.confirmation_escalation_minutes,
        )
        self.services.add(ConfirmationSettings, confirmation)
        ConfirmationStarter(confirmation, self.orders, self.store, self.texts).attach(
            self.proactive, self.jobs)
        returns = ReturnDesk(
            self.orders, self.services.get(Payments), shop_name=self.settings.shop.name,
            base_url=self.settings.base_url,
            policy=ReturnPolicy(window_days=self.settings.shop.return_window_days),
        )
        self.services.add(ReturnDesk, returns)
        self.orders.return_receiver = returns  # return_received refunds through it
        self.services.add(Invoices, Invoices(self.settings.base_url, self.settings.shop.name))
        self.services.add(ProactiveMessages, self.proactive)  # codes and news to the customer
        security = self.settings.security
        self.services.add(ProofLimits, ProofLimits(self.attempts, ProofPolicy(
            failures_per_order=security.proof_failures_per_order,
            failures_per_client=security.proof_failures_per_client,
            window_seconds=security.proof_window_seconds,
            lockout_seconds=security.proof_lockout_seconds,
        ), self.metrics))
        PaymentReminders(
            self.orders, PaymentMessages(self.proactive, self.store, self.texts),
            escalation_days=self.settings.shop.payment_overdue_escalation_days,
        ).register(self.jobs)
        self.retention = TranscriptRetention(self.settings.shop.transcript_retention_days,
                                             SqlRepositories.joining)
        self.retention.register(self.jobs)
        # Planned only with webhooks on (rows left from an earlier time with them on go once
        # they are on again): a bot without webhooks keeps the daily jobs it had.
        hooks = self.settings.webhooks
        self.webhook_retention = WebhookRetention(hooks.keep_days if hooks.url else 0)
        self.webhook_retention.register(self.jobs)
        shop_orders = _shop_orders(self.settings)
        self.reconciliation = Reconciliation(shop_orders) if shop_orders else None
        if self.reconciliation is not None:
            self.reconciliation.register(self.jobs)

    def _webhooks(self, settings: Settings) -> WebhookSender | None:
        """With [webhooks] url: the sender, and the order core and the conversations
        recording their changes for it (orders/changes.py). Without: nothing is recorded."""
        hooks = settings.webhooks
        if not hooks.url:
            return None
        if plain_http_to_public_host(hooks.url):
            log.warning("webhooks.url is plain http:// to a host on the network: the shop's "
                        "data crosses it unencrypted (use https://)")
        sender = WebhookSender(self.database, hooks.url, hooks.secret, owner=self.process_name,
                               timeout_seconds=hooks.timeout_seconds, metrics=self.metrics)
        changes = WebhookLog(hooks.retry_hours, sender.wake)
        self.orders.changes = changes
        self.store.changes = changes
        return sender

    def _add_channel(self, channel: Channel) -> None:
        self.channels.append(channel)
        router = channel.router()
        if router is not None:
            # The platforms' webhooks are limited per address here; the web chat counts its
            # sessions and messages itself.
            webhook = channel.name in ("telegram", "slack")
            self.app.include_router(
                router, dependencies=[Depends(self.limits.webhook_called)] if webhook else None)
        self.proactive.add_opener(channel)

    def _links(self, token: str) -> dict[str, str | None]:
        """The order's chat links for a newly issued link token (orders/links.py)."""
        base = self.settings.base_url
        return {
            "webchat": (
                f"{base}/webchat/chat?link={token}"
                if self.settings.webchat.enabled
                else None
            ),
            "telegram": (
                f"https://t.me/{self.telegram.username}?start={token}"
                if self.telegram is not None and self.telegram.username
                else None  # off, or Telegram not reached yet (its username comes from getMe)
            ),
        }

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        await upgrade(self.database.engine)
        if self.settings.demo.enabled:
            async with self.database.transaction() as session:
                await hold_setup_lock(session)  # one process seeds, the others then see it
                if await demo.seed(session, self.orders):
                    log.info("demo shop seeded")
                    if self.settings.demo.history:
                        made = await seed_history(SqlDemoHistory(session))
                        log.info("demo history seeded: %d conversations", made)
        # Operators' labels the model has not learned yet: retrain (kept only if not worse)
        # before the first message is understood.
        await learning.learn_at_start(self.units, self.nlu,
                                      LearnedModels(_database_url(self.settings.database.url)))
        async with self.database.transaction() as session:
            await self.retention.plan(session)
            await self.webhook_retention.plan(session)
            if self.reconciliation is not None:
                await self.reconciliation.plan(session)
        await self.console.start()  # canned replies, the demo login, the live feed
        for channel in self.channels:
            self.outbox.add_channel(channel.name, channel)
        await self.takeover.start()  # this process's name on the rows it will resume
        await self.outbox.start()
        if self.webhooks is not None:
            await self.webhooks.start()
        # Messages recorded before the last stop are answered before new ones can arrive,
        # so that a conversation's turns keep their order across a restart.
        await self.inbox.start()
        for channel in self.channels:
            await channel.start()
        await self.jobs.start()
        await self.desk.start()

    async def stop(self) -> None:
        await self.console.stop()
        await self.desk.stop()
        await self.jobs.stop()
        await self.inbox.stop()
        await self.outbox.stop()
        if self.webhooks is not None:
            await self.webhooks.stop()  # unsent webhooks wait in the database
        await self.takeover.stop()  # what is left may go to another process at once
        for channel in self.channels:
            await channel.stop()
        await self.pubsub.close()
        await self.rate_limiter.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()

    async def _health(self) -> dict[str, Any]:
        """For a load balancer or a monitor: 200 while this process can serve (the database
        answers; 503 when it does not); Redis "degraded" still serves, in this process only.
        The oldest webhook not yet delivered (nor failed) shows a shop that stopped taking
        them."""
        async with self.database.transaction() as session:
            await session.execute(text("SELECT 1"))
            oldest = (await oldest_undelivered(session, utcnow())
                      if self.webhooks is not None else None)
        redis = "off"
        if self.redis is not None:  # asked now: an idle process knows no more than that
            try:
                async with asyncio.timeout(HEALTH_REDIS_TIMEOUT):
                    await self.redis.ping()
                redis = "ok"
            except (TimeoutError, OSError, RedisError):
                redis = "degraded"
        return {"status": "ok", "database": "ok", "redis": redis, "process": self.process_name,
                "webhook_oldest_undelivered_id": oldest.id if oldest else None,
                "webhook_oldest_undelivered_seconds": oldest.age_seconds if oldest else None}

    async def _resume(self, inbox_ids: list[int], outbox_ids: list[int]) -> None:
        """Work taken over from a process that stopped (dialog/takeover.py)."""
        await self.outbox.resume(outbox_ids)
        await self.inbox.resume(inbox_ids)

    def describe(self) -> list[str]:
        base = self.settings.base_url
        lines = [f"orderbot serving on {base}"]
        if self.settings.demo.enabled:
            lines.append(f"  demo shop:      {base}/")
        if self.settings.webchat.enabled:
            lines.append(f"  web chat:       {base}/webchat/widget.js  (WebSocket /webchat/ws)")
        lines.append(f"  shop API:       {base}/api  (OpenAPI: {base}/docs)")
        demo_login = ("  (demo / demo)" if self.settings.demo.enabled
                      and self.settings.public_host is None else "")
        lines.append(f"  operators:      {base}/console{demo_login}  (dashboard: "
                     f"{base}/console/dashboard)")
        if self.settings.metrics.enabled:
            lines.append(f"  metrics:        {base}/metrics")
        on = [c.name for c in self.channels] or ["none"]
        lines.append(f"  channels on:    {', '.join(on)}")
        lines.append(f"  database:       {_redact(self.settings.database.url)}")
        lines.append(f"  coordination:   {'redis' if self.redis else 'in-process (one process)'}")
        lines.append(f"  adapters:       {adapters_line(self.settings)}")
        hooks = self.settings.webhooks.url
        lines.append(f"  webhooks:       {'on -> ' + _redact(hooks) if hooks else 'off'}")
        return lines


def _nothing() -> None:
    """Webhooks off: a row an admin queues again waits for them to be on."""


def _redis(url: str) -> aioredis.Redis:
    """A client whose pool makes a burst of turns wait for a free connection: redis-py's
    default pool raises "Too many connections" past 100 at once, which failed turns."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, decode_responses=True, max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_WAIT_SECONDS,
    )
    return aioredis.Redis.from_pool(pool)


def _database_url(url: str) -> str:
    """Relative SQLite paths are relative to the project folder, not the current one."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = url[len(prefix):]
        if path and path != ":memory:":
            return prefix + str(ROOT / path)
    return url


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


async def _stop_quietly(bot: Orderbot) -> None:
    try:
        await bot.stop()
    except Exception:  # a part that never started may fail to stop: nothing left to save
        log.debug("stopping after a failed start", exc_info=True)


def serve(
    settings: Settings, *, bot: Orderbot | None = None, listener: socket.socket | None = None
) -> int:
    """Run the bot; `bot` and `listener` let a caller prepare them (the benchmark does)."""
    try:
        orderbot = bot if bot is not None else Orderbot(settings)
    except SettingsError as error:  # a channel refused its settings
        print(f"orderbot: bad settings: {error}", file=sys.stderr)
        return 2
    try:  # bound before anything starts, so a second copy of the bot changes nothing
        bound = listener or _listen(settings.http.host, settings.http.port)
    except OSError as error:
        print(f"orderbot: bad settings: http.port: cannot listen on {settings.http.host}:"
              f"{settings.http.port} ({error.strerror}; is another orderbot running?)",
              file=sys.stderr)
        return 2
    server = http_server(orderbot.app, settings.http.host, settings.http.port,
                         keep_alive_seconds=settings.http.keep_alive_seconds,
                         max_connections=settings.http.max_connections)

    async def run() -> int:
        # The bot starts before uvicorn (lifespan off), so that what a platform refuses at
        # start (a Telegram token, a busy SMTP port) stops it with one line naming the key.
        try:
            await orderbot.start()
        except SettingsError as error:
            print(f"orderbot: bad settings: {error}", file=sys.stderr)
            await _stop_quietly(orderbot)
            return 2
        # uvicorn handles SIGINT/SIGTERM while it serves, then raises the signal again once it
        # has stopped; with the default handlers that would end the process before the bot
        # stops (replies in flight, the heartbeat that hands pending work over).
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _already_stopping)
        try:
            serving = asyncio.create_task(server.serve(sockets=[bound]))
            while not server.started and not serving.done():  # noqa: ASYNC110 (no event)
                await asyncio.sleep(0.05)
            if not server.started:
                if serving.done() and not serving.cancelled():
                    serving.exception()  # retrieved: uvicorn has logged why
                serving.cancel()
                return 1
            # What start-up built lives as long as the process: the collector need not walk
            # it again (a full pass over it took ~100 ms in a large process, a p99 spike).
            gc.collect()
            gc.freeze()
            print("\n".join(orderbot.describe()), flush=True)
            await serving
            return 0
        finally:
            await _stop_quietly(orderbot)

    try:
        with event_loop() as runner:
            return runner.run(run())
    except SystemExit as stop:  # uvicorn exits this way when start-up fails
        return int(stop.code or 1)


def _already_stopping(_signal: int, _frame: object) -> None:
    """The signal uvicorn raises again after its shutdown: the bot's own stop follows."""


def _catalogue_wiring(
    settings: Settings,
) -> tuple[Database, OrderService, BackInStockMessages]:
    """What `products import` writes with: back-in-stock messages go into the outbox unowned,
    so that a running bot takes them over and sends them (dialog/takeover.py)."""
    database = Database(make_engine(_database_url(settings.database.url)))
    orders = OrderService(link_token_days=settings.security.link_token_days)
    store = ConversationStore(owner=None)
    # not started: rows wait for a bot process
    outbox = OutboxSender(partial(SqlUnitOfWork, database), store, {})
    proactive = ProactiveMessages(store, Texts.load(), outbox, orders, settings.shop.name,
                                  join=SqlRepositories.joining)
    return database, orders, BackInStockMessages(proactive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="orderbot")
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML)")
    commands = parser.add_subparsers(dest="command")
    evaluation = commands.add_parser("nlu-eval", help="evaluate intents on FILE")
    evaluation.add_argument("file", type=Path)
    operator_cli.add_commands(commands)
    erase_cli.add_commands(commands)
    learning.add_commands(commands)
    reconcile_cli.add_commands(commands)
    products_cli.add_commands(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    if args.command == "nlu-eval":
        if not args.file.is_file():
            print(f"nlu-eval: {args.file} is not a file", file=sys.stderr)
            return 2
        try:
            print(evaluate(NluModel.train(), args.file))
        except ValueError as error:
            print(f"nlu-eval: {error}", file=sys.stderr)
            return 2
        return 0
    try:
        settings = load_settings(args.config or DEFAULT_CONFIG)
    except SettingsError as error:
        print(f"orderbot: bad settings: {error}", file=sys.stderr)
        return 2
    if args.command == "operator":
        return operator_cli.run(args, settings, _database_url(settings.database.url))
    if args.command == "erase-customer":
        hooks = settings.webhooks  # the shop is told; a running bot sends it
        return erase_cli.run(args, _database_url(settings.database.url), SqlRepositories.joining,
                             WebhookLog(hooks.retry_hours) if hooks.url else None)
    if args.command == "nlu":
        return learning.run_retrain(_database_url(settings.database.url),
                                    SqlRepositories.joining)
    if args.command == "reconcile":
        return reconcile_cli.run(_shop_orders(settings), _database_url(settings.database.url))
    if args.command == "products":
        return products_cli.run(args, lambda: _catalogue_wiring(settings))
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())

"""Every part of one bot process, built from the settings: no HTTP here (composition/app.py
assembles the app over the parts). Parts get what they use as constructor arguments; the
three cycles that need a late binding are `_bind_late`, named there."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.virus_scan.clamd import ClamdScanner
from channels.base import Channel
from channels.limits import PublicLimits
from channels.webchat.channel import WebchatChannel
from composition import adapters, preparation
from composition.coordinating import Coordination, coordination
from composition.joined import (
    Join,
    JoinedBackInStock,
    JoinedJobs,
    JoinedOrderNews,
    JoinedPaymentNews,
    joiner,
)
from composition.lifecycle import Component, Lifecycle, Step
from config import Settings, plain_http_to_public_host
from console.app import OperatorConsole
from coordination.fallback import RedisHealth
from dialog.attachments import Attachments
from dialog.availability import TeamAvailability
from dialog.conversations import DialogConversations
from dialog.desk import OperatorDesk
from dialog.flows.availability import BackInStockMessages
from dialog.flows.confirm_reminders import ConfirmationStarter
from dialog.flows.payment import PaymentMessages
from dialog.flows.registry import all_flows
from dialog.hours import BusinessHours
from dialog.inbox import Inbox
from dialog.manager import DialogManager
from dialog.messages import Capabilities
from dialog.nlu import NluModel
from dialog.nlu.prepared import start_training
from dialog.nlu.served import ServedModel
from dialog.outbox import OutboxSender
from dialog.proactive import ProactiveMessages
from dialog.proof_limits import ProofLimits, ProofPolicy
from dialog.shop_services import ShopServices
from dialog.store import ConversationStore
from dialog.takeover import Takeover
from dialog.texts import Texts
from dialog.tokens import TokenStore
from dialog.transcript_mail import TranscriptMail
from dialog.unit_of_work import UnitOfWorkFactory
from dialog.waits import QueueWaits
from monitoring.prometheus import PrometheusMetrics
from orders.billing import Invoices, PaymentReminders
from orders.changes import NO_CHANGES, ChangeLog
from orders.confirmation import ConfirmationSettings
from orders.inventory import Inventory
from orders.reservation_jobs import ReservationJobs
from orders.reservations import Reservations
from orders.returns import ReturnDesk, ReturnPolicy
from orders.service import OrderService
from shop_api.webhooks.deliveries import WebhookDeliveries
from shop_api.webhooks.recorder import WebhookLog
from shop_api.webhooks.sender import WebhookSender
from storage.database import Database, make_engine
from storage.files import FileStore
from storage.jobs import JobRunner
from storage.repositories.shop import ShopParts
from storage.repositories.unit_of_work import SqlUnitOfWork

if TYPE_CHECKING:
    from channels.telegram import TelegramChannel

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger("orderbot")


@dataclass(frozen=True, eq=False)  # one process is one bot: compared and hashed by identity
class Orderbot:
    """What one bot process is made of; `start()` starts it in `lifecycle`'s order."""

    settings: Settings
    process_name: str
    database: Database
    units: UnitOfWorkFactory  # a turn's transaction and its repositories (storage/repositories/)
    coordination: Coordination
    metrics: PrometheusMetrics
    texts: Texts
    nlu: ServedModel
    orders: OrderService
    store: ConversationStore
    outbox: OutboxSender
    webhooks: WebhookSender | None  # None: [webhooks] url is empty
    jobs: JobRunner
    services: ShopServices  # adapters and use cases the flows and the console use
    proactive: ProactiveMessages
    join: Join  # a transaction the order core or a job opened, as the dialog's repositories
    order_news: JoinedOrderNews  # orders.service.OrderNotifier: the customer is told
    stock_news: JoinedBackInStock  # orders.stock.BackInStockNotifier
    desk: OperatorDesk
    manager: DialogManager
    limits: PublicLimits
    inbox: Inbox
    conversations: DialogConversations  # what the channels see of the dialog
    capabilities: dict[str, Capabilities]  # what each channel declared, by its name
    takeover: Takeover
    console: OperatorConsole
    channels: tuple[Channel, ...]
    telegram: TelegramChannel | None
    daily_jobs: tuple[preparation.DailyJob, ...]
    lifecycle: Lifecycle

    @property
    def redis_health(self) -> RedisHealth:
        return self.coordination.redis_health

    async def start(self) -> None:
        await self.lifecycle.start()

    async def stop(self) -> None:
        await self.lifecycle.stop()


def build(settings: Settings, nlu: NluModel | None = None) -> Orderbot:
    """The parts, wired; raises config.SettingsError when a channel refuses its settings."""
    database = Database(make_engine(database_url(settings.database.url),
                                    settings.database.pool_size, settings.database.max_overflow))
    shared = coordination(settings)
    process_name = settings.process.name or f"{socket.gethostname()}:{settings.http.port}"
    metrics = PrometheusMetrics(database)
    texts = Texts.load()
    # trained once, then loaded (dialog/nlu/prepared.py): on a first start by another process
    # while this one starts, waited for before the first message; at start, what operators
    # taught it replaces it (dialog/learning.py)
    served = ServedModel(nlu or start_training())
    webhooks = _webhook_sender(settings, database, process_name, metrics)
    # With webhooks on, the order core and the conversations record their changes for the
    # shop (orders/changes.py); without, nothing is recorded.
    changes: ChangeLog = (WebhookLog(settings.webhooks.retry_hours, webhooks.wake)
                          if webhooks is not None else NO_CHANGES)
    inventory = adapters.inventory(settings)
    orders = OrderService(settings.security.link_token_days,
                          # confirming, cancelling and shipping reserve, release and commit
                          reservations=Reservations(inventory), changes=changes)
    # A turn's transaction and its repositories (storage/repositories/), one per unit of work;
    # its shop is the order core and the adapters bound to it (the adapters are set below).
    parts = ShopParts(orders)
    units = partial(SqlUnitOfWork, database, parts)
    join = joiner(parts)  # a transaction the order core or a job opened, as repositories
    store = ConversationStore(owner=process_name)

    async def resume(inbox_ids: list[int], outbox_ids: list[int]) -> None:
        """Work taken over from a process that stopped (dialog/takeover.py)."""
        await outbox.resume(outbox_ids)
        await inbox.resume(inbox_ids)

    takeover = Takeover(units, process_name, settings.process.takeover_seconds, resume)
    # With Redis, several processes: each checks a row is still its own, and that no earlier
    # reply of its conversation is still to go, before sending it; an earlier one holds it
    # back for twice takeover_seconds at most (its takeover and send fit within that).
    outbox = OutboxSender(units, store, {}, metrics=metrics,
                          check_owner=bool(settings.redis.url),
                          hold_at_most=2.0 * settings.process.takeover_seconds,
                          statement_units=partial(SqlUnitOfWork, database, parts,
                                                  autocommit=True),
                          rows_surely_own=takeover.rows_surely_own)
    jobs = JobRunner(database)
    proactive = ProactiveMessages(store, texts, outbox, settings.shop.name)
    services = _shop_services(settings, orders, store, texts, proactive, jobs, join, inventory,
                              shared, metrics)
    parts.services = services
    operators = settings.operators
    waits = QueueWaits(BusinessHours.parse(operators.business_hours, operators.timezone),
                       operators.minutes_per_conversation, texts)
    desk = OperatorDesk(
        units=units, store=store, outbox=outbox, texts=texts, locks=shared.conversation_locks,
        pubsub=shared.pubsub, waits=waits, idle_minutes=operators.idle_minutes,
    )
    # What each channel declares (dialog/messages.py Capabilities), filled once the channels
    # are built: the dialog and the seam ask it instead of a channel's name.
    capabilities: dict[str, Capabilities] = {}
    manager = DialogManager(
        units=units, store=store, nlu=served, texts=texts,
        locks=shared.conversation_locks, outbox=outbox, flows=all_flows(),
        shop_name=settings.shop.name, desk=desk, metrics=metrics,
        tokens=TokenStore(idle=timedelta(days=settings.webchat.token_idle_days),
                          max_age=timedelta(days=settings.webchat.token_max_age_days)),
        capabilities=capabilities,
    )
    limits = PublicLimits(settings.limits, shared.rate_limiter)
    inbox = Inbox(units, manager, admit=limits.message_admitted, owner=process_name)
    # What channels see of the dialog (dialog/seam.py).
    conversations = DialogConversations(manager, inbox)
    files = customer_files(settings, units)
    console = OperatorConsole(
        settings, database=database, desk=desk, orders=orders, services=services, texts=texts,
        locks=shared.locks, limiter=shared.rate_limiter, metrics=metrics, units=units,
        deliveries=WebhookDeliveries(database, settings.webhooks.retry_hours,
                                     webhooks.wake if webhooks else _nothing),
        learned_labels=lambda: served.labels,  # the dashboard's "new" labels
        attachments=files,
    )
    transcripts = TranscriptMail(units, store, proactive, texts)
    channels = _channels(settings, conversations, desk, database, shared, limits, metrics,
                         files, transcripts)
    capabilities.update((channel.name, channel.capabilities) for channel in channels)
    daily_jobs = preparation.daily_jobs(settings, jobs)
    _bind_late(store, desk, orders, services.returns, outbox, proactive, channels)
    return Orderbot(
        settings=settings, process_name=process_name, database=database, units=units,
        coordination=shared,
        metrics=metrics, texts=texts, nlu=served, orders=orders, store=store, outbox=outbox,
        webhooks=webhooks, jobs=jobs, services=services, proactive=proactive, join=join,
        order_news=JoinedOrderNews(proactive, join),
        stock_news=JoinedBackInStock(BackInStockMessages(proactive), join), desk=desk,
        manager=manager, limits=limits, inbox=inbox, conversations=conversations,
        capabilities=capabilities, takeover=takeover, console=console,
        channels=channels, telegram=_telegram(channels), daily_jobs=daily_jobs,
        lifecycle=_lifecycle(
            # The shared connections close last, after every part that uses them has stopped.
            closing=Step("connections", stop=preparation.closing(shared, database)),
            preparing=Step("preparation", start=preparation.preparing(
                settings, database, units, database_url(settings.database.url), orders, served,
                daily_jobs)),
            console=console, takeover=takeover, outbox=outbox, webhooks=webhooks, inbox=inbox,
            channels=channels, jobs=jobs, desk=desk,
        ),
    )


def _lifecycle(
    *, closing: Component, preparing: Component, console: Component, takeover: Component,
    outbox: Component, webhooks: Component | None, inbox: Component,
    channels: tuple[Component, ...], jobs: Component, desk: Component,
) -> Lifecycle:
    """The start order, and the stop order: not the reverse, because the channels start after
    the inbox and the outbox (what was recorded is answered first) yet must outlive them when
    stopping (a reply being sent needs its channel's open session)."""
    hooks = [webhooks] if webhooks is not None else []
    started = [
        closing,
        preparing,  # the schema, the demo data, the learned model, the planned daily jobs
        console,  # canned replies, the demo login, the live feed
        takeover,  # this process's name on the rows it will resume
        outbox,
        *hooks,
        # Messages recorded before the last stop are answered before new ones can arrive,
        # so that a conversation's turns keep their order across a restart.
        inbox,
        *channels,
        jobs,
        desk,
    ]
    stopped = [
        console, desk, jobs,
        inbox,  # no new turn once it stops; the outbox then sends what the last turns wrote
        outbox, *hooks,  # unsent webhooks wait in the database
        takeover,  # what is left may go to another process at once
        *channels, preparing, closing,
    ]
    return Lifecycle(started, stopped)


def _webhook_sender(
    settings: Settings, database: Database, process_name: str, metrics: PrometheusMetrics
) -> WebhookSender | None:
    hooks = settings.webhooks
    if not hooks.url:
        return None
    if plain_http_to_public_host(hooks.url):
        log.warning("webhooks.url is plain http:// to a host on the network: the shop's "
                    "data crosses it unencrypted (use https://)")
    return WebhookSender(database, hooks.url, hooks.secret, owner=process_name,
                         timeout_seconds=hooks.timeout_seconds, metrics=metrics)


def _shop_services(
    settings: Settings, orders: OrderService, store: ConversationStore, texts: Texts,
    proactive: ProactiveMessages, jobs: JobRunner, join: Join, inventory: Inventory,
    shared: Coordination, metrics: PrometheusMetrics,
) -> ShopServices:
    """Adapters (local, or HTTP when [adapters] names a URL), use cases, their due jobs."""
    payments = adapters.payments(settings)
    ReservationJobs(inventory).register(jobs)
    shop = settings.shop
    confirmation = ConfirmationSettings(
        base_url=settings.base_url, delivery_slots=tuple(shop.delivery_slots),
        cod_credit_check_above=shop.cod_credit_check_above,
        reminder_minutes=shop.confirmation_reminder_minutes,
        escalation_minutes=shop.confirmation_escalation_minutes,
    )
    ConfirmationStarter(confirmation, store, texts).attach(proactive, JoinedJobs(jobs, join))
    PaymentReminders(
        orders, JoinedPaymentNews(PaymentMessages(proactive, store, texts), join),
        escalation_days=shop.payment_overdue_escalation_days,
    ).register(jobs)
    security = settings.security
    return ShopServices(
        payments=payments,
        inventory=inventory,
        credit_check=adapters.credit_check(settings),
        vouchers=adapters.vouchers(settings),
        courier=adapters.courier(settings),
        confirmation=confirmation,
        returns=ReturnDesk(
            orders, payments, shop_name=shop.name, base_url=settings.base_url,
            policy=ReturnPolicy(window_days=shop.return_window_days),
        ),
        invoices=Invoices(settings.base_url, shop.name),
        proactive=proactive,
        proof_limits=ProofLimits(ProofPolicy(
            failures_per_order=security.proof_failures_per_order,
            failures_per_client=security.proof_failures_per_client,
            window_seconds=security.proof_window_seconds,
            lockout_seconds=security.proof_lockout_seconds,
        ), metrics),
    )


def _channels(
    settings: Settings, conversations: DialogConversations, desk: OperatorDesk,
    database: Database, shared: Coordination, limits: PublicLimits, metrics: PrometheusMetrics,
    files: Attachments,
    transcripts: TranscriptMail,
) -> tuple[Channel, ...]:
    """The channels turned on, each built on the dialog (the platform libraries are imported
    only for a channel that is on)."""
    channels: list[Channel] = []
    if settings.webchat.enabled:
        hours = BusinessHours.parse(settings.operators.business_hours, settings.operators.timezone)
        channels.append(WebchatChannel(conversations, shared.pubsub, settings.webchat,
                                       settings.base_url, limits=limits,
                                       files=files,
                                       team=TeamAvailability(hours, conversations.texts),
                                       transcripts=transcripts,
                                       customer_typing=desk.customer_typing))
    base_url, shop_name = settings.base_url, settings.shop.name
    if settings.telegram.enabled:
        from channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings.telegram, conversations,
                                        base_url=base_url, shop_name=shop_name, files=files))
    if settings.slack.enabled:
        from channels.slack.channel import SlackChannel

        channels.append(SlackChannel(settings.slack, conversations, desk=desk, database=database,
                                     base_url=base_url, shop_name=shop_name))
    if settings.email.enabled:
        from channels.email import EmailChannel

        channels.append(EmailChannel(settings.email, conversations, limits=limits,
                                     metrics=metrics, base_url=base_url, shop_name=shop_name,
                                     files=files))
    return tuple(channels)


def _telegram(channels: tuple[Channel, ...]) -> TelegramChannel | None:
    """The Telegram channel, whose bot username makes an order's deep link."""
    return next((c for c in channels if c.name == "telegram"), None)  # type: ignore[return-value]


def _bind_late(
    store: ConversationStore, desk: OperatorDesk, orders: OrderService, returns: ReturnDesk,
    outbox: OutboxSender, proactive: ProactiveMessages, channels: tuple[Channel, ...],
) -> None:
    """The bindings a cycle forbids passing to a constructor."""
    # The desk is built on the store; the store tells it (the consoles) of each escalation.
    store.on_escalated = desk.announce
    # The return desk moves and refunds orders through the order service; the order service
    # hands it a received return.
    orders.return_receiver = returns
    # The outbox and the proactive messages come before the dialog; the channels after it.
    for channel in channels:
        outbox.add_channel(channel.name, channel)
        proactive.add_opener(channel)


def _nothing() -> None:
    """Webhooks off: a row an admin queues again waits for them to be on."""


def customer_files(settings: Settings, units: UnitOfWorkFactory) -> Attachments:
    """Customers' photos and PDFs: under [attachments] directory (relative: to the project
    folder, like the SQLite file), scanned by clamd when one is named."""
    scanner = ClamdScanner(settings.attachments.clamd) if settings.attachments.clamd else None
    return Attachments(units, FileStore(preparation.attachments_directory(settings)),
                       settings.attachments.max_bytes, scanner)


def database_url(url: str) -> str:
    """Relative SQLite paths are relative to the project folder, not the current one."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = url[len(prefix):]
        if path and path != ":memory:":
            return prefix + str(ROOT / path)
    return url

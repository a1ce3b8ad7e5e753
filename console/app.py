"""The operator console's parts, built from the settings, started and stopped with the bot."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter

from config import Settings
from console.accounts import Accounts
from console.actions import OrderActions
from console.analytics.figures import Analytics
from console.api import make_router
from console.canned import CannedReplies
from console.deliveries import Deliveries
from console.live import LiveConsole
from console.login_throttle import LoginThrottle
from console.origins import ConsoleOrigins
from console.tasks import TaskFeed
from coordination.base import Locks
from coordination.limits import RateLimiter
from dialog.attachments import Attachments
from dialog.desk import OperatorDesk
from dialog.metrics import Metrics, NoMetrics
from dialog.shop_services import ShopServices
from dialog.texts import Texts
from dialog.unit_of_work import UnitOfWorkFactory
from orders.service import OrderService
from storage.database import Database

log = logging.getLogger(__name__)


class OperatorConsole:
    def __init__(
        self, settings: Settings, *, database: Database, desk: OperatorDesk,
        orders: OrderService, services: ShopServices, texts: Texts, locks: Locks,
        limiter: RateLimiter, units: UnitOfWorkFactory, metrics: Metrics | None = None,
        deliveries: Deliveries | None = None,
        learned_labels: Callable[[], frozenset[str]] = frozenset,
        attachments: Attachments | None = None,
    ) -> None:
        self.settings = settings
        self.units = units  # the dialog's transactions (its repositories: bot.py wires them)
        refused = (metrics or NoMetrics()).refused
        self.database = database
        self.desk = desk
        self.orders = orders
        self.accounts = Accounts(database, settings.operators.session_hours)
        self.throttle = LoginThrottle(settings.operators, limiter, refused)
        self.origins = ConsoleOrigins(settings, refused)
        self.canned = CannedReplies(database, texts, locks)
        self.actions = OrderActions(database=database, desk=desk, orders=orders,
                                    services=services, texts=texts)
        self.live = LiveConsole(desk, self.accounts, self.origins)
        self.analytics = Analytics(database)
        self.tasks = TaskFeed(database, desk)
        self.deliveries = deliveries  # the webhooks to the shop
        # The keys of the operators' labels the served model learned.
        self.learned_labels = learned_labels
        self.attachments = attachments  # customers' photos and PDFs (None: none kept)

    @property
    def secure_cookie(self) -> bool:
        return self.settings.base_url.startswith("https://")

    def router(self) -> APIRouter:
        return make_router(self)

    async def start(self) -> None:
        """Default canned replies on a new installation, the demo login, the live feed."""
        if await self.canned.seed_defaults():
            log.info("default canned replies stored")
        settings = self.settings
        public = settings.public_host
        if public is not None:
            if await self.accounts.disable_demo():
                log.warning("the console login demo/demo is disabled: %s is not a loopback "
                            "host", public)
        elif settings.demo.enabled and await self.accounts.ensure_demo():
            log.info("demo console login created: demo / demo")
        await self.live.start()
        self.tasks.start()

    async def stop(self) -> None:
        self.tasks.stop()
        await self.live.stop()

"""The work a process does at start before it serves (the first component it starts): the
schema, the demo data, the model learned from the operators' labels, the planned daily jobs;
and the shared connections, closed when everything else has stopped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from composition import adapters
from composition.coordinating import Coordination
from config import Settings
from dialog import learning
from dialog.attachments import AttachmentSweep
from dialog.demo_history import seed_history
from dialog.nlu.retrain import LearnedModels
from dialog.nlu.served import ServedModel
from dialog.unit_of_work import UnitOfWorkFactory
from orders import demo
from orders.reconcile import Reconciliation
from orders.service import OrderService
from shop_api.webhooks.retention import WebhookRetention
from storage.database import Database
from storage.files import FileStore
from storage.jobs import JobRunner
from storage.repositories.demo_history import SqlDemoHistory
from storage.repositories.proof_attempts import LapsedProofAttempts
from storage.repositories.retention import TranscriptRetention
from storage.repositories.unit_of_work import SqlRepositories
from storage.upgrade import hold_setup_lock, upgrade

log = logging.getLogger("orderbot")
ROOT = Path(__file__).resolve().parent.parent


class DailyJob(Protocol):
    """A due job planned at start (storage/jobs.py)."""

    async def plan(self, session: AsyncSession) -> None: ...


def daily_jobs(settings: Settings, jobs: JobRunner) -> tuple[DailyJob, ...]:
    """Registered with the job runner now, planned at start: transcript and webhook
    retention, the attachments' sweep, lapsed proof counts, and with [adapters] orders_url
    the reconciliation with the shop."""
    retention = TranscriptRetention(settings.shop.transcript_retention_days)
    retention.register(jobs)
    # Planned only with webhooks on (rows left from an earlier time with them on go once
    # they are on again): a bot without webhooks keeps the daily jobs it had.
    hooks = settings.webhooks
    webhook_retention = WebhookRetention(hooks.keep_days if hooks.url else 0)
    webhook_retention.register(jobs)
    sweep = AttachmentSweep(FileStore(attachments_directory(settings)), SqlRepositories)
    sweep.register(jobs)
    lapsed = LapsedProofAttempts()
    lapsed.register(jobs)
    planned: list[DailyJob] = [retention, webhook_retention, sweep, lapsed]
    shop_orders = adapters.shop_orders(settings)
    if shop_orders is not None:
        reconciliation = Reconciliation(shop_orders)
        reconciliation.register(jobs)
        planned.append(reconciliation)
    return tuple(planned)


def attachments_directory(settings: Settings) -> Path:
    """[attachments] directory; a relative one is relative to the project folder."""
    directory = Path(settings.attachments.directory)
    return directory if directory.is_absolute() else ROOT / directory


def preparing(
    settings: Settings, database: Database, units: UnitOfWorkFactory, database_url: str,
    orders: OrderService, served: ServedModel, daily_jobs: tuple[DailyJob, ...],
) -> Callable[[], Awaitable[None]]:
    async def prepare() -> None:
        served.load_soon()  # on a first start: trained meanwhile, loaded while the rest runs
        await upgrade(database.engine)
        if settings.demo.enabled:
            async with database.transaction() as session:
                await hold_setup_lock(session)  # one process seeds, the others then see it
                if await demo.seed(session, orders):
                    log.info("demo shop seeded")
                    if settings.demo.history:
                        made = await seed_history(SqlDemoHistory(session))
                        log.info("demo history seeded: %d conversations", made)
        # Operators' labels the model has not learned yet: retrain (kept only if not worse)
        # before the first message is understood.
        await learning.learn_at_start(units, served, LearnedModels(database_url))
        async with database.transaction() as session:
            for job in daily_jobs:
                await job.plan(session)

    return prepare


def closing(shared: Coordination, database: Database) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await shared.close()
        await database.dispose()

    return close

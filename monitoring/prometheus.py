"""dialog.metrics.Metrics with prometheus-client, in a registry of the bot's own (so that
several bots in one process, as in the tests, do not share counters).

Counted in memory on the hot path: messages in and out per channel, the turn latency
histogram, errors. Read from the database only when /metrics is scraped: the outbox backlog,
the operators' queue, due jobs.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from dialog.tables import Conversation, OutboxRow
from shop_api.webhooks.deliveries import pending_count as webhooks_pending
from storage.clock import utcnow
from storage.database import Database
from storage.tables import Job

TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PrometheusMetrics:
    def __init__(self, database: Database) -> None:
        self._database = database
        self.registry = CollectorRegistry()
        # Per channel: messages in, turn latency, messages out.
        self._per_channel: dict[str, tuple[Counter, Histogram, Counter]] = {}
        registry = self.registry
        self._in = Counter("orderbot_messages_in", "Customer messages answered (turns)",
                           ["channel"], registry=registry)
        self._out = Counter("orderbot_messages_out",
                            "Messages delivered to customers' platforms", ["channel"],
                            registry=registry)
        self._latency = Histogram("orderbot_turn_seconds",
                                  "Time to answer a customer message (lock, NLU, flow, commit)",
                                  ["channel"], buckets=TURN_BUCKETS, registry=registry)
        self._errors = Counter("orderbot_errors", "Turns that failed and messages given up on",
                               ["kind", "channel"], registry=registry)
        # What the guards against abuse refused, by reason (each also logs one WARNING line).
        self._refused = Counter("orderbot_refused_requests",
                                "Requests refused by a guard against abuse", ["reason"],
                                registry=registry)
        self._unanswered = Counter("orderbot_messages_unanswered",
                                   "Customer messages taken and not answered on purpose "
                                   "(rate_limited: new mail threads of unauthenticated "
                                   "senders past [limits]; no_new_text: mail with nothing "
                                   "of its own, asked only whether they meant to write "
                                   "something)", ["channel", "reason"],
                                   registry=registry)
        self._email_refused = Counter("orderbot_email_refused",
                                      "Received mail not answered because it is automatic, "
                                      "by kind (bounce, auto_reply, bulk, report, own_mail, "
                                      "configured)", ["kind"], registry=registry)
        self._backlog = Gauge("orderbot_outbox_backlog", "Outbox rows waiting to be sent",
                              registry=registry)
        self._failed = Gauge("orderbot_outbox_failed", "Outbox rows given up on",
                             registry=registry)
        self._queue = Gauge("orderbot_queue_length", "Conversations with the operators",
                            ["status"], registry=registry)
        self._proof_failures = Counter("orderbot_proof_failures",
                                       "Failed proofs of an order", ["level"], registry=registry)
        self._proof_lockouts = Counter("orderbot_proof_lockouts",
                                       "Lockouts after too many failed proofs", ["scope"],
                                       registry=registry)
        self._jobs = Gauge("orderbot_jobs_due", "Due jobs not run yet", registry=registry)
        self._webhooks = Counter("orderbot_webhooks",
                                 "Webhook attempts to the shop by outcome (delivered; retried: "
                                 "failed, tried again later; failed: given up on)", ["outcome"],
                                 registry=registry)
        for outcome in ("delivered", "retried", "failed"):
            self._webhooks.labels(outcome)  # shown from the start, at 0
        self._webhooks_pending = Gauge("orderbot_webhooks_pending",
                                       "Webhooks neither delivered nor failed yet",
                                       registry=registry)

    # dialog.metrics.Metrics

    def turn(self, channel: str, seconds: float, replies: int) -> None:
        counted = self._per_channel.get(channel)
        if counted is None:  # the children of a label, looked up once (labels() locks)
            counted = self._per_channel[channel] = (
                self._in.labels(channel), self._latency.labels(channel), self._out.labels(channel))
        counted[0].inc()
        counted[1].observe(seconds)

    def turn_failed(self, channel: str) -> None:
        self._errors.labels("turn", channel).inc()

    def delivered(self, channel: str) -> None:
        counted = self._per_channel.get(channel)
        (counted[2] if counted is not None else self._out.labels(channel)).inc()

    def undeliverable(self, channel: str) -> None:
        self._errors.labels("delivery", channel).inc()

    def refused(self, reason: str) -> None:
        self._refused.labels(reason).inc()

    def unanswered(self, channel: str, reason: str) -> None:
        self._unanswered.labels(channel, reason).inc()

    def email_refused(self, kind: str) -> None:
        self._email_refused.labels(kind).inc()

    def proof_failed(self, level: str) -> None:
        self._proof_failures.labels(level).inc()

    def proof_locked_out(self, scope: str) -> None:
        self._proof_lockouts.labels(scope).inc()

    # shop_api.webhooks.sender.WebhookMetrics

    def webhook_delivered(self) -> None:
        self._webhooks.labels("delivered").inc()

    def webhook_retried(self) -> None:
        self._webhooks.labels("retried").inc()

    def webhook_failed(self) -> None:
        self._webhooks.labels("failed").inc()

    # The endpoint

    async def exposition(self) -> bytes:
        """The text format, with the gauges read from the database now."""
        async with self._database.transaction() as session:
            unsent = OutboxRow.sent_at.is_(None)
            self._backlog.set(await session.scalar(
                select(func.count(OutboxRow.id)).where(unsent, OutboxRow.last_error.is_(None)))
                or 0)
            self._failed.set(await session.scalar(
                select(func.count(OutboxRow.id)).where(unsent, OutboxRow.last_error.is_not(None)))
                or 0)
            counts = dict((await session.execute(
                select(Conversation.status, func.count(Conversation.id))
                .where(Conversation.status.in_(("escalated", "claimed")))
                .group_by(Conversation.status))).all())
            for status in ("escalated", "claimed"):
                self._queue.labels(status).set(counts.get(status, 0))
            self._jobs.set(await session.scalar(
                select(func.count(Job.id)).where(Job.done_at.is_(None), Job.due_at <= utcnow()))
                or 0)
            self._webhooks_pending.set(await webhooks_pending(session))
        return generate_latest(self.registry)

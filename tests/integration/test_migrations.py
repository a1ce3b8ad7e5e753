"""The Alembic migrations build exactly the schema the models describe, on both databases; an
empty database given the newest schema at once (a first start) gets that same schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import schema  # noqa: F401  (registers every table on Base.metadata)
from orders.catalogue import get_product, search_products
from orders.service import OrderService
from storage.base import Base
from storage.database import make_engine
from storage.upgrade import alembic_config, upgrade


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def differences(engine: AsyncEngine) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def tables_and_revision(engine: AsyncEngine) -> tuple[set[str], str | None]:
    def read(connection: Connection) -> tuple[set[str], str | None]:
        revision = MigrationContext.configure(connection).get_current_revision()
        return set(inspect(connection).get_table_names()), revision

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    await upgrade(engine, step_by_step=True)
    assert await differences(engine) == []
    tables, revision = await tables_and_revision(engine)
    assert set(Base.metadata.tables) <= tables
    assert revision is not None


async def test_an_empty_database_gets_the_newest_schema_at_once(
    engine: AsyncEngine, database_url: str
) -> None:
    """What a first start does: the same tables and head revision as every migration run one
    after another, and the next start finds nothing to migrate."""
    await upgrade(engine)
    assert await differences(engine) == []
    created = await tables_and_revision(engine)
    stepped = make_engine(database_url.replace(".db", "-stepped.db")) if "sqlite" in (
        database_url) else None
    if stepped is not None:
        try:
            await upgrade(stepped, step_by_step=True)
            assert await tables_and_revision(stepped) == created
        finally:
            await stepped.dispose()
    await upgrade(engine)
    assert await tables_and_revision(engine) == created


async def test_upgrading_twice_is_harmless(engine: AsyncEngine) -> None:
    await upgrade(engine, step_by_step=True)
    first = await tables_and_revision(engine)
    await upgrade(engine)
    assert await tables_and_revision(engine) == first
    assert await differences(engine) == []


async def test_existing_orders_get_a_payment_token_and_keep_their_chat_link_for_a_while(
    engine: AsyncEngine,
) -> None:
    """0015: the old link token stops paying (a new pay_token), and keeps opening the chat
    until the link expires, as a hashed chat link."""
    now = datetime.now(UTC)

    def before(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0014")
        connection.execute(text(
            "INSERT INTO customers (id, name, language, preferred_channel, created_at,"
            " email_undeliverable) VALUES (1, 'Ann', 'en', '', :now, false)"), {"now": now})
        connection.execute(text(
            "INSERT INTO orders (id, number, customer_id, status, currency, total_minor,"
            " delivery_method, delivery_address, postcode, payment_method, payment_status,"
            " link_token, created_at, updated_at, discount_minor, refunded_minor)"
            " VALUES (1, 'M-1', 1, 'confirmed', 'EUR', 100, 'courier', '{}', '', 'card',"
            " 'pending', 'old-link-token', :now, :now, 0, 0)"), {"now": now})
        connection.execute(text(
            "INSERT INTO order_lines (order_id, sku, name, quantity, unit_price_minor)"
            " VALUES (1, 'S', 'Thing', 1, 100)"))

    async with engine.begin() as connection:
        await connection.run_sync(before)
    await upgrade(engine)
    assert await differences(engine) == []
    service = OrderService()
    async with AsyncSession(engine) as session:
        order = await service.get_order(session, "M-1")
        assert order is not None and order.lines  # nothing cascaded away
        assert order.pay_token and order.pay_token != "old-link-token"
        assert await service.order_by_pay_token(session, "old-link-token") is None
        linked = await service.order_by_link_token(session, "old-link-token")
        assert linked is not None and linked.number == "M-1"
        later = OrderService(clock=lambda: now + timedelta(days=31))
        assert await later.order_by_link_token(session, "old-link-token") is None


async def test_existing_products_get_their_name_as_the_english_one(engine: AsyncEngine) -> None:
    """0018: names, accessories and the search text filled for the products already there."""

    def before(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0016")
        connection.execute(text(
            "INSERT INTO products (sku, name, category, price_minor, currency, stock,"
            " returnable) VALUES ('LM-800', 'Łódź desk lamp', 'home', 3900, 'EUR', 16, true)"))

    async with engine.begin() as connection:
        await connection.run_sync(before)
    await upgrade(engine)
    assert await differences(engine) == []
    async with AsyncSession(engine) as session:
        product = await get_product(session, "LM-800")
        found = await search_products(session, "lodz", limit=5)
    assert product is not None
    assert (dict(product.names), product.accessories, product.name("pl")) == (
        {"en": "Łódź desk lamp"}, (), "Łódź desk lamp")
    assert [p.sku for p in found] == ["LM-800"]


async def test_slack_posts_recorded_on_handoffs_survive_in_slack_threads(
    engine: AsyncEngine,
) -> None:
    """0022: the handoffs' Slack columns go; a post only they knew gets its thread row (not
    posted again, nothing mirrored again), a thread row without its ts gets the handoff's."""
    now = datetime.now(UTC)

    def before(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0021")
        connection.execute(text(
            "INSERT INTO conversations (id, channel, chat_id, language, status, state,"
            " created_at, updated_at) VALUES (1, 'webchat', 'a', 'en', 'claimed', '{}', :now,"
            " :now), (2, 'webchat', 'b', 'en', 'bot', '{}', :now, :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO transcript (id, conversation_id, sender, text, buttons, at)"
            " VALUES (7, 1, 'customer', 'help', '[]', :now)"), {"now": now})
        connection.execute(text(
            "INSERT INTO handoffs (id, conversation_id, reason, escalated_at, ended_at,"
            " requeued, slack_channel, slack_ts) VALUES"
            " (1, 1, 'human', :now, NULL, 0, 'COPS', '111.1'),"
            " (2, 2, 'human', :now, :now, 0, 'COPS', '222.2')"), {"now": now})
        connection.execute(text(
            "INSERT INTO slack_threads (handoff_id, conversation_id, channel, ts, summary_upto,"
            " mirrored_upto, settled, created_at) VALUES (2, 2, 'COPS', NULL, 0, 0, false,"
            " :now)"), {"now": now})

    async with engine.begin() as connection:
        await connection.run_sync(before)
    await upgrade(engine)
    assert await differences(engine) == []
    async with engine.connect() as connection:
        rows = (await connection.execute(text(
            "SELECT handoff_id, channel, ts, mirrored_upto, settled FROM slack_threads"
            " ORDER BY handoff_id"))).all()
    assert [tuple(row) for row in rows] == [(1, "COPS", "111.1", 7, False),
                                            (2, "COPS", "222.2", 0, False)]

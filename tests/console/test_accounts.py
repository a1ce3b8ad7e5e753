"""Operator accounts: nothing stored opens the console, logins run out, failed logins count
on every process, admins manage the accounts, and demo/demo exists only on loopback."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from console.accounts import Accounts
from console.live import COOKIE
from console.tables import Operator, OperatorSession
from storage.clock import utcnow
from tests.conftest import BotFactory, LiveServer, serve
from tests.console.conftest import LogIn
from tests.servers import free_port


async def test_the_database_holds_no_password_and_no_login_token(
    console_server: LiveServer, log_in: LogIn
) -> None:
    anna = await log_in("anna", "correct horse battery staple")
    token = anna.cookies[COOKIE]
    async with console_server.bot.database.transaction() as session:
        stored = await session.scalar(select(Operator.password_hash)
                                      .where(Operator.username == "anna"))
        logins = list(await session.scalars(select(OperatorSession.token_hash)))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in logins
    assert token not in logins


async def test_a_login_lasts_session_hours_and_records_when_it_was_last_used(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(operators={"session_hours": 2})
    now = utcnow()
    clock = [now]
    accounts = Accounts(bot.database, 2, clock=lambda: clock[0])
    account = await accounts.authenticate("demo", "demo")
    assert account is not None
    token = await accounts.open_session(account)

    clock[0] = now + timedelta(minutes=30)
    assert await accounts.by_session(token) == account
    async with bot.database.transaction() as session:
        seen = await session.scalar(select(OperatorSession.last_seen_at))
    assert seen == now + timedelta(minutes=30)

    clock[0] = now + timedelta(hours=2)
    assert await accounts.by_session(token) is None


async def test_failed_logins_count_on_every_process_sharing_redis(
    make_bot: BotFactory, redis_url: str
) -> None:
    settings = {"redis": {"url": redis_url},
                "operators": {"login_failures_per_user_and_address": 2}}
    bot_a = await make_bot(http={"port": free_port()}, **settings)
    bot_b = await make_bot(http={"port": free_port()}, **settings)
    server_a, server_b = await serve(bot_a), await serve(bot_b)
    try:
        async with httpx.AsyncClient() as client:
            for server in (server_a, server_b):
                failed = await client.post(f"{server.url}/console/api/login",
                                           json={"username": "demo", "password": "guess"})
                assert failed.status_code == 401
            for server in (server_a, server_b):
                refused = await client.post(f"{server.url}/console/api/login",
                                            json={"username": "demo", "password": "demo"})
                assert refused.status_code == 429
                assert int(refused.headers["retry-after"]) > 0
    finally:
        await server_a.stop()
        await server_b.stop()


async def test_admins_manage_operator_accounts(
    console_server: LiveServer, log_in: LogIn
) -> None:
    admin = await log_in()
    created = await admin.post("/console/api/operators", json={
        "username": "Carol", "display_name": "Carol D.", "password": "carol-secret",
        "role": "operator"})
    assert created.status_code == 201
    carol = created.json()["operator"]
    assert carol["username"] == "carol" and carol["role"] == "operator"
    again = await admin.post("/console/api/operators", json={
        "username": "carol", "display_name": "C", "password": "another-long-secret"})
    assert again.status_code == 409 and again.json() == {
        "detail": "an operator carol exists already"}
    empty = await admin.post("/console/api/operators", json={
        "username": "dave", "display_name": "Dave", "password": ""})
    assert empty.status_code == 422 and empty.json() == {"detail": "the password is empty"}
    listed = (await admin.get("/console/api/operators")).json()["operators"]
    assert [o["username"] for o in listed] == ["demo", "carol"]

    async with httpx.AsyncClient(base_url=console_server.url) as browser:
        login = await browser.post("/console/api/login",
                                   json={"username": "carol", "password": "carol-secret"})
        assert login.status_code == 200
        promoted = await admin.patch(f"/console/api/operators/{carol['id']}",
                                     json={"role": "admin", "display_name": "Carol Dean"})
        assert promoted.json()["operator"]["role"] == "admin"
        weak = await admin.patch(f"/console/api/operators/{carol['id']}",
                                 json={"password": "Sunshine12345"})
        assert weak.status_code == 422 and weak.json() == {
            "detail": "this password is one of the most common ones: choose another"}
        me = (await browser.get("/console/api/me")).json()["operator"]
        assert me["role"] == "admin" and me["display_name"] == "Carol Dean"
        off = await admin.patch(f"/console/api/operators/{carol['id']}",
                                json={"active": False})
        assert off.json()["operator"]["active"] is False
        assert (await browser.get("/console/api/me")).status_code == 401
        login = await browser.post("/console/api/login",
                                   json={"username": "carol", "password": "carol-secret"})
        assert login.status_code == 401
    me = (await admin.get("/console/api/me")).json()["operator"]
    selfish = await admin.patch(f"/console/api/operators/{me['id']}", json={"active": False})
    assert selfish.status_code == 409


async def test_the_demo_login_exists_only_on_a_loopback_host(
    make_bot: BotFactory, tmp_path: Path, demo_database: Path
) -> None:
    public = {"http": {"host": "0.0.0.0", "port": free_port()}, "demo": {"enabled": False}}
    new = await make_bot(f"sqlite+aiosqlite:///{tmp_path / 'public.db'}", **public)
    shutil.copyfile(demo_database, tmp_path / "moved.db")  # a demo database made public
    moved = await make_bot(f"sqlite+aiosqlite:///{tmp_path / 'moved.db'}",
                           **{**public, "http": {"host": "0.0.0.0", "port": free_port()}})
    for bot in (new, moved):
        server = await serve(bot)
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                refused = await client.post("/console/api/login",
                                            json={"username": "demo", "password": "demo"})
            assert refused.status_code == 401
        finally:
            await server.stop()

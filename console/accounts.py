"""Operator accounts and their console logins.

Passwords are hashed with argon2id (argon2-cffi), in a worker thread so that a login does not
stall the event loop. A login session is a random token in the operator's cookie; only its
SHA-256 is stored, so a copy of the database opens no console.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from console.password_policy import password_problem
from console.tables import Operator, OperatorSession
from dialog.desk_values import OperatorRef
from storage.clock import utcnow
from storage.database import Database

ROLES = ("operator", "admin")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_PASSWORD_CHARS = 1000
MAX_DISPLAY_NAME_CHARS = 100
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
DEMO_USERNAME = DEMO_PASSWORD = "demo"
DEMO_DISPLAY_NAME = "Demo Operator"

_hasher = PasswordHasher()  # argon2id with the library's recommended cost


class AccountError(Exception):
    """A request about accounts that cannot be done; the text says why."""


class DuplicateUsername(AccountError):
    pass


class UnknownOperator(AccountError):
    pass


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def ref(self) -> OperatorRef:
        """The operator as the desk knows them; customers see the display name."""
        return OperatorRef(f"console:{self.id}", self.display_name)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "role": self.role, "active": self.active}


def normalise_username(text: str) -> str:
    return text.strip().lower()


def check_username(username: str) -> str:
    """The username as stored (lowercase), or AccountError if it is not a valid one."""
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise AccountError("a username is 1-64 lowercase letters, digits, '.', '_' or '-'")
    return username


def check_password(password: str, username: str = "", *, policy: bool = True) -> None:
    """AccountError if the password is refused; `policy` False only for the demo's login
    (console/password_policy.py says what a real one must be)."""
    if not password:
        raise AccountError("the password is empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"a password is at most {MAX_PASSWORD_CHARS} characters")
    problem = password_problem(password, username) if policy else None
    if problem is not None:
        raise AccountError(problem)


def _check_display_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise AccountError("the display name is empty")
    if len(name) > MAX_DISPLAY_NAME_CHARS:
        raise AccountError(f"a display name is at most {MAX_DISPLAY_NAME_CHARS} characters")
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: Operator) -> Account:
    return Account(row.id, row.username, row.display_name, row.role, row.active)


class Accounts:
    def __init__(
        self, database: Database, session_hours: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._database = database
        self._lifetime = timedelta(hours=session_hours)
        self._clock = clock
        self._absent_hash: str | None = None  # verified against when the username is unknown

    @property
    def session_seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    # Accounts

    async def create(
        self, username: str, display_name: str, password: str, role: str = "operator",
        *, password_policy: bool = True,
    ) -> Account:
        username = check_username(username)
        display_name = _check_display_name(display_name)
        check_password(password, username, policy=password_policy)
        _check_role(role)
        row = Operator(username=username, display_name=display_name,
                       password_hash=await hash_password(password), role=role, active=True,
                       created_at=self._clock())
        try:
            async with self._database.transaction() as session:
                session.add(row)
                await session.flush()
        except IntegrityError:
            raise DuplicateUsername(f"an operator {username} exists already") from None
        return _account(row)

    async def names(self, ids: set[int]) -> dict[int, str]:
        """The display names of these operators, by id."""
        if not ids:
            return {}
        async with self._database.transaction() as session:
            rows = await session.execute(select(Operator.id, Operator.display_name)
                                         .where(Operator.id.in_(ids)))
            return {operator: name for operator, name in rows}

    async def all(self) -> list[Account]:
        async with self._database.transaction() as session:
            rows = await session.scalars(select(Operator).order_by(Operator.id))
            return [_account(row) for row in rows]

    async def update(
        self, operator_id: int, *, active: bool | None = None, role: str | None = None,
        display_name: str | None = None, password: str | None = None,
    ) -> Account:
        """Change an account; deactivating it or changing its password ends its logins."""
        values: dict[str, Any] = {}
        if active is not None:
            values["active"] = active
        if role is not None:
            _check_role(role)
            values["role"] = role
        if display_name is not None:
            values["display_name"] = _check_display_name(display_name)
        async with self._database.transaction() as session:
            row = await session.get(Operator, operator_id)
            if row is None:
                raise UnknownOperator(f"no operator {operator_id}")
            if password is not None:
                check_password(password, row.username)
                values["password_hash"] = await hash_password(password)
            for name, value in values.items():
                setattr(row, name, value)
            if active is False or password is not None:
                await session.execute(
                    delete(OperatorSession).where(OperatorSession.operator_id == operator_id))
            await session.flush()
            return _account(row)

    async def authenticate(self, username: str, password: str) -> Account | None:
        """The active account with this username and password, else None (in about the same
        time whether or not the username exists)."""
        async with self._database.transaction() as session:
            row = await session.scalar(
                select(Operator).where(Operator.username == normalise_username(username)))
        if row is None:
            if self._absent_hash is None:
                self._absent_hash = await hash_password(secrets.token_hex(16))
            await _password_matches(self._absent_hash, password)
            return None
        if not await _password_matches(row.password_hash, password) or not row.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            new_hash = await hash_password(password)
            async with self._database.transaction() as session:
                await session.execute(
                    update(Operator).where(Operator.id == row.id).values(password_hash=new_hash))
        return _account(row)

    async def ensure_demo(self) -> bool:
        """The demo's admin demo/demo, unless an account of that name exists; True if made."""
        async with self._database.transaction() as session:
            if await session.scalar(select(Operator.id).where(Operator.username == DEMO_USERNAME)):
                return False
        try:
            # The demo's one weak password: made only on a loopback host (console/app.py).
            await self.create(DEMO_USERNAME, DEMO_DISPLAY_NAME, DEMO_PASSWORD, "admin",
                              password_policy=False)
        except DuplicateUsername:
            return False
        return True

    async def disable_demo(self) -> bool:
        """Deactivate demo/demo if it is still that (a demo database moved to a public host);
        True if it was."""
        async with self._database.transaction() as session:
            row = await session.scalar(select(Operator).where(Operator.username == DEMO_USERNAME,
                                                              Operator.active.is_(True)))
        if row is None or not await _password_matches(row.password_hash, DEMO_PASSWORD):
            return False
        await self.update(row.id, active=False)
        return True

    # Login sessions

    async def open_session(self, account: Account) -> str:
        """A new login for the account; the token for its cookie."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._database.transaction() as session:
            await session.execute(  # forget logins that have run out, anyone's
                delete(OperatorSession).where(OperatorSession.expires_at <= now))
            session.add(OperatorSession(
                token_hash=_token_hash(token), operator_id=account.id, created_at=now,
                expires_at=now + self._lifetime, last_seen_at=now,
            ))
        return token

    async def by_session(self, token: str | None) -> Account | None:
        """The active account logged in with this token, if the login has not run out."""
        if not token:
            return None
        now = self._clock()
        async with self._database.transaction() as session:
            found = (await session.execute(
                select(OperatorSession, Operator)
                .join(Operator, Operator.id == OperatorSession.operator_id)
                .where(OperatorSession.token_hash == _token_hash(token))
            )).first()
            if found is None:
                return None
            login, operator = found
            if login.expires_at <= now or not operator.active:
                return None
            if now - login.last_seen_at >= TOUCH_EVERY:
                login.last_seen_at = now
            return _account(operator)

    async def close_session(self, token: str) -> None:
        async with self._database.transaction() as session:
            await session.execute(
                delete(OperatorSession).where(OperatorSession.token_hash == _token_hash(token)))

"""Idempotency-Key for the shop API's POST and PUT: a retry gets the first answer again.

The key is claimed first, in a short transaction of its own (a unique row "in progress"), so
that two identical requests at once do the work once: the second one is answered 409 at once
(as Stripe does) rather than held waiting, and the shop retries it later to get the answer.
The answer is then stored with the key: 2xx and 4xx, so that a retry sees what the first
request saw; a 5xx (or an exception) removes the claim, so that the request can be retried.
A process that died mid-request removes nothing: a claim still in progress after
IN_PROGRESS_SECONDS is taken over by the next request with that key (and the same body), which
then does the work. The takeover is one conditional UPDATE, so of two at once one wins (the
other gets the 409), on SQLite and PostgreSQL alike; the claim's time is its fence, so a
request that was only slow cannot store or release the claim once another has taken it over.

Keys are scoped per API key (its SHA-256 only: the key itself is never stored) and remember a
hash of the method, path and body: the same key for another request is a 422.
The chat links of a new order are not stored (their tokens are kept only hashed elsewhere):
a replay carries fresh links, issued as GET /api/orders/{n} issues them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shop_api.tables import IdempotencyKey
from storage.database import Database, insert_unless_exists

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARS = 255
# No shop API request takes this long: its outside calls are bounded by adapters.timeout_seconds
# (5 s, a few of them) and SQLite's lock wait (15 s); twice the worst of that, rounded up.
IN_PROGRESS_SECONDS = 60
FreshLinks = Callable[[str], Awaitable[dict[str, str | None]]]  # order number -> new links




@dataclass(frozen=True)
class _Stored:
    status_code: int
    answer: str
    relink: bool


class Idempotency:
    """Answers a request once per Idempotency-Key; a retry gets the stored answer."""

    def __init__(self, database: Database, hours: int, fresh_links: FreshLinks,
                 in_progress_seconds: float = IN_PROGRESS_SECONDS) -> None:
        self._database = database
        self._retention = timedelta(hours=hours)
        self._fresh_links = fresh_links
        self._abandoned_after = timedelta(seconds=in_progress_seconds)

    async def answer(
        self, request: Request, body: bytes, api_key: bytes,
        handle: Callable[[], Awaitable[Response]],
    ) -> Response:
        key = request.headers.get(HEADER)
        if key is None or request.method not in ("POST", "PUT"):
            return await handle()
        if not key or len(key) > MAX_KEY_CHARS:
            return JSONResponse({"detail": [{
                "loc": ["header", HEADER], "type": "string_too_long" if key else "missing",
                "msg": f"{HEADER} must have 1 to {MAX_KEY_CHARS} characters",
            }]}, status_code=422)
        lookup = key_lookup(api_key, key)
        request_hash = request_fingerprint(request.method, request.url.path, body)
        claimed = await self._claim(lookup, request_hash)
        if isinstance(claimed, _Stored):
            return await self._replay(claimed)
        if isinstance(claimed, Response):
            return claimed
        try:
            response = await handle()
        except BaseException:
            await self._release(lookup, claimed)
            raise
        if response.status_code >= 500:
            await self._release(lookup, claimed)  # a server error must stay retryable
        else:
            await self._store(lookup, claimed, response)
        return response

    async def _claim(self, lookup: str, request_hash: str) -> _Stored | Response | datetime:
        """The claim's time when this request claimed the key; else the stored answer or a
        refusal."""
        now = datetime.now(UTC)
        async with self._database.transaction() as session:
            # Forgetting on write is enough: a key is only ever read through a claim.
            await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.created_at < now - self._retention)
            )
            claimed = await insert_unless_exists(
                session, IdempotencyKey.__table__,
                {"lookup": lookup, "request_hash": request_hash, "status_code": None,
                 "answer": None, "relink": False, "created_at": now},
                "lookup",
            )
            if claimed is not None:
                return now
            row = await session.scalar(
                select(IdempotencyKey).where(IdempotencyKey.lookup == lookup)
            )
            if row is not None and row.request_hash == request_hash and row.status_code is None:
                taken = await session.execute(
                    update(IdempotencyKey).where(
                        IdempotencyKey.lookup == lookup, IdempotencyKey.status_code.is_(None),
                        IdempotencyKey.created_at < now - self._abandoned_after,
                    ).values(created_at=now)
                )
                if getattr(taken, "rowcount", 0):
                    return now  # its first request died: this one does the work
        if row is not None and row.request_hash != request_hash:
            return JSONResponse(
                {"detail": f"this {HEADER} was used with another request"}, status_code=422
            )
        if row is None or row.status_code is None or row.answer is None:
            return JSONResponse(
                {"detail": f"a request with this {HEADER} is in progress"}, status_code=409
            )
        return _Stored(row.status_code, row.answer, row.relink)

    async def _store(self, lookup: str, claimed: datetime, response: Response) -> None:
        answer: Any = json.loads(bytes(response.body) or b"null")
        relink = isinstance(answer, dict) and answer.get("links") is not None
        if relink:
            answer = {name: value for name, value in answer.items() if name != "links"}
        async with self._database.transaction() as session:
            await session.execute(
                update(IdempotencyKey).where(*_still_ours(lookup, claimed)).values(
                    status_code=response.status_code, answer=json.dumps(answer), relink=relink
                )
            )

    async def _release(self, lookup: str, claimed: datetime) -> None:
        async with self._database.transaction() as session:
            await session.execute(delete(IdempotencyKey).where(*_still_ours(lookup, claimed)))

    async def _replay(self, stored: _Stored) -> Response:
        answer = json.loads(stored.answer)
        if stored.relink and isinstance(answer, dict) and isinstance(answer.get("number"), str):
            answer["links"] = await self._fresh_links(answer["number"])
        return JSONResponse(answer, status_code=stored.status_code,
                            headers={REPLAYED_HEADER: "true"})


def key_lookup(api_key: bytes, key: str) -> str:
    """The row's lookup of an Idempotency-Key sent with an API key."""
    scope = hashlib.sha256(api_key).hexdigest()
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What a retry must repeat to get the stored answer: method, path and body."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def _still_ours(lookup: str, claimed: datetime) -> tuple[ColumnElement[bool], ...]:
    """The key's row while this request's claim holds it (not taken over since)."""
    return (IdempotencyKey.lookup == lookup, IdempotencyKey.created_at == claimed,
            IdempotencyKey.status_code.is_(None))

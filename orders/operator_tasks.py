"""Operator tasks: something a person in the shop has to sort out about an order.

Kinds (each opened by its owner): "payment_overdue" (orders/billing.py), "shop_fact_conflict"
(orders/facts.py), "shop_drift" (orders/reconcile.py), "stock_short"
(orders/reservation_jobs.py). `detail` says what the person needs to know to act without
digging: for a conflict, both sides. The console lists them and closes them ("Done":
done_at, done_by). Every task added is noted in the session's info under ADDED, so that
whoever watches commits (the console's live feed) can announce it once the transaction has
committed, and only then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.service import UnknownOrder
from orders.tables import OperatorTask, Order
from storage.clock import utcnow

ADDED = "operator_tasks_added"  # session.info key: the OperatorTaskViews added in it
MAX_DETAIL = 2000
TASKS_SHOWN = 500  # done tasks listed at most (the newest); open ones are all listed




@dataclass(frozen=True, slots=True)
class OperatorTaskView:
    id: int
    number: str
    kind: str
    created_at: datetime
    done_at: datetime | None
    detail: str = ""
    done_by: str | None = None

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        # age_seconds is the server's own count: a browser with a skewed clock shows it right.
        now = now or utcnow()
        return {"id": self.id, "number": self.number, "kind": self.kind, "detail": self.detail,
                "created_at": self.created_at.isoformat(),
                "age_seconds": max(int((now - self.created_at).total_seconds()), 0),
                "done_at": self.done_at.isoformat() if self.done_at else None,
                "done_by": self.done_by}


class UnknownTask(LookupError):
    pass


class TaskAlreadyDone(Exception):
    def __init__(self, task: OperatorTaskView) -> None:
        super().__init__(f"task {task.id} was done already by {task.done_by or 'someone'}")
        self.task = task


async def add_operator_task(
    session: AsyncSession, number: str, kind: str, detail: str = "", *, once: bool = False
) -> OperatorTaskView | None:
    """once: not while a task of this kind is open for the order (then None)."""
    order_id = await session.scalar(select(Order.id).where(Order.number == number))
    if order_id is None:
        raise UnknownOrder(number)
    if once and await session.scalar(select(OperatorTask.id).where(
            OperatorTask.order_id == order_id, OperatorTask.kind == kind,
            OperatorTask.done_at.is_(None)).limit(1)) is not None:
        return None
    task = OperatorTask(order_id=order_id, kind=kind, detail=detail[:MAX_DETAIL],
                        created_at=utcnow())
    session.add(task)
    await session.flush()
    view = OperatorTaskView(task.id, number, kind, task.created_at, None, task.detail)
    session.info.setdefault(ADDED, []).append(view)
    return view


async def open_operator_tasks(session: AsyncSession) -> list[OperatorTaskView]:
    return await operator_tasks(session, "open")


async def operator_tasks(
    session: AsyncSession, state: Literal["open", "done"]
) -> list[OperatorTaskView]:
    """Open tasks oldest first (the longest waiting on top); done ones newest first."""
    query = select(OperatorTask, Order.number).join(Order, Order.id == OperatorTask.order_id)
    if state == "open":
        query = query.where(OperatorTask.done_at.is_(None)).order_by(OperatorTask.id)
    else:
        query = (query.where(OperatorTask.done_at.is_not(None))
                 .order_by(OperatorTask.done_at.desc(), OperatorTask.id.desc())
                 .limit(TASKS_SHOWN))
    return [_view(task, number) for task, number in await session.execute(query)]


async def close_operator_task(
    session: AsyncSession, task_id: int, done_by: str
) -> OperatorTaskView:
    """Mark the task done; UnknownTask, or TaskAlreadyDone when another operator was first
    (the conditional update lets exactly one of two at once win)."""
    closed = await session.execute(
        update(OperatorTask).where(OperatorTask.id == task_id, OperatorTask.done_at.is_(None))
        .values(done_at=utcnow(), done_by=done_by[:64])
    )
    row = (await session.execute(
        select(OperatorTask, Order.number).join(Order, Order.id == OperatorTask.order_id)
        .where(OperatorTask.id == task_id)
        .execution_options(populate_existing=True)
    )).first()
    if row is None:
        raise UnknownTask(f"no task {task_id}")
    view = _view(*row)
    if not getattr(closed, "rowcount", 0):
        raise TaskAlreadyDone(view)
    return view


def _view(task: OperatorTask, number: str) -> OperatorTaskView:
    return OperatorTaskView(task.id, number, task.kind, task.created_at, task.done_at,
                            task.detail, task.done_by)

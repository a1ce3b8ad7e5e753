"""Operator tasks in the console (docs/console.md, Tasks): the list, "Done", the order a task
is about, and the live feed that shows a new task on every console without a reload.

    GET  /console/api/tasks?state=open|done     open ones oldest first; done ones newest first
    POST /console/api/tasks/{id}/done           404 unknown, 409 done already
    GET  /console/api/orders/{number}           the order, its customer and latest conversation

The feed: orders/ cannot call the console, so a task added in any transaction is noted in that
session (orders/operator_tasks.py, ADDED) and TaskFeed, watching the database's commits,
publishes it on the desk's topic once it has committed: every process's console sockets get
{"type": "task", "task": {...}}, and the same when a task is done.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from sqlalchemy import select

from console.views import customer_json, order_json
from dialog.desk import OperatorDesk
from dialog.tables import Conversation
from orders.operator_tasks import (
    ADDED,
    OperatorTaskView,
    TaskAlreadyDone,
    UnknownTask,
    close_operator_task,
    operator_tasks,
)
from orders.tables import Customer
from storage.clock import utcnow
from storage.database import Database

if TYPE_CHECKING:
    from console.app import OperatorConsole

TaskId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # an id the databases can hold
OrderNumber = Annotated[str, PathParam(max_length=64)]


class TaskFeed:
    """Publishes each operator task added or done to every console (see the module's doc)."""

    def __init__(self, database: Database, desk: OperatorDesk) -> None:
        self._database = database
        self._desk = desk
        self._unwatch: Callable[[], None] | None = None

    def start(self) -> None:
        self._unwatch = self._database.watch_commits(self._committed)

    def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    async def changed(self, task: OperatorTaskView) -> None:
        await self._desk.publish({"type": "task", "task": task.to_json()})

    async def _committed(self, info: dict[Any, Any]) -> None:
        for task in info.get(ADDED, ()):
            await self.changed(task)


def add_task_routes(router: APIRouter, console: "OperatorConsole", operator: Any) -> None:
    """Register the endpoints on the console's router; `operator` is its login dependency."""
    Me = Annotated[Any, operator]

    @router.get("/api/tasks")
    async def tasks(me: Me, state: Literal["open", "done"] = "open") -> dict[str, Any]:
        async with console.database.transaction() as session:
            found = await operator_tasks(session, state)
        now = utcnow()
        return {"tasks": [task.to_json(now) for task in found]}

    @router.post("/api/tasks/{task_id}/done")
    async def task_done(task_id: TaskId, me: Me) -> dict[str, Any]:
        try:
            async with console.database.transaction() as session:
                done = await close_operator_task(session, task_id, me.username)
        except UnknownTask as missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
        except TaskAlreadyDone as already:
            raise HTTPException(status.HTTP_409_CONFLICT, str(already)) from None
        await console.tasks.changed(done)
        return {"task": done.to_json()}

    @router.get("/api/orders/{number}")
    async def order(number: OrderNumber, me: Me) -> dict[str, Any]:
        number = number.strip().upper()
        async with console.database.transaction() as session:
            found = await console.orders.get_order(session, number)
            if found is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {number}")
            customer = await console.orders.get_customer(session, found.customer_id)
            phone = await session.scalar(
                select(Customer.phone).where(Customer.id == found.customer_id))
            conversation_id = await session.scalar(
                select(Conversation.id).where(Conversation.customer_id == found.customer_id)
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(1))
        return {"order": order_json(found),
                "customer": customer_json(customer, phone) if customer is not None else None,
                "conversation_id": conversation_id}

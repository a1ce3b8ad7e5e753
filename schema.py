"""Every module that defines tables, imported so that Base.metadata holds the whole schema
(for Alembic and for the test that compares the migrations with the models)."""

from __future__ import annotations

import channels.slack.threads  # noqa: F401
import console.models  # noqa: F401
import dialog.events  # noqa: F401
import dialog.handoffs  # noqa: F401
import dialog.intent_labels  # noqa: F401
import dialog.store  # noqa: F401
import dialog.takeover  # noqa: F401
import orders.billing  # noqa: F401
import orders.confirmation  # noqa: F401
import orders.documents  # noqa: F401
import orders.models  # noqa: F401
import orders.operator_tasks  # noqa: F401
import orders.reservations  # noqa: F401
import orders.returns  # noqa: F401
import orders.stock  # noqa: F401
import orders.vouchers  # noqa: F401
import scheduling.jobs  # noqa: F401
import shop_api.idempotency  # noqa: F401
import shop_api.webhooks.models  # noqa: F401
from orders.models import Base

metadata = Base.metadata

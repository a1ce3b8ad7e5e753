"""Every package's tables, imported so that Base.metadata holds the whole schema (for Alembic
and for the test that compares the migrations with the tables). The one place they are
registered: a new tables.py is added here."""

from __future__ import annotations

import channels.slack.tables  # noqa: F401
import console.tables  # noqa: F401
import dialog.tables  # noqa: F401
import orders.tables  # noqa: F401
import shop_api.tables  # noqa: F401
import storage.tables  # noqa: F401
from storage.base import Base

metadata = Base.metadata

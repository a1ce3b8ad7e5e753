"""Bind parameters for the prepared statements of the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam


def bound_values(table: Any, *names: str) -> dict[str, Any]:
    """SET/VALUES of these columns from bind parameters named v_<column>."""
    return {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names}

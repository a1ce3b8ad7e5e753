"""Voucher codes from the shop's own `vouchers` table (orders/vouchers.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from orders.tables import Order, Voucher
from orders.vouchers import VoucherQuote, VoucherRefused, discount, normalise_code
from storage.clock import utcnow


class LocalVouchers:
    async def quote(
        self, session: Any, code: str, total_minor: int, currency: str, today: date
    ) -> VoucherQuote:
        voucher = await session.scalar(select(Voucher).where(Voucher.code == normalise_code(code)))
        if voucher is None:
            raise VoucherRefused("unknown")
        if voucher.valid_until is not None and voucher.valid_until < today:
            raise VoucherRefused("expired")
        if voucher.single_use and voucher.used_by_order_id is not None:
            raise VoucherRefused("used")
        if total_minor < voucher.min_total_minor:
            raise VoucherRefused("below_minimum", voucher.min_total_minor)
        return VoucherQuote(voucher.code, discount(voucher, total_minor))

    async def redeem(self, session: Any, code: str, order_number: str, today: date) -> None:
        code = normalise_code(code)
        order_id = select(Order.id).where(Order.number == order_number).scalar_subquery()
        # The conditional update is what keeps a single-use code single-use under races.
        taken = await session.execute(
            update(Voucher)
            .where(Voucher.code == code,
                   (Voucher.single_use.is_(False)) | Voucher.used_by_order_id.is_(None))
            .values(used_by_order_id=order_id, used_at=utcnow())
        )
        if not getattr(taken, "rowcount", 0):
            exists = await session.scalar(select(Voucher.id).where(Voucher.code == code))
            raise VoucherRefused("used" if exists else "unknown")

"""The order status machine: legal moves pass, illegal ones raise with both statuses named."""

from __future__ import annotations

import pytest

from orders.states import IllegalTransition, OrderStatus, can_move, check_move

S = OrderStatus

LEGAL: set[tuple[OrderStatus, OrderStatus]] = {
    (S.PENDING_CONFIRMATION, S.CONFIRMED),
    (S.PENDING_CONFIRMATION, S.CANCELLED),
    (S.CONFIRMED, S.SHIPPED),
    (S.CONFIRMED, S.CANCELLED),
    (S.SHIPPED, S.DELIVERED),
    (S.DELIVERED, S.RETURN_REQUESTED),
    (S.RETURN_REQUESTED, S.RETURNED),
    (S.RETURN_REQUESTED, S.DELIVERED),  # the return request is withdrawn or refused
}

ILLEGAL: list[tuple[OrderStatus, OrderStatus]] = [
    (S.CANCELLED, S.SHIPPED),  # ship a cancelled order
    (S.CANCELLED, S.CONFIRMED),  # revive a cancelled order
    (S.PENDING_CONFIRMATION, S.SHIPPED),  # ship before the customer confirmed
    (S.PENDING_CONFIRMATION, S.RETURN_REQUESTED),  # return an undelivered order
    (S.CONFIRMED, S.RETURN_REQUESTED),
    (S.SHIPPED, S.RETURN_REQUESTED),
    (S.SHIPPED, S.RETURNED),
    (S.SHIPPED, S.CONFIRMED),  # confirm a shipped order
    (S.SHIPPED, S.CANCELLED),  # cancel what is already on its way
    (S.DELIVERED, S.CANCELLED),
    (S.DELIVERED, S.SHIPPED),
    (S.DELIVERED, S.RETURNED),  # returned without a return request
    (S.RETURNED, S.DELIVERED),
    (S.CONFIRMED, S.CONFIRMED),  # confirming twice is not a move
]


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_every_legal_move_is_allowed(current: OrderStatus, target: OrderStatus) -> None:
    assert can_move(current, target)
    check_move(current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_an_illegal_move_raises_with_both_statuses(
    current: OrderStatus, target: OrderStatus
) -> None:
    assert not can_move(current, target)
    with pytest.raises(IllegalTransition) as refused:
        check_move(current, target)
    assert (refused.value.current, refused.value.target) == (current, target)
    assert current.value in str(refused.value) and target.value in str(refused.value)


def test_no_move_outside_the_legal_set_is_allowed() -> None:
    """Over all 49 pairs, exactly the legal ones pass: no move slipped in unnoticed."""
    allowed = {(a, b) for a in S for b in S if can_move(a, b)}
    assert allowed == LEGAL


@pytest.mark.parametrize("final", [S.CANCELLED, S.RETURNED])
def test_final_statuses_have_no_way_out(final: OrderStatus) -> None:
    for target in S:
        with pytest.raises(IllegalTransition):
            check_move(final, target)

"""Money as the APIs show it: major units (12.5), from the minor units (1250) it is stored in."""

from __future__ import annotations


def money(minor: int) -> float:
    return round(minor / 100, 2)

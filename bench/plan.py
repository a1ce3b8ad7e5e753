"""What a benchmark run measures, and how long: the full run and the --quick smoke run."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("embedded", "production", "telegram")


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...] = (100, 1000, 5000)  # closed-loop concurrencies (web chat)
    saturation: int = 100  # the closed loop whose turns/s is "the" throughput
    open_customers: int = 1000  # open loop: customers connected...
    think_seconds: float = 2.0  # ...each writing on average this often (Poisson)
    idle_customers: int = 5000  # connected and quiet, for the memory per connection
    telegram_chats: int = 100
    duration: float = 10.0  # seconds measured per load
    warmup: float = 2.0  # seconds before the measurement starts
    clients: int = 2  # load-generating processes for the web chat
    only: tuple[str, ...] = SCENARIOS

    @classmethod
    def quick(cls) -> Plan:
        # A second of warm-up: on a machine busy with the test suite a bot's first replies
        # (its first turns warm it) took longer than 0.2 s, and a 1 s window saw none.
        return cls(sizes=(10, 50), saturation=50, open_customers=100, idle_customers=200,
                   telegram_chats=20, duration=1.0, warmup=1.0)

    @property
    def offered_per_s(self) -> float:
        return self.open_customers / self.think_seconds

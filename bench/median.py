"""Medians over several benchmark runs (the figures docs/performance.md quotes).

    python -m bench.median bench/results/*/results.json
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

FIELDS = ("turns_per_s", "p50_ms", "p95_ms", "p99_ms", "ratio", "memory_per_connection_kb",
          "machine_cpu_percent", "cpu_us_per_turn")
FACTS = ("first_start_seconds", "startup_seconds", "two_process_scaling",
         "two_process_cpu_per_turn_ratio", "two_process_cpu_per_turn_ratio_equal_load",
         "two_process_cpu_per_turn_ratio_same_rate")


def medians(runs: list[dict[str, Any]]) -> str:
    names = [m["name"] for m in runs[0]["measurements"]]
    lines = [f"Medians of {len(runs)} runs.", "",
             "| scenario | turns/s | p50 ms | p95 ms | p99 ms | vs baseline | KB/connection | "
             "machine CPU % | server CPU µs/turn | errors (all runs) | durable (all runs) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        found = [m for run in runs for m in run["measurements"] if m["name"] == name]
        cells = [_median([m.get(field) for m in found]) for field in FIELDS]
        errors = sum(m["errors"] for m in found)
        durable = {m["durable"] for m in found} - {None}
        lines.append(f"| {name} | " + " | ".join(cells)
                     + f" | {errors} | {_durable(durable)} |")
    lines += ["", "| fact | median |", "|---|---|"]
    lines += [f"| {fact} | {_median([run['facts'].get(fact) for run in runs])} |"
              for fact in FACTS]
    return "\n".join(lines) + "\n"


def _median(values: list[Any]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    return f"{statistics.median(known):g}"


def _durable(values: set[bool]) -> str:
    if not values:
        return "-"
    return "yes" if values == {True} else "NO"


def main(argv: list[str] | None = None) -> int:
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m bench.median RESULTS.json...", file=sys.stderr)
        return 2
    print(medians([json.loads(path.read_text()) for path in paths]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

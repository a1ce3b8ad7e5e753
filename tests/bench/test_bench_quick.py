"""CI smoke test of the benchmark: `python -m bench --quick` runs every scenario end to end.

No thresholds (machines are noisy): it must finish, answer every turn, keep every turn in
the transcript, write its files, and end with the summary line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"^summary: webchat_turns_per_s=(\d+) p99_ms=([\d.]+) echo_ratio=([\d.]+) "
    r"telegram_updates_per_s=(\d+)$"
)
# Seconds: the quick run takes about a minute on an idle machine, two on a machine three times
# slower, and more beside the other test workers.
TIMEOUT = 900


def test_quick_run_answers_every_turn_and_writes_its_results(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, last
    turns, p99, ratio, telegram = match.groups()
    assert int(turns) > 0 and float(p99) > 0 and float(ratio) > 0 and int(telegram) > 0

    results = json.loads((tmp_path / "latest.json").read_text())
    measurements = results["measurements"]
    assert {m["target"] for m in measurements} >= {
        "echo", "webchat sqlite", "webchat postgresql+redis", "aiogram echo", "telegram sqlite"}
    assert [m["name"] for m in measurements if m["errors"]] == []
    assert all(m["durable"] for m in measurements if m["durable"] is not None)
    assert results["summary"] == last
    facts = results["facts"]  # the scale-out figures, each configuration on fresh services
    for fact in ("two_process_cpu_per_turn_ratio", "two_process_cpu_per_turn_ratio_equal_load",
                 "two_process_cpu_per_turn_ratio_same_rate"):
        assert facts[fact] > 0, fact
    for name in ("latest.json", "latest.md", "latest.png"):
        assert (tmp_path / name).stat().st_size > 0

"""The run's results: JSON (everything), a Markdown table, a PNG chart (latency against
concurrency), the targets of issue 7, and the one-line summary."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.processes import ProcessUsage  # noqa: E402
from bench.results import Measurement  # noqa: E402
from bench.runner import Run, measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def targets(run: Run) -> list[dict[str, Any]]:
    """Each target of the issue with the figure measured for it (None: not measured)."""
    plan, facts = run.plan, run.facts
    saturated = measured(run, f"webchat sqlite closed {plan.saturation}")
    opened = measured(run, f"webchat sqlite open {plan.open_customers}")
    idle = measured(run, f"webchat sqlite idle {plan.idle_customers}")
    rows = [
        ("embedded turns/s at saturation (closed loop, "
         f"{plan.saturation} customers), no errors, durable", ">= 2000",
         saturated.turns_per_s if saturated else None,
         bool(saturated and saturated.turns_per_s >= 2000 and not saturated.errors
              and saturated.durable)),
        (f"p99 ms, {plan.open_customers} conversations writing every "
         f"{plan.think_seconds:g} s (open loop)", "< 50",
         opened.p99_ms if opened else None,
         bool(opened and opened.p99_ms is not None and opened.p99_ms < 50 and not opened.errors)),
        (f"KB per idle connection, {plan.idle_customers} connected", "< 50",
         idle.memory_per_connection_kb if idle else None,
         bool(idle and idle.memory_per_connection_kb is not None
              and idle.memory_per_connection_kb < 50 and not idle.errors)),
        ("two processes vs one (PostgreSQL + Redis)", ">= 1.6",
         facts.get("two_process_scaling"), facts.get("two_process_scaling", 0) >= 1.6),
        ("total CPU per turn (bots + PostgreSQL + Redis), two processes / one, saturated "
         "(closed loop)", "<= 1.15",
         facts.get("two_process_cpu_per_turn_ratio"),
         0 < facts.get("two_process_cpu_per_turn_ratio", 99) <= 1.15),
        ("the same at the same offered load (open loop: neither saturated)", "<= 1.15",
         facts.get("two_process_cpu_per_turn_ratio_equal_load"),
         0 < facts.get("two_process_cpu_per_turn_ratio_equal_load", 99) <= 1.15),
        ("seconds from the first start to the first answer (NLU training, migrations, "
         "demo seed)", "< 3", facts.get("first_start_seconds"),
         0 < facts.get("first_start_seconds", 99) < 3),
        ("seconds from a restart to the first answer (trained model loaded)", "< 3",
         facts.get("startup_seconds"), 0 < facts.get("startup_seconds", 99) < 3),
    ]
    return [{"target": what, "wanted": wanted, "measured": value, "met": met}
            for what, wanted, value, met in rows]


def summary(run: Run) -> str:
    plan = run.plan
    saturated = measured(run, f"webchat sqlite closed {plan.saturation}")
    opened = measured(run, f"webchat sqlite open {plan.open_customers}")
    telegram = measured(run, f"telegram sqlite closed {plan.telegram_chats}")
    return ("summary: "
            f"webchat_turns_per_s={_figure(saturated and saturated.turns_per_s, 0)} "
            f"p99_ms={_figure(opened and opened.p99_ms, 1)} "
            f"echo_ratio={_figure(saturated and saturated.ratio, 3)} "
            f"telegram_updates_per_s={_figure(telegram and telegram.turns_per_s, 0)}")


def write(run: Run, folder: Path) -> dict[str, Path]:
    files = {"json": folder / "results.json", "markdown": folder / "results.md",
             "chart": folder / "latency.png"}
    document = {"about": _about(run), "targets": targets(run), "facts": run.facts,
                "measurements": [m.to_json() for m in run.measurements],
                "summary": summary(run)}
    files["json"].write_text(json.dumps(document, indent=2, default=str) + "\n")
    files["markdown"].write_text(markdown(run))
    chart(run.measurements, files["chart"])
    return files


def markdown(run: Run) -> str:
    about = _about(run)
    lines = [
        f"# orderbot benchmark, {about['date']}",
        "",
        f"{about['machine']}; Python {about['python']}; commit {about['commit']}; "
        f"{run.plan.clients} client processes (Telegram: 1); {run.plan.duration:g} s measured "
        f"after {run.plan.warmup:g} s of warm-up per load. CPU % is of one core (the machine "
        f"has {os.cpu_count()}); machine CPU counts every process, other people's too.",
        "",
        "| scenario | server processes | turns/s | p50 ms | p95 ms | p99 ms | errors | "
        "vs baseline | durable | server CPU % | clients CPU % | machine CPU % | "
        "server peak RSS MB | KB/connection | server CPU µs/turn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in run.measurements:
        servers = [u for u in m.usage if not u.name.startswith("client")]
        clients = sum(u.cpu_percent for u in m.usage if u.name.startswith("client"))
        lines.append(
            f"| {m.name} | {m.processes} | {m.turns_per_s:g} | {_cell(m.p50_ms)} | "
            f"{_cell(m.p95_ms)} | {_cell(m.p99_ms)} | {m.errors} | "
            f"{_cell(m.ratio)}{' (' + m.notes + ')' if m.notes else ''} | "
            f"{_cell(m.durable)} | {_per_process(servers, 'cpu_percent')} | {clients:.0f} | "
            f"{m.machine_cpu_percent:.0f} | {_per_process(servers, 'peak_rss_mb')} | "
            f"{_cell(m.memory_per_connection_kb)} | {_cell(m.cpu_us_per_turn)} |")
    lines += ["", "| target | wanted | measured | met |", "|---|---|---|---|"]
    lines += [f"| {t['target']} | {t['wanted']} | {_cell(t['measured'])} | "
              f"{'yes' if t['met'] else 'no'} |" for t in targets(run)]
    lines += ["", "`" + summary(run) + "`", ""]
    return "\n".join(lines)


def chart(measurements: list[Measurement], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(8, 5))
    closed = [m for m in measurements if m.mode == "closed" and m.p99_ms is not None]
    for target in dict.fromkeys(m.target for m in closed):
        points = sorted((m.customers, m.p50_ms, m.p99_ms) for m in closed if m.target == target
                        and m.processes == min(x.processes for x in closed
                                               if x.target == target))
        sizes = [p[0] for p in points]
        line, = axes.plot(sizes, [p[2] for p in points], marker="o", label=f"{target} p99")
        axes.plot(sizes, [p[1] for p in points], marker=".", linestyle="--",
                  color=line.get_color(), label=f"{target} p50")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("concurrent customers (closed loop)")
    axes.set_ylabel("latency, send to reply (ms)")
    axes.set_title("orderbot: latency against concurrency")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _about(run: Run) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "commit": _commit(),
        "plan": asdict(run.plan),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _per_process(usage: list[ProcessUsage], figure: str) -> str:
    """"bot postgresql 1: 48, PostgreSQL server: 40": each server process (or service)."""
    return ", ".join(f"{u.name}: {getattr(u, figure):.0f}" for u in usage)


def _figure(value: float | None | bool, digits: int) -> str:
    if value is None or value is False:
        return "n/a"
    return f"{float(value):.{digits}f}"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return f"{value:g}" if isinstance(value, float) else str(value)

"""DESIGN.md's arrows hold: import-linter checks the contracts in pyproject.toml, and a
forbidden arrow added to a copy of the code is caught (so the check can fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache"], cwd=where, capture_output=True,
                          text=True, timeout=120, check=False)


def _copy_of_the_code(to: Path) -> Path:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(ROOT / package, to / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "*.txt"))
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    return to


def test_every_contract_is_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_order_core_importing_the_dialog_is_caught(tmp_path: Path) -> None:
    code = _copy_of_the_code(tmp_path)
    states = code / "orders" / "states.py"
    states.write_text(states.read_text() + "\nfrom dialog.messages import Inbound  # noqa\n")
    result = _lint(code)
    assert result.returncode != 0
    assert "orders is not allowed to import dialog" in result.stdout


def test_a_channel_importing_another_channel_is_caught(tmp_path: Path) -> None:
    code = _copy_of_the_code(tmp_path)
    sending = code / "channels" / "telegram" / "sending.py"
    sending.write_text(sending.read_text() + "\nimport channels.slack.blocks  # noqa\n")
    result = _lint(code)
    assert result.returncode != 0
    assert "channels.telegram is not allowed to import channels.slack" in result.stdout

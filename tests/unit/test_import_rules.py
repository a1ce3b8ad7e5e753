"""DESIGN.md's arrows hold: import-linter checks the contracts in pyproject.toml, and a
forbidden arrow added to a copy of the code is caught (so the check can fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(("module", "line", "expected"), [
    ("orders/states.py", "from dialog.messages import Inbound",
     ["orders is not allowed to import dialog"]),
    ("channels/telegram/sending.py", "import channels.slack.blocks",
     ["channels.telegram is not allowed to import channels.slack"]),
    # a session reaching the dialog
    ("dialog/store.py", "from storage.database import Database",
     ["dialog is not allowed to import storage.database", "dialog.store -> storage.database"]),
], ids=["order core imports the dialog", "a channel imports another", "dialog gets a session"])
def test_a_forbidden_arrow_is_caught(tmp_path: Path, module: str, line: str,
                                     expected: list[str]) -> None:
    code = _copy_of_the_code(tmp_path)
    source = code / module
    source.write_text(source.read_text() + f"\n{line}  # noqa\n")
    result = _lint(code)
    assert result.returncode != 0
    for text in expected:
        assert text in result.stdout

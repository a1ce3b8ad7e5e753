"""`python bot.py operator add ...`: an account a person can then log in with."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import bot as entry
from tests.conftest import BotFactory, serve
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def add_operator(database: Path, *arguments: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bot.py", "operator", "add", *arguments], cwd=ROOT, input=stdin,
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "ORDERBOT__DATABASE__URL": f"sqlite+aiosqlite:///{database}",
             "ORDERBOT__DEMO__ENABLED": "false"},
    )


async def test_an_account_made_on_the_command_line_logs_in(
    make_bot: BotFactory, tmp_path: Path
) -> None:
    database = tmp_path / "orderbot.db"
    made = add_operator(database, "anna", "--display-name", "Anna K.", "--password-stdin",
                        stdin="s3cret pass phrase\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout == 'operator anna created (operator, shown to customers as "Anna K.")\n'
    again = add_operator(database, "anna", "--password-stdin", stdin="another long one\n")
    assert again.returncode == 2
    assert "operator add: an operator anna exists already" in again.stderr

    bot = await make_bot(f"sqlite+aiosqlite:///{database}", http={"port": free_port()})
    server = await serve(bot)
    try:
        async with httpx.AsyncClient(base_url=server.url) as browser:
            login = await browser.post("/console/api/login",
                                       json={"username": "anna", "password": "s3cret pass phrase"})
        assert login.status_code == 200
        assert login.json()["operator"]["display_name"] == "Anna K."
        assert login.json()["operator"]["role"] == "operator"
    finally:
        await server.stop()


def test_an_empty_password_is_refused(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert entry.main(["operator", "add", "anna", "--password-stdin"]) == 2
    assert "operator add: the password is empty" in capsys.readouterr().err


def test_the_prompt_asks_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    typed = iter(["first try", "frist try", "s3cret", "s3cret", "a long s3cret phrase",
                  "a long s3cret phrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert entry.main(["operator", "add", "boss", "--admin"]) == 2
    assert "operator add: the passwords do not match" in capsys.readouterr().err
    assert entry.main(["operator", "add", "boss", "--admin"]) == 2
    assert "operator add: a password is at least 12 characters" in capsys.readouterr().err
    assert entry.main(["operator", "add", "boss", "--admin", "--display-name", "The Boss"]) == 0
    assert capsys.readouterr().out == (
        'operator boss created (admin, shown to customers as "The Boss")\n')
    assert entry.main(["operator", "add", "Bad Name!", "--password-stdin"]) == 2
    assert "operator add: a username is 1-64 lowercase letters" in capsys.readouterr().err



@pytest.mark.parametrize(("password", "reason"), [
    ("short pw", "a password is at least 12 characters"),
    ("Password2024!", "this password is one of the most common ones: choose another"),
    ("qwertyuiop123", "this password is one of the most common ones: choose another"),
    ("  iloveyou1234", "this password is one of the most common ones: choose another"),
    ("abababababababab", "a password has at least 5 different characters"),
    ("Anna.Kowalska", "a password must not be the username"),
])
def test_short_and_common_passwords_are_refused(
    password: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A guessing attacker tries the common ones first: an operator may not choose them."""
    monkeypatch.setenv("ORDERBOT__DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{password}\n"))
    assert entry.main(["operator", "add", "anna.kowalska", "--password-stdin"]) == 2
    assert capsys.readouterr().err == f"operator add: {reason}\n"

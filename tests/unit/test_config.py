"""Settings: demo defaults from settings.toml, environment overrides, loud and named failures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_TOML = ROOT / "settings.toml"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():  # run outside the project's venv
    PYTHON = sys.executable


def load(**environ: str) -> Settings:
    return load_settings(SETTINGS_TOML, environ)


def test_settings_toml_gives_the_embedded_demo() -> None:
    settings = load()
    assert settings == Settings()
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8000)
    assert settings.database.url == "sqlite+aiosqlite:///var/orderbot.db"
    assert settings.redis.url == ""
    assert settings.demo.enabled and settings.webchat.enabled
    assert not (settings.telegram.enabled or settings.slack.enabled or settings.email.enabled)
    assert settings.shop.api_keys == ["demo-shop-key"]
    assert settings.base_url == "http://127.0.0.1:8000"


def test_environment_overrides_a_number() -> None:
    settings = load(ORDERBOT__HTTP__PORT="9000")
    assert settings.http.port == 9000
    assert settings.base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False), ("FALSE", False)])
def test_environment_overrides_a_boolean(text: str, value: bool) -> None:
    assert load(ORDERBOT__DEMO__ENABLED=text).demo.enabled is value
    assert load(ORDERBOT__TELEGRAM__ENABLED=text).telegram.enabled is value


def test_environment_overrides_a_list_given_as_json() -> None:
    settings = load(
        ORDERBOT__SHOP__API_KEYS='["k1", "k2"]',
        ORDERBOT__WEBCHAT__ALLOWED_ORIGINS='["https://shop.example"]',
    )
    assert settings.shop.api_keys == ["k1", "k2"]
    assert settings.webchat.allowed_origins == ["https://shop.example"]


def test_variables_without_the_prefix_are_ignored() -> None:
    assert load(HTTP__PORT="x", ORDERBOT_HTTP_PORT="x") == Settings()


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("ORDERBOT__HTTP__PORT", "x", "http.port"),
        ("ORDERBOT__HTTP__PORT", "70000", "http.port"),
        ("ORDERBOT__DEMO__ENABLED", "yes", "demo.enabled"),
        ("ORDERBOT__SHOP__API_KEYS", "k1,k2", "shop.api_keys"),
        ("ORDERBOT__SHOP__API_KEYS", '{"k": 1}', "shop.api_keys"),
        ("ORDERBOT__SHOP__API_KEYS", "[]", "shop.api_keys"),
        ("ORDERBOT__HTTP__COLOUR", "blue", "http.colour"),
        ("ORDERBOT__NOPE__KEY", "1", "nope"),
        ("ORDERBOT__DATABASE__URL", "mysql://db.example/orders", "database.url"),
        ("ORDERBOT__TELEGRAM__MODE", "push", "telegram.mode"),
        ("ORDERBOT__EMAIL__RELAY_TLS", "ssl", "email.relay_tls"),
        ("ORDERBOT__EMAIL__AUTHSERV_ID", "mx.shop.example; dmarc=pass", "email.authserv_id"),
        ("ORDERBOT__EMAIL__PARSE_TIMEOUT_SECONDS", "0", "email.parse_timeout_seconds"),
        ("ORDERBOT__EMAIL__PARSE_WORKERS", "0", "email.parse_workers"),
        ("ORDERBOT__LIMITS__EMAIL_UNVERIFIED_THREADS_PER_MINUTE", "-1",
         "limits.email_unverified_threads_per_minute"),
        ("ORDERBOT__REDIS__URL", "http://127.0.0.1:6379", "redis.url"),
        ("ORDERBOT__COORDINATION__LOCK_LEASE_SECONDS", "0", "coordination.lock_lease_seconds"),
        ("ORDERBOT__COORDINATION__LOCK_LEASE_SECONDS", "301",
         "coordination.lock_lease_seconds"),
        ("ORDERBOT__PROCESS__TAKEOVER_SECONDS", "0", "process.takeover_seconds"),
        ("ORDERBOT__ADAPTERS__ORDERS_URL", "shop.example/orders", "adapters.orders_url"),
        ("ORDERBOT__SECURITY__PROOF_FAILURES_PER_ORDER", "0", "security.proof_failures_per_order"),
        ("ORDERBOT__SECURITY__PROOF_LOCKOUT_SECONDS", "-1", "security.proof_lockout_seconds"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(name: str, value: str, key: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load(**{name: value})
    assert str(refused.value).startswith(f"{key}:"), str(refused.value)


def test_a_bad_value_in_the_file_is_refused_naming_its_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[http]\nport = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"^http\.port: expected a whole number"):
        load_settings(path, {})


def test_demo_secrets_are_refused_on_a_public_host() -> None:
    with pytest.raises(SettingsError) as refused:
        load(ORDERBOT__HTTP__HOST="0.0.0.0")
    assert str(refused.value).startswith("webchat.identity_secret:")
    with pytest.raises(SettingsError, match=r"^shop\.api_keys:"):
        load(ORDERBOT__HTTP__HOST="0.0.0.0", ORDERBOT__WEBCHAT__IDENTITY_SECRET="own-secret")


def test_demo_secrets_are_refused_behind_a_reverse_proxy_with_a_public_url() -> None:
    """Listening on 127.0.0.1 behind nginx is public all the same."""
    with pytest.raises(SettingsError, match=r"^webchat\.identity_secret:.*shop\.example"):
        load(ORDERBOT__HTTP__PUBLIC_URL="https://shop.example/bot")
    assert load(ORDERBOT__HTTP__PUBLIC_URL="http://localhost:8000").public_host is None


def test_an_empty_identity_secret_is_refused_when_the_web_chat_is_on() -> None:
    with pytest.raises(SettingsError, match=r"^webchat\.identity_secret: must not be empty"):
        load(ORDERBOT__WEBCHAT__IDENTITY_SECRET="")
    assert load(ORDERBOT__WEBCHAT__IDENTITY_SECRET="", ORDERBOT__WEBCHAT__ENABLED="false")


def test_demo_secrets_are_accepted_on_loopback_and_own_ones_anywhere() -> None:
    assert load(ORDERBOT__HTTP__HOST="127.0.0.1").shop.api_keys == ["demo-shop-key"]
    settings = load(
        ORDERBOT__HTTP__HOST="0.0.0.0",
        ORDERBOT__WEBCHAT__IDENTITY_SECRET="own-secret",
        ORDERBOT__SHOP__API_KEYS='["own-key"]',
        ORDERBOT__DEMO__ENABLED="false",
    )
    assert settings.http.host == "0.0.0.0"


OWN_SECRETS = {"ORDERBOT__WEBCHAT__IDENTITY_SECRET": "own-secret",
               "ORDERBOT__SHOP__API_KEYS": '["own-key"]'}


def test_the_demo_shop_is_refused_on_a_public_host_even_with_real_secrets() -> None:
    """The demo seeds orders, lists them at /demo/orders and "pays" them with a button."""
    with pytest.raises(SettingsError) as listening:
        load(ORDERBOT__HTTP__HOST="0.0.0.0", **OWN_SECRETS)
    assert str(listening.value) == (
        "demo.enabled: the demo shop is refused on the non-loopback host 0.0.0.0; "
        "set ORDERBOT__DEMO__ENABLED=false")
    with pytest.raises(SettingsError, match=r"^demo\.enabled: .*bot\.shop\.example"):
        load(ORDERBOT__HTTP__PUBLIC_URL="https://bot.shop.example", **OWN_SECRETS)
    assert load(ORDERBOT__HTTP__HOST="127.0.0.1", **OWN_SECRETS).demo.enabled is True
    assert load(ORDERBOT__HTTP__PUBLIC_URL="http://localhost:8000").demo.enabled is True


def test_bad_http_limits_are_refused_naming_their_key() -> None:
    for name, key in (("ORDERBOT__HTTP__MAX_BODY_BYTES", "http.max_body_bytes"),
                      ("ORDERBOT__HTTP__KEEP_ALIVE_SECONDS", "http.keep_alive_seconds"),
                      ("ORDERBOT__OPERATORS__LOGIN_LOCKOUT_MINUTES",
                       "operators.login_lockout_minutes")):
        with pytest.raises(SettingsError, match=rf"^{re.escape(key)}: must be positive"):
            load(**{name: "0"})
    with pytest.raises(SettingsError, match=r"^http\.max_connections: must not be negative"):
        load(ORDERBOT__HTTP__MAX_CONNECTIONS="-1")


def test_idempotency_keys_must_be_kept_a_day_at_least() -> None:
    with pytest.raises(SettingsError, match=r"^shop\.idempotency_hours: at least 24"):
        load(ORDERBOT__SHOP__IDEMPOTENCY_HOURS="23")
    assert load(ORDERBOT__SHOP__IDEMPOTENCY_HOURS="48").shop.idempotency_hours == 48


def run_bot(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """bot.py as a user runs it; the timeout only guards against a bot that starts serving."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBOT__")}
    return subprocess.run(
        [PYTHON, "bot.py", *args], cwd=ROOT, env={**env, **environ},
        capture_output=True, text=True, timeout=60,
    )


def test_a_missing_config_file_stops_the_bot_with_one_line() -> None:
    result = run_bot("--config", "/nonexistent")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "/nonexistent" in lines[0] and "does not exist" in lines[0]


def test_a_bad_environment_value_stops_the_bot_naming_the_key() -> None:
    result = run_bot(ORDERBOT__HTTP__PORT="x")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "http.port" in lines[0] and "'x'" in lines[0]


def test_webhook_keep_days_may_be_zero_but_not_negative() -> None:
    with pytest.raises(SettingsError, match=r"^webhooks\.keep_days: must not be negative"):
        load(ORDERBOT__WEBHOOKS__KEEP_DAYS="-1")
    assert load(ORDERBOT__WEBHOOKS__KEEP_DAYS="0").webhooks.keep_days == 0
    assert load().webhooks.keep_days == 30

"""The example production configuration in deploy/ works as docs/deploy.md describes it.

nginx runs deploy/nginx.conf with only the changes the doc tells a deployment to make (host
name, listen ports, certificate paths, the upstream's server lines, the log folder), with a
self-signed certificate made here. Behind it, two real bot processes run the settings of
deploy/settings.production.toml and deploy/orderbot.env (its CHANGE-ME values replaced) and
the Environment= lines of deploy/orderbot@.service, on one PostgreSQL and one Redis. BotProcess
starts `python bot.py` without --config, so the settings file reaches the processes as
ORDERBOT__ variables; deploy/orderbot-cli reads the file itself, with --config, to create the
operator. Then, over HTTPS and WSS only: plain HTTP is redirected; GET /health says the
database and Redis answer and names a process by its default name; an operator logs in and
opens the live console; a web chat customer talks to the bot; the shop API creates the
customer's order and the "thank you" reaches their socket; bodies over the bot's limit get
the bot's own 413; the session rate limit counts per real client address (X-Forwarded-For
set by nginx, trusted by uvicorn), which a client cannot forge; both processes served, and
the access log holds no web chat token. Last, SIGTERM stops each process in order (exit 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shlex
import shutil
import signal
import ssl
import subprocess
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from socket import gethostname
from typing import Any

import httpx
import pytest
import websockets

from channels.webchat.identity import signed_identity
from config import SettingsError, load_settings
from console.live import COOKIE
from tests.conftest import API_KEY
from tests.reliability.bot_process import BotProcess, bot_environment
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
TIMEOUT = 20.0
IDENTITY_SECRET = "deploy-test-identity-secret"
SESSIONS_PER_MINUTE = 3  # small, so that the per-address limit shows within the test


# The example files, as a deployment fills them in

def environment_file(secrets: dict[str, str]) -> dict[str, str]:
    """deploy/orderbot.env's active lines, each CHANGE-ME value replaced by secrets[name]."""
    variables = {}
    for line in (DEPLOY / "orderbot.env").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        assert "CHANGE-ME" in value, f"{name} in orderbot.env needs no secret?"
        variables[name] = secrets[name]  # a KeyError: a new secret the test does not know
    return variables


def filled_secrets(postgres_url: str = "", redis_url: str = "") -> dict[str, str]:
    return {
        "ORDERBOT__DATABASE__URL": postgres_url or "postgresql+asyncpg://orderbot:x@db/orderbot",
        "ORDERBOT__REDIS__URL": redis_url or "redis://:x@127.0.0.1:6379/0",
        "ORDERBOT__SHOP__API_KEYS": json.dumps([API_KEY]),
        "ORDERBOT__WEBCHAT__IDENTITY_SECRET": IDENTITY_SECRET,
    }


def settings_file_as_environment() -> dict[str, str]:
    """deploy/settings.production.toml as the ORDERBOT__ variables that say the same."""
    variables = {}
    settings = tomllib.loads((DEPLOY / "settings.production.toml").read_text())
    for section, values in settings.items():
        for key, value in values.items():
            text = json.dumps(value) if isinstance(value, bool | list) else str(value)
            variables[f"ORDERBOT__{section.upper()}__{key.upper()}"] = text
    return variables


def unit_environment(port: int) -> dict[str, str]:
    """The Environment= lines of deploy/orderbot@.service for instance `port`."""
    variables = {}
    for line in (DEPLOY / "orderbot@.service").read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            variables[name] = value.replace("%i", str(port))
    assert "ORDERBOT__HTTP__PORT" in variables and "FORWARDED_ALLOW_IPS" in variables
    return variables


def render(template: str, changes: dict[str, str]) -> str:
    """Exact replacements, each of which must match: an edited example fails here, loudly."""
    for old, new in changes.items():
        assert old in template, f"deploy/nginx.conf no longer has {old!r}"
        template = template.replace(old, new)
    return template


def nginx_site(http_port: int, https_port: int, backends: list[int], certificate: Path,
               key: Path, logs: Path) -> str:
    """deploy/nginx.conf with the changes docs/deploy.md lists, for this test's addresses."""
    return render((DEPLOY / "nginx.conf").read_text(), {
        "    server 127.0.0.1:8003 max_fails=1 fail_timeout=5s;\n": "",  # two processes here
        "    server 127.0.0.1:8004 max_fails=1 fail_timeout=5s;\n": "",
        "127.0.0.1:8001 ": f"127.0.0.1:{backends[0]} ",
        "127.0.0.1:8002 ": f"127.0.0.1:{backends[1]} ",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/letsencrypt/live/bot.shop.example/fullchain.pem": str(certificate),
        "/etc/letsencrypt/live/bot.shop.example/privkey.pem": str(key),
        "server_name bot.shop.example;": "server_name 127.0.0.1;",
        "/var/log/nginx/": f"{logs}/",
    })


def nginx_main(prefix: Path, site: Path) -> str:
    """What the distribution's /etc/nginx/nginx.conf puts around a site, in the test's folder.
    Run as root, the workers would be `nobody`, who cannot enter pytest's 0700 folders."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {prefix}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/error.log;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n{temp}\n    include {site};\n}}\n")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(certificate), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return certificate, key


# Fast checks of the files themselves (no nginx needed)

def test_the_example_settings_load_and_fail_without_the_secrets_file() -> None:
    example = DEPLOY / "settings.production.toml"
    settings = load_settings(example, environment_file(filled_secrets()))
    assert settings.demo.enabled is False
    assert settings.base_url == "https://bot.shop.example"
    assert settings.redis.url and settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.telegram.mode == "webhook"
    assert (settings.database.pool_size, settings.database.max_overflow) == (10, 20)
    assert (settings.process.name, settings.process.takeover_seconds) == ("", 6)
    assert settings.coordination.lock_lease_seconds == 5
    with pytest.raises(SettingsError, match="database.url"):  # no secrets: no start
        load_settings(example, {})
    # On 127.0.0.1 behind nginx, but public by its public_url: no demo shop, no demo or
    # empty secrets.
    for name, value, refused in (
        ("ORDERBOT__SHOP__API_KEYS", '["demo-shop-key"]', "shop.api_keys"),
        ("ORDERBOT__WEBCHAT__IDENTITY_SECRET", "demo-identity-secret", "webchat.identity_secret"),
        ("ORDERBOT__WEBCHAT__IDENTITY_SECRET", "", "webchat.identity_secret"),
        ("ORDERBOT__DEMO__ENABLED", "true", "demo.enabled: the demo shop is refused"),
    ):
        with pytest.raises(SettingsError, match=refused):
            load_settings(example, environment_file(filled_secrets()) | {name: value})


def test_the_unit_refuses_to_start_while_a_placeholder_is_left(tmp_path: Path) -> None:
    [guard] = [line.removeprefix("ExecStartPre=") for line in
               (DEPLOY / "orderbot@.service").read_text().splitlines()
               if line.startswith("ExecStartPre=")]
    example, filled = tmp_path / "example.env", tmp_path / "filled.env"
    shutil.copyfile(DEPLOY / "orderbot.env", example)
    filled.write_text((DEPLOY / "orderbot.env").read_text().replace("CHANGE-ME", "0123abcd"))
    for env_file, refused in ((example, True), (filled, False)):
        command = shlex.split(guard.replace("/etc/orderbot/orderbot.env", str(env_file)))
        result = subprocess.run(command, capture_output=True, text=True)
        assert (result.returncode != 0) is refused, result.stderr
        assert ("CHANGE-ME" in result.stderr) is refused


# The whole shape: nginx, TLS, two processes, PostgreSQL, Redis

class Nginx:
    def __init__(self, prefix: Path, config: Path, ports: list[int]) -> None:
        self.prefix, self.config, self.ports = prefix, config, ports
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with (self.prefix / "nginx.out").open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(NGINX), "-p", str(self.prefix), "-c", str(self.config), "-g", "daemon off;",
                stdout=out, stderr=out,
            )
        deadline = time.monotonic() + TIMEOUT
        waiting = list(self.ports)
        while waiting:
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start:\n{self.log()}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", waiting[0])
            except OSError:
                await asyncio.sleep(0.02)  # polling a port until it listens
                continue
            writer.close()
            await writer.wait_closed()
            waiting.pop(0)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown: master and workers
            await asyncio.wait_for(self.process.wait(), TIMEOUT)

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in
                         (self.prefix / "nginx.out", self.prefix / "error.log") if path.exists())


def random_loopback() -> str:
    """A client address of its own (all of 127.0.0.0/8 is this host), so that what is counted
    per address in the shared Redis is this test's alone."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def https_client(public_url: str, trust: ssl.SSLContext, address: str | None = None,
                 **options: Any) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(verify=trust, local_address=address)
    return httpx.AsyncClient(base_url=public_url, transport=transport, timeout=TIMEOUT,
                             **options)


async def next_frame(socket: Any, kind: str, contains: str = "") -> dict[str, Any]:
    """The next frame of that type (and text), skipping others; bounded by TIMEOUT."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await socket.recv())
            if frame.get("type") == kind and contains in frame.get("text", ""):
                return frame


async def operator_added(environ: dict[str, str], stdin: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "sh", str(DEPLOY / "orderbot-cli"), *args, env=environ,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), TIMEOUT * 2)
    assert process.returncode == 0, err.decode()
    return out.decode()


def order_body(number: str, email: str) -> dict[str, Any]:
    return {
        "number": number,
        "customer": {"name": "Deploy Customer", "email": email, "language": "en",
                     "preferred_channel": "webchat"},
        "lines": [{"sku": "KB-100", "name": "Mechanical keyboard", "quantity": 1,
                   "unit_price": "89.00"}],
        "currency": "EUR",
        "delivery": {"method": "courier", "address": {"city": "London", "postcode": "SW1A 1AA"}},
        "payment": {"method": "card", "status": "pending"},
    }


@pytest.fixture
async def cleanup() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/setup.sh --test "
                                          "installs it)")
async def test_the_example_deployment_serves_over_tls_through_nginx(
    postgres_url: str, redis_url: str, tmp_path: Path, cleanup: AsyncExitStack,
) -> None:
    certificate, key = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(certificate))
    http_port, https_port = free_port(), free_port()
    public_url = f"https://127.0.0.1:{https_port}"
    secrets = environment_file(filled_secrets(postgres_url, redis_url))

    def production_environment(port: int) -> dict[str, str]:
        environ = bot_environment(postgres_url, port)  # the test's own process environment
        environ.update(settings_file_as_environment())
        environ.update(secrets)
        environ.update(unit_environment(port))
        environ["ORDERBOT__HTTP__PUBLIC_URL"] = public_url
        environ["ORDERBOT__LIMITS__WEBCHAT_SESSIONS_PER_IP_PER_MINUTE"] = str(SESSIONS_PER_MINUTE)
        return environ

    bots = [BotProcess(production_environment(free_port()), tmp_path / f"bot-{n}.log")
            for n in range(2)]
    for bot in bots:
        cleanup.push_async_callback(bot.kill)  # after a failure; the stop below is graceful
    # An operator account, the way docs/deploy.md creates one: deploy/orderbot-cli reads the
    # settings file (--config) and the secrets file, as the units do.
    cli_environ = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBOT")}
    env_file = tmp_path / "orderbot.env"
    env_file.write_text("".join(f"{name}='{value}'\n" for name, value in secrets.items()))
    cli_environ.update(ORDERBOT_HOME=str(ROOT), ORDERBOT_ENV_FILE=str(env_file),
                       ORDERBOT_SETTINGS=str(DEPLOY / "settings.production.toml"))
    # All at once on the empty database: one migrates, the others wait for it.
    *_, added = await asyncio.gather(
        *(bot.start() for bot in bots),
        operator_added(cli_environ, "a long operator password\n", "operator", "add", "anna",
                       "--display-name", "Anna K.", "--password-stdin"))
    assert "operator anna created" in added

    logs = tmp_path / "logs"
    logs.mkdir()
    site = tmp_path / "orderbot.conf"
    site.write_text(nginx_site(http_port, https_port, [bot.port for bot in bots], certificate,
                               key, logs))
    main = tmp_path / "nginx.conf"
    main.write_text(nginx_main(tmp_path, site))
    nginx = Nginx(tmp_path, main, [http_port, https_port])
    cleanup.push_async_callback(nginx.stop)
    await nginx.start()

    # Plain HTTP answers only with the way to HTTPS.
    async with httpx.AsyncClient(timeout=TIMEOUT) as plain:
        moved = await plain.get(f"http://127.0.0.1:{http_port}/console?x=1")
    assert moved.status_code == 301
    assert moved.headers["location"] == "https://127.0.0.1/console?x=1"

    # The health check a monitor makes, through nginx: the database and Redis answer, and the
    # process that answered is named by default after this host and its port ([process] name).
    async with https_client(public_url, trust) as monitor:
        health = await monitor.get("/health")
    assert health.status_code == 200, health.text
    assert health.json() | {"process": "-"} == {
        "status": "ok", "database": "ok", "redis": "ok", "process": "-",
        "webhook_oldest_undelivered_id": None, "webhook_oldest_undelivered_seconds": None}
    assert health.json()["process"] in {f"{gethostname()}:{bot.port}" for bot in bots}

    # The operator: the console page, a login (Secure cookie), the live console over WSS.
    operator = await cleanup.enter_async_context(
        https_client(public_url, trust, headers={"Origin": public_url}))
    page = await operator.get("/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    login = await operator.post("/console/api/login",
                                json={"username": "anna", "password": "a long operator password"})
    assert login.status_code == 200, login.text
    assert "secure" in login.headers["set-cookie"].lower()
    console = await websockets.connect(
        f"wss://127.0.0.1:{https_port}/console/ws", ssl=trust, origin=public_url,
        additional_headers={"Cookie": f"{COOKIE}={operator.cookies[COOKIE]}"})
    cleanup.push_async_callback(console.close)
    assert (await next_frame(console, "queue"))["type"] == "queue"

    # A signed-in web chat customer talks to the bot over WSS.
    email = "deploy.customer@example.com"
    customer = await cleanup.enter_async_context(
        https_client(public_url, trust, random_loopback(), headers={"Origin": public_url}))
    opened = await customer.post("/webchat/session", json={
        "customer": {"email": email}, **signed_identity(IDENTITY_SECRET, email)})
    assert opened.status_code == 200, opened.text
    token = opened.json()["token"]
    chat = await websockets.connect(f"wss://127.0.0.1:{https_port}/webchat/ws?token={token}",
                                    ssl=trust, origin=public_url)
    cleanup.push_async_callback(chat.close)
    await next_frame(chat, "history")
    await chat.send(json.dumps({"type": "message", "text": "hello"}))
    assert (await next_frame(chat, "message", "Hello"))["from"] == "bot"

    # The shop API with its key; the new order's message reaches the customer's socket.
    shop = await cleanup.enter_async_context(
        https_client(public_url, trust, headers={"Authorization": f"Bearer {API_KEY}"}))
    created = await shop.post("/api/orders", json=order_body("D-1", email))
    assert created.status_code == 201, created.text
    await next_frame(chat, "message", "Thank you for your order D-1")
    assert (await shop.get("/api/orders/D-1")).json()["status"] == "pending_confirmation"
    async with https_client(public_url, trust) as stranger:
        assert (await stranger.get("/api/orders/D-1")).status_code == 401
    # Over the bot's 1 MiB: the bot's own reason; over nginx's 2 MiB: cut at the proxy.
    over_bot = await shop.post("/api/orders", content=b" " * (1024 * 1024 + 1),
                               headers={"Content-Type": "application/json"})
    assert over_bot.status_code == 413 and "larger than" in over_bot.json()["detail"]
    over_proxy = await shop.post("/api/orders", content=b" " * (3 * 1024 * 1024),
                                 headers={"Content-Type": "application/json"})
    assert over_proxy.status_code == 413 and "nginx" in over_proxy.text

    # The session limit counts per client address as nginx saw it; a forged X-Forwarded-For
    # changes nothing (nginx replaces it), and another address is not held back.
    crowded, other = random_loopback(), random_loopback()
    async with https_client(public_url, trust, crowded, headers={"Origin": public_url}) as one:
        for n in range(SESSIONS_PER_MINUTE):
            forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            answer = await one.post("/webchat/session", json={}, headers=forged)
            assert answer.status_code == 200, answer.text
        refused = await one.post("/webchat/session", json={},
                                 headers={"X-Forwarded-For": "198.51.100.99"})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    async with https_client(public_url, trust, other, headers={"Origin": public_url}) as two:
        assert (await two.post("/webchat/session", json={})).status_code == 200

    # Both processes served; the access log shows the socket's path but never its token.
    await chat.close()
    access_log = logs / "orderbot.access.log"
    deadline = time.monotonic() + TIMEOUT
    while "GET /webchat/ws " not in access_log.read_text():  # written when the socket ends
        assert time.monotonic() < deadline, access_log.read_text()
        await asyncio.sleep(0.05)
    logged = access_log.read_text()
    assert token not in logged
    for bot in bots:
        assert f"127.0.0.1:{bot.port}" in logged
    assert f"{crowded} " in logged  # the address nginx passed on as X-Forwarded-For

    await nginx.stop()
    for bot in bots:
        await bot.stop()  # SIGTERM, as systemd stops a unit: it ends without a SIGKILL
        assert bot.process is not None and bot.process.returncode == 0  # stopped in order
        assert "coordination:   redis" in bot.log()
        assert "Traceback" not in bot.log(), bot.log()
    problems = [line for line in nginx.log().splitlines() if "emerg]" in line or "alert]" in line
                or "crit]" in line or ("[error]" in line and "too large body" not in line)]
    assert not problems, nginx.log()

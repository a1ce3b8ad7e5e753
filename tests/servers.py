"""Real Redis and PostgreSQL servers on 127.0.0.1 for the tests: started, awaited, stopped."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reserved_port() -> socket.socket:
    """A port kept from other tests' servers while nothing listens on it (a connection is
    refused, as to a server that is down): bound, not listening, with SO_REUSEADDR, so that
    the server meant for it can bind it too; close it once that server listens."""
    reserved = socket.socket()
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserved.bind(("127.0.0.1", 0))
    return reserved


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Poll until the server accepts connections (a readiness check, not a fixed sleep)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} did not start within {READY_TIMEOUT}s")


@contextmanager
def redis_server(port: int | None = None) -> Iterator[str]:
    """A Redis on `port` (a free one if None): stopped at the end of the block, so that a
    test can stop it and start another on the same port (the same URL)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run scripts/test.sh")
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="orderbot-redis-") as folder:
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port, process, "redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/test.sh")
    return Path(found[-1]).parent


@contextmanager
def postgres_server(fsync: bool = False) -> Iterator[str]:
    """A throwaway cluster; initdb refuses root, so it runs as the postgres user. `fsync`:
    commits flush the WAL to disk, as in production (the tests need no durability through a
    power loss, and run faster without)."""
    bin_dir = _postgres_bin()
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="orderbot-pg-", dir="/tmp"))
    data = folder / "data"
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    os.chmod(folder, 0o755)
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
         "-w", "start", "-o",
         f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync={'on' if fsync else 'off'} "
         "-c max_connections=200"],
        check=True, stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "stop", "-m", "fast"],
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server_url: str, name: str) -> None:
    """CREATE DATABASE on a server started by postgres_server()."""
    address = server_url.split("@", 1)[1]
    host, port = address.split(":")
    subprocess.run(
        [str(_postgres_bin() / "createdb"), "-h", host, "-p", port, "-U", "postgres", name],
        check=True,
    )

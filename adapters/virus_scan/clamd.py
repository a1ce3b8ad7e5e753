"""ClamAV's daemon (clamd) over TCP, INSTREAM: the optional virus scan of customers' files
([attachments] clamd = "HOST:PORT"). No ClamAV, no scan: docs/security.md says what the other
checks cover."""

from __future__ import annotations

import asyncio
import struct

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 30.0


class ClamdScanner:
    def __init__(self, address: str, timeout: float = TIMEOUT_SECONDS) -> None:
        host, _, port = address.rpartition(":")
        self._host, self._port, self._timeout = host, int(port), timeout

    async def scan(self, data: bytes) -> str | None:
        """None when clamd finds nothing; what it found otherwise. Raises OSError or
        TimeoutError when clamd cannot be asked."""
        async with asyncio.timeout(self._timeout):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            try:
                writer.write(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start:start + CHUNK]
                    writer.write(struct.pack("!I", len(chunk)) + chunk)
                writer.write(struct.pack("!I", 0))
                await writer.drain()
                answer = (await reader.read(4096)).rstrip(b"\0\n").decode("utf-8", "replace")
            finally:
                writer.close()
        if answer.endswith(" OK"):
            return None
        if answer.endswith(" FOUND"):
            return answer.removeprefix("stream: ").removesuffix(" FOUND")
        raise OSError(f"clamd answered {answer[:100]!r}")

"""Which web origins may act in the console (its API's changes and its WebSocket).

The session cookie is SameSite=Strict, but a "site" spans ports, subdomains and schemes, and
a bodiless POST needs no CORS preflight: a change is accepted only from the console's own
origin, compared whole (scheme, host and port). That origin is `[http] public_url`'s when it
is set; else the bot serves plain HTTP itself, at the host the browser asked for. A browser
on this machine may also use http://127.0.0.1:<port> or http://localhost:<port>.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from config import Settings

log = logging.getLogger(__name__)
REFUSED = "cross_origin"  # the reason counted in orderbot_refused_requests_total
SHOWN_CHARS = 100  # of a refused origin, in the log line


class ConsoleOrigins:
    def __init__(self, settings: Settings, refused: Callable[[str], None] | None = None) -> None:
        port = settings.http.port
        self._local = {f"http://127.0.0.1:{port}", f"http://localhost:{port}",
                       f"http://[::1]:{port}"}
        public = urlsplit(settings.http.public_url)
        self._public = (f"{public.scheme}://{public.netloc}".lower()
                        if settings.http.public_url else None)
        self._refused = refused or (lambda _reason: None)

    def allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a request with this Origin (None: not sent, so not a browser's
        cross-site request) to this Host header comes from the console's own pages; a
        refusal is logged and counted."""
        if origin is None:
            return True
        given = origin.strip().rstrip("/").lower()
        own = self._public if self._public is not None else f"http://{host or ''}".lower()
        if given == own or given in self._local:
            return True
        self._refused(REFUSED)
        log.warning("console request refused: origin %r is not the console's",
                    origin[:SHOWN_CHARS])
        return False

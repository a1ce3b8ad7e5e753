"""The console's and dashboard's static files, revalidated on every load.

Their names carry no content hash (the page imports its modules by plain name), so a browser
must not keep one unasked after a release: `no-cache` makes it ask each time, and the ETag turns
the answer into an empty 304 while the file is unchanged."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles


class RevalidatedStaticFiles(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("cache-control", "no-cache")
        return response

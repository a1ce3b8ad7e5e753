"""A customer's file as a download that a browser cannot run: served as the type it was
checked to be, never sniffed, under a policy that allows no script, plugin or frame, and
saved rather than shown unless it is a re-encoded image (docs/security.md, attachments)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

# A document's own policy: nothing it contains may run or load anything (a PDF viewer or an
# SVG would otherwise have the bot's origin); images are shown, nothing else.
DOWNLOAD_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def download(path: Path, media_type: str, filename: str, *, inline: bool) -> FileResponse:
    return FileResponse(
        path,
        media_type=media_type,
        filename=filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_POLICY,
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Referrer-Policy": "no-referrer",
        },
    )

"""Files kept outside the web root under random names (customers' attachments): written
whole or not at all, readable only by the bot's user, and never reached by a name from
outside (a stored path is checked to stay inside the directory)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class FileStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, data: bytes, extension: str) -> str:
        """Store `data`; the path relative to the directory (random, two-level)."""
        name = secrets.token_hex(16)
        relative = f"{name[:2]}/{name}.{extension}"
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        return relative

    def path(self, relative: str) -> Path:
        """The file's absolute path; ValueError for a path that leaves the directory."""
        root = self.directory.resolve()
        target = (root / relative).resolve()
        if root not in target.parents:
            raise ValueError("outside the attachments directory")
        return target

    def sweep(self, keep: set[str], older_than: float) -> int:
        """Remove the files (and half-written ones) not in `keep` last changed before
        `older_than` (a timestamp): those whose rows went. How many went."""
        removed = 0
        if not self.directory.is_dir():
            return 0
        for path in self.directory.glob("*/*"):
            relative = path.relative_to(self.directory).as_posix()
            if relative in keep or not path.is_file() or path.stat().st_mtime >= older_than:
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def remove(self, relative: str) -> None:
        try:
            self.path(relative).unlink(missing_ok=True)
        except ValueError:
            pass

"""The attachment store: what a customer's file must be to be kept, and what is kept of it."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from dialog.attachment_values import AttachmentRefused, Refusal
from dialog.attachments import Attachments, AttachmentSweep
from dialog.messages import ConversationKey
from storage.clock import utcnow
from storage.files import FileStore
from tests.attachment_files import (
    CAMERA_MAKE,
    GPS_IFD,
    pdf_with_embedded_file,
    pdf_with_javascript,
    photo_with_gps,
    plain_pdf,
    renamed_program,
)
from tests.fakes.unit_of_work import InMemoryDatabase

KEY = ConversationKey("webchat", "c-1")


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


def store(database: InMemoryDatabase, tmp_path: Path, max_bytes: int = 1024 * 1024,
          scanner: object = None) -> Attachments:
    return Attachments(database.unit_of_work, FileStore(tmp_path / "files"), max_bytes,
                       scanner)  # type: ignore[arg-type]


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


async def test_a_photos_gps_position_and_camera_are_not_kept(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the phone wrote it
    ref = await store(database, tmp_path).keep(KEY, "IMG_2041.JPG", original)
    found = await store(database, tmp_path).for_customer(KEY, ref.id)
    assert found is not None
    kept = found.path.read_bytes()
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif().get_ifd(GPS_IFD) and CAMERA_MAKE not in image.getexif()
    assert b"SecretCam" not in kept
    assert (ref.name, ref.content_type, ref.size) == ("IMG_2041.jpg", "image/jpeg", len(kept))
    # named by a random id, never by the customer's name
    assert "IMG_2041" not in str(found.path) and found.path.parent.parent == tmp_path / "files"


async def test_a_renamed_program_is_refused_whatever_its_name(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        await store(database, tmp_path).keep(KEY, "parcel.jpg", renamed_program())
    assert refused.value.refusal is Refusal.TYPE
    assert stored_files(tmp_path) == [] and database.tables.attachments == {}


async def test_a_file_over_the_limit_is_refused(database: InMemoryDatabase, tmp_path: Path) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        await store(database, tmp_path, max_bytes=2048).keep(
            KEY, "big.pdf", plain_pdf() + b"%" * 4096)
    assert refused.value.refusal is Refusal.TOO_LARGE
    assert stored_files(tmp_path) == [] and database.tables.attachments == {}


@pytest.mark.parametrize("make", [pdf_with_javascript, pdf_with_embedded_file])
async def test_a_pdf_that_runs_script_or_carries_a_file_is_refused(
    database: InMemoryDatabase, tmp_path: Path, make: object,
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        await store(database, tmp_path).keep(KEY, "invoice.pdf", make())  # type: ignore[operator]
    assert refused.value.refusal is Refusal.ACTIVE_PDF
    assert stored_files(tmp_path) == []


async def test_a_plain_pdf_is_kept_as_it_came_under_its_real_extension(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    pdf = plain_pdf()
    ref = await store(database, tmp_path).keep(KEY, "..\\..\\receipt.exe", pdf)
    found = await store(database, tmp_path).for_customer(KEY, ref.id)
    assert found is not None and found.path.read_bytes() == pdf
    assert (ref.name, ref.content_type, ref.is_image) == ("receipt.pdf", "application/pdf", False)


async def test_a_broken_pdf_and_an_empty_file_are_refused(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    files = store(database, tmp_path)
    with pytest.raises(AttachmentRefused) as broken:
        await files.keep(KEY, "x.pdf", b"%PDF-1.7\nthis is no pdf at all")
    with pytest.raises(AttachmentRefused) as empty:
        await files.keep(KEY, "x.png", b"")
    assert (broken.value.refusal, empty.value.refusal) == (Refusal.BROKEN, Refusal.EMPTY)


async def test_another_conversation_and_operators_do_not_see_an_upload_no_message_took(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    files = store(database, tmp_path)
    ref = await files.keep(KEY, "a.pdf", plain_pdf())
    assert await files.for_customer(ConversationKey("webchat", "c-2"), ref.id) is None
    assert await files.for_operator(ref.id) is None  # no message carries it yet
    assert await files.for_customer(KEY, "../../etc/passwd") is None


class _Scanner:
    def __init__(self, verdict: str | None = None, fails: bool = False) -> None:
        self.verdict, self.fails = verdict, fails

    async def scan(self, data: bytes) -> str | None:
        if self.fails:
            raise OSError("connection refused")
        return self.verdict


async def test_the_virus_scanners_verdict_refuses_a_file(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    with pytest.raises(AttachmentRefused) as infected:
        await store(database, tmp_path, scanner=_Scanner("Eicar-Signature")).keep(
            KEY, "a.pdf", plain_pdf())
    with pytest.raises(AttachmentRefused) as silent:
        await store(database, tmp_path, scanner=_Scanner(fails=True)).keep(
            KEY, "a.pdf", plain_pdf())
    assert (infected.value.refusal, silent.value.refusal) == (Refusal.INFECTED, Refusal.SCANNER)
    assert stored_files(tmp_path) == []


async def test_the_daily_sweep_removes_unsent_uploads_and_files_whose_rows_went(
    database: InMemoryDatabase, tmp_path: Path,
) -> None:
    files = store(database, tmp_path)
    sent = await files.keep(KEY, "sent.pdf", plain_pdf())
    await files.keep(KEY, "unsent.pdf", plain_pdf())  # never sent in a message
    async with database.unit_of_work() as uow:
        await uow.attachments.join(KEY, 1, 10, [sent.id])
        await uow.commit()
    later = utcnow() + timedelta(days=1)
    for path in stored_files(tmp_path):  # written a day before the sweep
        os.utime(path, (later.timestamp() - 60, later.timestamp() - 60))

    async def sweep() -> int:
        async with database.unit_of_work() as uow:
            swept = await AttachmentSweep(FileStore(tmp_path / "files"), lambda _: uow)._sweep(
                None, later)
            await uow.commit()
        return swept

    assert await sweep() == 2  # the unsent upload's row and its file
    assert set(database.tables.attachments) == {sent.id}
    assert len(stored_files(tmp_path)) == 1
    database.tables.attachments.clear()  # the conversation was erased: its rows went
    assert await sweep() == 1 and stored_files(tmp_path) == []

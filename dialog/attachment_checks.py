"""What a customer's file really is, judged by its content: a JPEG, PNG or WebP image (opened
and re-encoded by Pillow, which drops EXIF, GPS, comments and anything appended), or a PDF
that parses (pypdf) and holds no JavaScript, launch or form-submit actions, nor embedded
files. Anything else is refused, whatever its name or declared type says.

Pure functions over bytes, CPU-bound: the caller runs them in a worker thread.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from dialog.attachment_values import JPEG, PDF, PNG, WEBP, AttachmentRefused, Refusal

if TYPE_CHECKING:  # pypdf is imported with the first PDF a customer sends, not at start
    from pypdf.generic import PdfObject

# Larger images are refused before they are decoded (a small file can inflate to gigabytes).
MAX_PIXELS = 40_000_000
# A PDF whose reachable objects outnumber this is refused rather than walked for ever.
MAX_PDF_OBJECTS = 50_000
_FORMATS = {"JPEG": (JPEG, "jpg"), "PNG": (PNG, "png"), "WEBP": (WEBP, "webp")}
# Dictionary keys that make a PDF do something when opened or clicked, or carry files.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/RichMedia",
                          "/XFA", "/Launch"})
# Action types (/S) a viewer would run: scripts, programs, form posts, embedded documents.
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData",
                             "/GoToE", "/RichMediaExecute", "/Rendition"})


@dataclass(frozen=True, slots=True)
class Checked:
    content_type: str
    extension: str
    data: bytes  # what is stored: the re-encoded image, or the PDF as it came


def inspect(data: bytes, max_bytes: int) -> Checked:
    """The file as it may be stored; raises AttachmentRefused saying why not."""
    if not data:
        raise AttachmentRefused(Refusal.EMPTY)
    if len(data) > max_bytes:
        raise AttachmentRefused(Refusal.TOO_LARGE)
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        return Checked(PDF, "pdf", data)
    return _reencode(data)


def _reencode(data: bytes) -> Checked:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
                kind = str(image.format)
                if image.width * image.height > MAX_PIXELS:
                    raise AttachmentRefused(Refusal.TOO_LARGE, "too many pixels")
                image.load()
                # Turn it upright as the camera said, before the EXIF that said so is dropped.
                upright = ImageOps.exif_transpose(image)
                return _encoded(upright, kind)
        except UnidentifiedImageError:
            raise AttachmentRefused(Refusal.TYPE) from None
        except AttachmentRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AttachmentRefused(Refusal.TOO_LARGE, "too many pixels") from None
        except (OSError, ValueError, SyntaxError):  # a truncated or malformed image
            raise AttachmentRefused(Refusal.BROKEN) from None


def _encoded(image: Image.Image, kind: str) -> Checked:
    """A new file from the pixels alone: no EXIF, GPS, XMP, comments, ICC or trailing data."""
    content_type, extension = _FORMATS[kind]
    out = io.BytesIO()
    if kind == "JPEG":
        pixels = image if image.mode in ("RGB", "L") else image.convert("RGB")
        pixels.save(out, format="JPEG", quality=90)
    elif kind == "PNG":
        pixels = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
        pixels.save(out, format="PNG", optimize=False)
    else:
        pixels = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
        pixels.save(out, format="WEBP", quality=90)
    return Checked(content_type, extension, out.getvalue())


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:  # its content cannot be looked into
            raise AttachmentRefused(Refusal.ACTIVE_PDF, "encrypted")
        if len(reader.pages) < 1:
            raise AttachmentRefused(Refusal.BROKEN, "no pages")
        _walk(reader.trailer)
    except AttachmentRefused:
        raise
    except Exception:  # pypdf raises many kinds on hostile input; all mean "does not parse"
        raise AttachmentRefused(Refusal.BROKEN) from None


def _walk(root: PdfObject) -> None:
    """Every object reachable from the trailer (what a viewer could reach), once each."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack: list[PdfObject] = [root]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            resolved = item.get_object()
            if resolved is None:
                continue
            item = resolved
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise AttachmentRefused(Refusal.BROKEN, "too many objects")
        if isinstance(item, DictionaryObject):  # streams too
            for key, value in item.items():
                if key in _ACTIVE_KEYS or (key == "/S" and str(value) in _ACTIVE_ACTIONS):
                    raise AttachmentRefused(Refusal.ACTIVE_PDF, str(key))
                if key not in ("/Parent", "/P"):  # back-references: reached from above
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)

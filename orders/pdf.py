"""PDF documents (order confirmation, return label, invoice) with fpdf2.

Every document carries the shop's name, a title, plain lines of text and a diagonal
watermark; the DejaVu font covers Latin, Polish and Cyrillic letters (Debian's
fonts-dejavu-core, installed by scripts/setup.sh).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class FontMissing(RuntimeError):
    """The DejaVu font is not installed: run scripts/setup.sh (apt fonts-dejavu-core)."""


def render(shop_name: str, title: str, lines: Sequence[str], watermark: str,
           created_at: datetime | None = None) -> bytes:
    """A one-or-more page A4 PDF: shop name, title, the lines, a watermark on every page.
    With `created_at` (else now) as its creation date, the same content gives the same bytes
    (orders/billing.py finds an invoice it stored before by them)."""
    pdf = _document_class()(watermark)
    if created_at is not None:
        pdf.set_creation_date(created_at)
    start(pdf, shop_name, title)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def start(pdf: FPDF, shop_name: str, title: str) -> None:
    """The DejaVu font (regular and bold, as "DejaVu"), the metadata, and the first page
    headed by the shop's name and the title."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise FontMissing(f"{regular} not found: apt-get install fonts-dejavu-core")
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title(f"{shop_name}: {title}")
    pdf.set_author(shop_name)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, shop_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")


@cache
def _document_class() -> type[FPDF]:
    """fpdf2 (and fontTools under it) takes ~0.4 s to import: a process imports it with its
    first document, not at start (docs/performance.md, "Start-up, NLU and memory")."""
    from fpdf import FPDF

    class Document(FPDF):
        def __init__(self, watermark: str) -> None:
            super().__init__(format="A4")
            self._watermark = watermark

        def header(self) -> None:
            if not self._watermark:
                return
            self.set_font("DejaVu", "B", 54)
            self.set_text_color(225, 225, 225)
            with self.rotation(45, x=self.w / 2, y=self.h / 2):
                self.text(self.w / 2 - self.get_string_width(self._watermark) / 2, self.h / 2,
                          self._watermark)
            self.set_text_color(0, 0, 0)

    return Document

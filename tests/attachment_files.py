"""Customers' files for the attachment tests, made on the spot: a photo with a GPS position in
its EXIF, a plain PDF, a PDF that runs JavaScript, one that carries a file, and a program
renamed to look like a photo."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

GPS_IFD = 0x8825
CAMERA_MAKE = 0x010F


def photo_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[CAMERA_MAKE] = "SecretCam"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 13.0, 30.0), 3: "E", 4: (21.0, 0.0, 5.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def plain_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_open_action(JavaScript("app.alert('hello');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_embedded_file() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("setup.exe", b"MZ\x90\x00" + b"\x00" * 64)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def renamed_program() -> bytes:
    """The start of a Windows program (MZ header): what "invoice.jpg.exe" renamed holds."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program"

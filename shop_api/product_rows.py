"""The rows of a catalogue file (JSON lines or CSV), each validated as PUT /api/products/{sku}
validates its body: a row is a product or the reason it was refused, with its line number.

CSV columns: sku, name (or name_en, name_pl, name_ru), category, price, currency, available,
expected_date, returnable, accessories (skus separated by ";"). An empty cell is a field not
given (its default applies).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orders.catalogue import CatalogueProduct
from shop_api.product_schemas import ProductRow

FORMATS = ("jsonl", "csv")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
_NAME_COLUMNS = {"name_en": "en", "name_pl": "pl", "name_ru": "ru"}


class UnreadableFile(Exception):
    """Nothing in the file can be read; str() says why in one line."""


@dataclass(frozen=True, slots=True)
class Refused:
    line: int
    sku: str  # as given, "" when there was none
    reason: str


Row = CatalogueProduct | Refused


def format_of(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise UnreadableFile(
            f"cannot tell the format of {path.name}: name it .jsonl or .csv, or give --format")
    return found


def read_rows(path: Path, file_format: str) -> list[tuple[int, Row]]:
    """Every row of the file, validated, with its line number."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise UnreadableFile(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"{path.name} is not UTF-8 (byte {error.start} cannot be decoded)") from None
    raw = _json_lines(text) if file_format == "jsonl" else _csv_rows(text)
    rows = [(line, _validated(line, data)) for line, data in raw]
    if rows and all(isinstance(row, Refused) and row.reason.startswith(_NOT_JSON)
                    for _line, row in rows):
        raise UnreadableFile(f"{path.name} is not JSON lines: no line is a JSON object")
    return rows


_NOT_JSON = "not a JSON object"


def _json_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, f"{_NOT_JSON}: {error.msg} at column {error.colno}"
            continue
        except ValueError:  # json's only other refusal: an integer too long for int()
            yield number, f"{_NOT_JSON}: a number longer than {sys.get_int_max_str_digits()} digits"
            continue
        yield number, data if isinstance(data, dict) else f"{_NOT_JSON}: {type(data).__name__}"


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        raise UnreadableFile(f"not CSV: {error}") from None
    if "sku" not in header:
        raise UnreadableFile("not a catalogue CSV: its first line has no \"sku\" column")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield start, f"not CSV: {error}"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield line, f"{len(cells)} columns where the header has {len(header)}"
            continue
        yield line, _from_cells(dict(zip(header, cells, strict=True)))


def _from_cells(cells: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    names: dict[str, str] = {}
    for column, cell in cells.items():
        value = cell.strip()
        if not value:
            continue
        if column in _NAME_COLUMNS:
            names[_NAME_COLUMNS[column]] = value
        elif column == "accessories":
            data[column] = [sku.strip() for sku in value.split(";") if sku.strip()]
        else:
            data[column] = value
    if names:
        data["name"] = names if "name" not in data else {**names, "en": data["name"]}
    return data


def _validated(line: int, data: dict[str, Any] | str) -> Row:
    if isinstance(data, str):
        return Refused(line, "", data)
    sku = data.get("sku")
    shown_sku = sku[:64] if isinstance(sku, str) else ""
    try:
        row = ProductRow.model_validate(data)
    except ValidationError as invalid:
        return Refused(line, shown_sku, _reasons(invalid))
    return row.to_product(row.sku)


def _reasons(invalid: ValidationError) -> str:
    """"price: Input should be greater than or equal to 0; sku: Field required" (the
    union's branch names, "str" and "NamesIn", left out of the field's path)."""
    reasons = []
    for error in invalid.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in error["loc"] if part not in ("str", "NamesIn"))
        reasons.append(f"{path or 'row'}: {error['msg']}")
    return "; ".join(dict.fromkeys(reasons))

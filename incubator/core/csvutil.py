"""CSV files that spreadsheet programs open safely: UTF-8 with a byte order mark (so that Excel reads
Vietnamese text), and no cell that a spreadsheet would run as a formula.

A cell written from user input (a startup's name, an answer, a payment's description) that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice
(``=HYPERLINK(...)``, ``@SUM(...)``): such text gets a leading ``'``, which spreadsheets show as
text. Only strings are guarded: numbers written as numbers (a negative amount) stay numbers.
Every CSV the application writes goes through ``writer`` (or ``safe_cell`` for other formats that
turn text into formulas).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """The value, or for text that a spreadsheet would run as a formula, the text after a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows pass through ``safe_cell``."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, *, bom: bool = True, **kwargs: Any) -> SafeWriter:
    """A guarded CSV writer on the text stream ``out``; with ``bom``, the byte order mark is written first
    (leave it out when the caller encodes with ``utf-8-sig``, which adds one)."""
    if bom:
        out.write(BOM)
    return SafeWriter(out, **kwargs)


def to_text(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> str:
    out = io.StringIO()
    writer(out, bom=bom).writerows(rows)
    return out.getvalue()


def to_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 with the byte order mark."""
    return to_text(rows).encode("utf-8")

"""What an upload accepts, said to the person before they choose a file (the ``upload_limit`` macro)."""

from __future__ import annotations

from flask import current_app

# A file input's ``accept`` lists MIME types and extensions; a person reads the short names.
_ALIASES = {"JPG": "JPEG", "VND.OPENXMLFORMATS-OFFICEDOCUMENT.SPREADSHEETML.SHEET": "XLSX"}


def accept_label(accept: str | None) -> str:
    """``"application/pdf,.pdf"`` -> ``"PDF"``; ``"image/png,image/jpeg,.jpg"`` -> ``"PNG, JPEG"``."""
    names: list[str] = []
    for part in (accept or "").split(","):
        name = part.strip().rsplit("/", 1)[-1].lstrip(".").upper()
        name = _ALIASES.get(name, name)
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def upload_limit_bytes(limit: int | None = None) -> int:
    """The largest upload: ``limit`` (a narrower rule of one input) within the request limit."""
    request_limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    candidates = [n for n in (limit, request_limit) if n]
    return min(candidates) if candidates else 0

"""Uploaded files behind one interface: a local folder by default (S3-compatible later).

Files get random keys, live outside ``static/`` and are served only by views that check access.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, stream: BinaryIO, suffix: str = "") -> str:
        key = secrets.token_hex(16) + suffix
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            while chunk := stream.read(1 << 16):
                out.write(chunk)
        return key

    def path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("bad storage key")
        return self.root / key[:2] / key


def storage() -> LocalStorage:
    found = current_app.extensions.get("storage")
    if found is None:
        found = current_app.extensions["storage"] = LocalStorage(Path(current_app.config["UPLOAD_DIR"]))
    return found


IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def image_suffix(head: bytes) -> str | None:
    """PNG or JPEG, recognised by its first bytes rather than its name."""
    return next((ext for magic, ext in IMAGE_SIGNATURES.items() if head.startswith(magic)), None)


def image_mimetype(key: str) -> str:
    return "image/png" if key.endswith(".png") else "image/jpeg"

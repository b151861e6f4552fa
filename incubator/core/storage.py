"""Uploaded files behind one interface: a local folder, or an S3-compatible bucket (``core.storage_s3``).

``STORAGE_URL`` chooses: ``file:///path`` (unset: ``UPLOAD_DIR``) or ``s3://bucket/prefix``. Several app
instances must share their files, so they need ``s3://``: a local folder is seen by one server only.

Files get random keys, live outside ``static/`` and are served only by views that check access first:
``storage().send(key, ...)`` answers the download (404 when the key is missing or malformed).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

from flask import current_app, send_file
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

CHUNK = 1 << 16
# What save() makes: 32 hex digits and a suffix (".pdf"). Nothing else is looked up: no "/", "\\", "..".
KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]{1,10})?")


class Readable(Protocol):
    """What ``open`` answers: a binary stream to read (in a ``with`` block, or closed after use)."""

    def read(self, size: int | None = ..., /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Readable: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None, /) -> None: ...


class Storage(Protocol):
    def save(self, stream: BinaryIO, suffix: str = "") -> str:
        """Copy ``stream`` in chunks (never read whole) under a new random key, and answer the key."""

    def open(self, key: str) -> Readable:
        """The stored bytes as a stream; FileNotFoundError when missing, ValueError for a malformed key."""

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""

    def exists(self, key: str) -> bool: ...

    def all_keys(self) -> Iterator[str]:
        """Every stored key (what ``flask backup`` copies), in no particular order."""

    def save_as(self, key: str, stream: BinaryIO) -> None:
        """Copy ``stream`` under the given key (``flask restore`` puts each file back where it was)."""

    def send(self, key: str, *, mimetype: str | None = None, as_attachment: bool = False,
             download_name: str | None = None, max_age: int | None = None) -> Response:
        """The download, streamed; raises NotFound (404) for a missing or malformed key."""

    def check(self) -> None:
        """Raise (``OSError``, a client error) unless files can be stored now: the readiness probe."""


def new_key(suffix: str) -> str:
    return check_key(secrets.token_hex(16) + suffix)


def check_key(key: str) -> str:
    """The key itself when it is one that ``save`` could have made; ValueError otherwise (no path traversal)."""
    if not isinstance(key, str) or len(key) > 64 or not KEY_RE.fullmatch(key):
        raise ValueError("bad storage key")
    return key


class LocalStorage:
    """Files under one folder, spread over sub-folders by the key's first two characters."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, stream: BinaryIO, suffix: str = "") -> str:
        key = new_key(suffix)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
        return key

    def open(self, key: str) -> Readable:
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except ValueError:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def all_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*/*"):
            if path.is_file() and path.parent.name == path.name[:2] and KEY_RE.fullmatch(path.name):
                yield path.name

    def save_as(self, key: str, stream: BinaryIO) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)

    def send(self, key: str, *, mimetype: str | None = None, as_attachment: bool = False,
             download_name: str | None = None, max_age: int | None = None) -> Response:
        try:
            path = self._path(key)
        except ValueError:
            raise NotFound() from None
        if not path.is_file():
            raise NotFound()
        return send_file(path, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name,
                         max_age=max_age)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{self.root} is not writable")

    def _path(self, key: str) -> Path:
        key = check_key(key)
        return self.root / key[:2] / key


def make_storage(config: Any) -> Storage:
    """The backend that ``config["STORAGE_URL"]`` names (unset or ``file://``: ``UPLOAD_DIR``)."""
    url = urlsplit(config.get("STORAGE_URL") or "file://")
    if url.scheme == "file":
        return LocalStorage(Path(unquote(url.path)) if url.path not in ("", "/") else Path(config["UPLOAD_DIR"]))
    if url.scheme == "s3" and url.netloc:
        from incubator.core.storage_s3 import S3Storage

        return S3Storage.from_config(url.netloc, url.path.strip("/"), config)
    raise ValueError(f"STORAGE_URL must be file:///path or s3://bucket/prefix, got {config.get('STORAGE_URL')!r}")


def storage() -> Storage:
    found: Storage | None = current_app.extensions.get("storage")
    if found is None:
        found = current_app.extensions["storage"] = make_storage(current_app.config)
    return found


IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def image_suffix(head: bytes) -> str | None:
    """PNG or JPEG, recognised by its first bytes rather than its name."""
    return next((ext for magic, ext in IMAGE_SIGNATURES.items() if head.startswith(magic)), None)


def image_mimetype(key: str) -> str:
    return "image/png" if key.endswith(".png") else "image/jpeg"

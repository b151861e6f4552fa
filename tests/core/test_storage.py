"""The storage interface, the same tests against a local folder and a real S3 API (moto's server mode):
save, open, exists, delete, send; a missing key and a malformed one; a large file kept out of memory."""

from __future__ import annotations

import hashlib
import io
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import pytest
import requests
from werkzeug.exceptions import NotFound

import config as config_module
from incubator.core.storage import LocalStorage, check_key, make_storage
from incubator.core.storage_s3 import PART_SIZE, S3Storage
from tests.storage_fixtures import S3_BUCKET

BAD_KEYS = ["", "../etc/passwd", "..", ".hidden", "ab/cd.pdf", "ab\\cd.pdf", "x\x00y.pdf", "a" * 65,
            "/etc/passwd", "a.pdf/..", "a b.pdf", "ä.pdf", 42]


def test_save_open_exists_delete(any_storage):
    key = any_storage.save(io.BytesIO(b"%PDF-1.4 deck"), ".pdf")
    again = any_storage.save(io.BytesIO(b"%PDF-1.4 deck"), ".pdf")
    assert key != again and key.endswith(".pdf") and check_key(key) == key  # random, with the suffix
    assert any_storage.exists(key)
    with any_storage.open(key) as stream:
        assert stream.read() == b"%PDF-1.4 deck"
    any_storage.delete(key)
    assert not any_storage.exists(key) and any_storage.exists(again)
    any_storage.delete(key)  # twice: nothing to do, no error


def test_an_empty_file_is_a_file(any_storage):
    key = any_storage.save(io.BytesIO(b""), ".csv")
    assert any_storage.exists(key)
    with any_storage.open(key) as stream:
        assert stream.read() == b""


def test_a_missing_key_is_not_found(app, any_storage):
    key = "0" * 32 + ".pdf"
    assert not any_storage.exists(key)
    with pytest.raises(FileNotFoundError):
        any_storage.open(key)
    any_storage.delete(key)
    with app.test_request_context(), pytest.raises(NotFound):
        any_storage.send(key, as_attachment=True, download_name="x.pdf")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_malformed_key_reaches_no_file(app, any_storage, key):
    """No path traversal in either backend: a key that save() could not have made is refused, and a
    download of it is a 404."""
    assert not any_storage.exists(key)
    for call in (any_storage.open, any_storage.delete):
        with pytest.raises(ValueError, match="bad storage key"):
            call(key)
    with app.test_request_context(), pytest.raises(NotFound):
        any_storage.send(key, mimetype="application/pdf")


def test_send_serves_the_file_with_its_headers(app, any_storage):
    key = any_storage.save(io.BytesIO(b"%PDF-1.4 report"), ".pdf")
    with app.test_request_context():
        response = any_storage.send(key, mimetype="application/pdf", as_attachment=True,
                                    download_name="Báo cáo 2025.pdf", max_age=0)
        response.direct_passthrough = False
        assert response.status_code == 200 and response.get_data() == b"%PDF-1.4 report"
    assert response.mimetype == "application/pdf" and response.content_length == len(b"%PDF-1.4 report")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%202025.pdf" in disposition
    assert response.headers["Cache-Control"] == "no-cache, max-age=0"
    # An image for a page: inline, cached for a while, and a revalidation answers 304 without the body.
    logo = any_storage.save(io.BytesIO(b"\x89PNG\r\n\x1a\n...."), ".png")
    with app.test_request_context():
        image = any_storage.send(logo, mimetype="image/png", max_age=300)
    assert image.status_code == 200 and "attachment" not in image.headers.get("Content-Disposition", "")
    assert "max-age=300" in image.headers["Cache-Control"] and "public" in image.headers["Cache-Control"]
    assert image.headers.get("ETag")
    with app.test_request_context(headers={"If-None-Match": image.headers["ETag"]}):
        assert any_storage.send(logo, mimetype="image/png", max_age=300).status_code == 304


@contextmanager
def _big_file(megabytes: int) -> Iterator[BinaryIO]:
    """A seekable file on disk, as Werkzeug hands over a large upload, with bytes that differ per MiB."""
    with tempfile.TemporaryFile() as out:
        for n in range(megabytes):
            out.write(hashlib.sha256(str(n).encode()).digest() * (1 << 15))
        out.seek(0)
        yield out


def test_a_large_file_goes_in_and_out_without_being_held_whole(app, any_storage):
    """64 MiB up and down: the app never holds more than a few parts of it (S3: 8 MiB parts, two read
    ahead; the folder: 64 KiB at a time), measured by tracemalloc on the app's side only (moto runs in
    another process)."""
    size = 64 << 20
    with _big_file(64) as source:
        expected = hashlib.sha256()
        while chunk := source.read(1 << 20):
            expected.update(chunk)
        source.seek(0)
        tracemalloc.start()
        try:
            key = any_storage.save(source, ".bin")
            _now, saving = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            with app.test_request_context():
                response = any_storage.send(key, as_attachment=True, download_name="big.bin")
                got, length = hashlib.sha256(), 0
                for block in response.response:
                    got.update(block)
                    length += len(block)
                response.close()
            _now, sending = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert length == size and got.hexdigest() == expected.hexdigest()
    bound = 4 * PART_SIZE if isinstance(any_storage, S3Storage) else 1 << 20
    assert saving < bound <= size // 2, f"saving held {saving / 2**20:.1f} MiB of a {size >> 20} MiB file"
    assert sending < 1 << 20, f"sending held {sending / 2**20:.1f} MiB"


def test_objects_keep_the_folder_layout_under_the_prefix(s3_settings, s3_client, tmp_path):
    """``prefix/ab/abcd....pdf``, as under UPLOAD_DIR: ``aws s3 sync`` of the folder moves existing files over."""
    backend = make_storage(s3_settings)
    key = backend.save(io.BytesIO(b"%PDF-1.4"), ".pdf")
    prefix = s3_settings["STORAGE_URL"].removeprefix(f"s3://{S3_BUCKET}/")
    listed = s3_client.list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix)["Contents"]
    assert [o["Key"] for o in listed] == [f"{prefix}/{key[:2]}/{key}"]
    folder = LocalStorage(tmp_path)
    copied = folder.root / key[:2] / key
    copied.parent.mkdir(parents=True)
    copied.write_bytes(s3_client.get_object(Bucket=S3_BUCKET, Key=listed[0]["Key"])["Body"].read())
    with folder.open(key) as stream:
        assert stream.read() == b"%PDF-1.4"


def test_redirect_mode_sends_attachments_to_a_short_lived_link(app, s3_settings):
    backend = make_storage({**s3_settings, "STORAGE_REDIRECT": True, "STORAGE_URL_SECONDS": 60})
    key = backend.save(io.BytesIO(b"%PDF-1.4 linked"), ".pdf")
    with app.test_request_context():
        response = backend.send(key, mimetype="application/pdf", as_attachment=True, download_name="Hồ sơ.pdf",
                                max_age=0)
        assert response.status_code == 302 and response.headers["Cache-Control"] == "private, no-store"
        link = response.headers["Location"]
        assert link.startswith(s3_settings["S3_ENDPOINT_URL"]) and "Expires=" in link
        # Images are shown inside pages whose CSP allows this site only: streamed, never redirected.
        logo = backend.save(io.BytesIO(b"\x89PNG\r\n\x1a\n"), ".png")
        assert backend.send(logo, mimetype="image/png", max_age=300).status_code == 200
        with pytest.raises(NotFound):  # a missing file is our 404, not a link to the storage's error
            backend.send("f" * 32 + ".pdf", as_attachment=True, download_name="x.pdf")
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 linked"
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''H%E1%BB%93%20s%C6%A1.pdf" in fetched.headers["Content-Disposition"]


def test_storage_url_chooses_the_backend(tmp_path, s3_settings):
    assert isinstance(make_storage({"STORAGE_URL": None, "UPLOAD_DIR": str(tmp_path)}), LocalStorage)
    assert make_storage({"STORAGE_URL": None, "UPLOAD_DIR": str(tmp_path)}).root == tmp_path
    assert make_storage({"STORAGE_URL": f"file://{tmp_path}/up", "UPLOAD_DIR": "/nowhere"}).root == tmp_path / "up"
    backend = make_storage(s3_settings)
    assert isinstance(backend, S3Storage) and backend.bucket == S3_BUCKET and backend.prefix.startswith("t-")
    assert make_storage({**s3_settings, "STORAGE_URL": f"s3://{S3_BUCKET}"}).prefix == ""


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "file://relative/path", "ftp://host/x", "/srv/uploads",
                                 "uploads"])
def test_a_storage_url_that_cannot_work_stops_the_start(url):
    settings = {"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "STORAGE_URL": url}
    with pytest.raises(config_module.ConfigError, match="STORAGE_URL"):
        config_module.Config.validate(settings)


def test_a_storage_url_that_can_work_starts():
    for url in (None, "file:///srv/uploads", "s3://bucket", "s3://bucket/incubator/prod"):
        config_module.Config.validate({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "STORAGE_URL": url})
    with pytest.raises(config_module.ConfigError, match="S3_ADDRESSING_STYLE"):
        config_module.Config.validate({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "S3_ADDRESSING_STYLE": "dns"})

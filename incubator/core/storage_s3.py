"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2, ...) through boto3.

Objects are named ``<prefix>/<key[:2]>/<key>``, the local folder's layout under the prefix, so that an
existing ``UPLOAD_DIR`` moves over with one ``aws s3 sync``. Uploads go through boto3's managed transfer
(multipart past ``PART_SIZE``, a few parts in memory at a time, never the whole file). Downloads stream the
object through the app; with ``STORAGE_REDIRECT`` an attachment is instead a redirect to a presigned URL
that expires after ``STORAGE_URL_SECONDS`` (images, shown inside pages, are always streamed: the pages'
Content-Security-Policy allows images from this site only).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Literal, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from flask import redirect, send_file
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from incubator.core.storage import Readable, check_key, new_key

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

PART_SIZE = 8 * 1024 * 1024  # S3's smallest part is 5 MiB
MISSING = {"404", "NoSuchKey", "NotFound"}
STYLES: dict[str, Literal["auto", "virtual", "path"]] = {"auto": "auto", "virtual": "virtual", "path": "path"}


def _transfer_config() -> TransferConfig:
    config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=2)
    # s3transfer's own bound on the parts read ahead of their upload (10 by default): 2 parts, 16 MiB.
    config.max_in_memory_upload_chunks = 2
    return config


class S3Storage:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "", *, redirect: bool = False,
                 url_seconds: int = 300, probe: S3Client | None = None) -> None:
        self.client = client
        self.probe = probe or client  # check()'s client: short timeouts, no retries
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.redirect = redirect
        self.url_seconds = url_seconds
        self.transfer = _transfer_config()

    @classmethod
    def from_config(cls, bucket: str, prefix: str, config: Any) -> S3Storage:
        endpoint = config.get("S3_ENDPOINT_URL")
        style = STYLES[config.get("S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto")]
        session = boto3.session.Session()

        def client(boto: BotoConfig) -> S3Client:
            return session.client(
                "s3", endpoint_url=endpoint, region_name=config.get("AWS_DEFAULT_REGION"),
                aws_access_key_id=config.get("AWS_ACCESS_KEY_ID"),
                aws_secret_access_key=config.get("AWS_SECRET_ACCESS_KEY"),
                config=BotoConfig(s3={"addressing_style": style}).merge(boto))

        probe_seconds = float(config.get("READYZ_TIMEOUT_SECONDS") or 2)
        return cls(client(BotoConfig(connect_timeout=5, read_timeout=60,
                                     retries={"mode": "standard", "max_attempts": 3})),
                   bucket, prefix, redirect=bool(config.get("STORAGE_REDIRECT")),
                   url_seconds=int(config.get("STORAGE_URL_SECONDS") or 300),
                   probe=client(BotoConfig(connect_timeout=probe_seconds, read_timeout=probe_seconds,
                                           retries={"mode": "standard", "max_attempts": 1})))

    def check(self) -> None:
        """The bucket exists and these credentials may use it (HeadBucket); raises otherwise."""
        self.probe.head_bucket(Bucket=self.bucket)

    def name(self, key: str) -> str:
        """The object's name in the bucket."""
        key = check_key(key)
        return "/".join(part for part in (self.prefix, key[:2], key) if part)

    def save(self, stream: BinaryIO, suffix: str = "") -> str:
        key = new_key(suffix)
        self.save_as(key, stream)
        return key

    def save_as(self, key: str, stream: BinaryIO) -> None:
        self.client.upload_fileobj(stream, self.bucket, self.name(key), Config=self.transfer)

    def all_keys(self) -> Iterator[str]:
        """The keys under the prefix, listed a page (1,000 objects) at a time; other names are not ours."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"].rsplit("/", 1)[-1]
                try:
                    if self.name(key) == item["Key"]:
                        yield key
                except ValueError:
                    continue

    def open(self, key: str) -> Readable:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from error
            raise

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except ValueError:
            return False
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def send(self, key: str, *, mimetype: str | None = None, as_attachment: bool = False,
             download_name: str | None = None, max_age: int | None = None) -> Response:
        if self.redirect and as_attachment:
            return self._redirect(key, mimetype=mimetype, download_name=download_name, max_age=max_age)
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.name(key))
        except ValueError:
            raise NotFound() from None
        except ClientError as error:
            if _missing(error):
                raise NotFound() from None
            raise
        # Flask's send_file writes the same headers as for a local file (Content-Disposition with a
        # UTF-8 name, Cache-Control, conditional answers) and streams the body in blocks.
        body = cast(IO[bytes], found["Body"])  # send_file reads and closes it, all a StreamingBody needs
        response = send_file(body, mimetype=mimetype, as_attachment=as_attachment,
                             download_name=download_name, max_age=max_age, etag=found["ETag"].strip('"'),
                             last_modified=found["LastModified"])
        if response.status_code == 200:
            response.content_length = found["ContentLength"]
        return response

    def _redirect(self, key: str, *, mimetype: str | None, download_name: str | None,
                  max_age: int | None) -> Response:
        if not self.exists(key):  # a missing file is our 404, not the storage server's error page
            raise NotFound()
        # The headers the object is to be served with, written by Flask as for a streamed download.
        headers = send_file(io.BytesIO(), mimetype=mimetype, as_attachment=True, download_name=download_name,
                            max_age=max_age, conditional=False).headers
        url = self.client.generate_presigned_url("get_object", ExpiresIn=self.url_seconds, Params={
            "Bucket": self.bucket, "Key": self.name(key), "ResponseContentType": headers["Content-Type"],
            "ResponseContentDisposition": headers["Content-Disposition"],
            "ResponseCacheControl": headers["Cache-Control"]})
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "private, no-store"  # the link is this caller's, and expires
        return response


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING

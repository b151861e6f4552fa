"""Web addresses typed by people: only http and https links are kept (no ``javascript:``, ``data:``...)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

URL_MESSAGE = _l("Enter a web address that starts with http:// or https://.")


def is_web_url(value: str | None) -> bool:
    """An absolute http(s) URL with a host, without spaces or control characters."""
    text = (value or "").strip()
    if not text or any(ch.isspace() or ord(ch) < 32 for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


class WebURL:
    """WTForms validator: an empty field passes (pair it with Optional or DataRequired)."""

    def __call__(self, _form: Any, field: Any) -> None:
        if field.data and not is_web_url(field.data):
            raise ValidationError(str(URL_MESSAGE))


def absolute(url: str) -> str:
    """A full address for a redirect: the fake payment gateway answers with a path on this site, Stripe
    with a full address."""
    from flask import request

    return request.host_url.rstrip("/") + url if url.startswith("/") else url

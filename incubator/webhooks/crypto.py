"""Webhook signing secrets at rest: encrypted with Fernet (AES-128-CBC and HMAC-SHA256).

A secret signs every delivery, so it cannot be stored as a one-way hash. It is encrypted with the first
key of ``WEBHOOK_SECRET_KEYS`` (comma-separated Fernet keys; every key listed can decrypt, so a key is
rotated by putting a new one first), or, when that is unset, with a key derived from ``SECRET_KEY``.
A database dump alone therefore reveals no secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured keys (a key was removed)."""


def _keys() -> MultiFernet:
    configured = [k.strip() for k in (current_app.config.get("WEBHOOK_SECRET_KEYS") or "").split(",") if k.strip()]
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(b"incubator-webhook-secrets:" + str(current_app.config["SECRET_KEY"]).encode()).digest())
    return MultiFernet([Fernet(k) for k in configured] + [Fernet(derived)])


def encrypt(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the signing secret cannot be decrypted with WEBHOOK_SECRET_KEYS") from exc

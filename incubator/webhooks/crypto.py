"""Webhook signing secrets at rest: encrypted with Fernet (AES-128-CBC and HMAC-SHA256).

A secret signs every delivery, so it cannot be stored as a one-way hash. It is encrypted with the first
key of ``WEBHOOK_SECRET_KEYS`` (comma-separated Fernet keys; every key listed can decrypt, so a key is
rotated by putting a new one first), or, when that is unset, with a key derived from ``SECRET_KEY``.
A database dump alone therefore reveals no secret.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet

from incubator.core.crypto import keys


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured keys (a key was removed)."""


def _keys() -> MultiFernet:
    return keys("WEBHOOK_SECRET_KEYS", "webhook-secrets")


def encrypt(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the signing secret cannot be decrypted with WEBHOOK_SECRET_KEYS") from exc

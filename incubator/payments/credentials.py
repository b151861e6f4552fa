"""The organisations' payOS credentials at rest: encrypted with Fernet (``core.crypto``), with the keys of
``PAYMENT_SECRET_KEYS`` or, outside production, a key derived from ``SECRET_KEY``. They are written once
from the payments page and never shown again."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from flask import current_app
from flask_babel import gettext as _

from incubator.core.crypto import configured_keys, keys
from incubator.core.errors import DomainError

SETTING, PURPOSE = "PAYMENT_SECRET_KEYS", "payment-credentials"


def encrypt(secret: str) -> str:
    if current_app.config["ENV_NAME"] == "production" and not configured_keys(SETTING):
        raise DomainError(_("Payment credentials cannot be stored: the platform has no encryption key."),
                          code="no_encryption_key", status=503)
    return keys(SETTING, PURPOSE).encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keys(SETTING, PURPOSE).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DomainError(_("The payment credentials cannot be read: enter them again."),
                          code="credentials_unreadable", status=503) from exc

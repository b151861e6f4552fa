"""Secrets at rest that must be read back (not hashed): encrypted with Fernet (AES-128-CBC and HMAC-SHA256).

``keys(setting, purpose)`` reads a comma-separated list of Fernet keys from the config ``setting`` (the
first encrypts, every one decrypts, so a key is rotated by putting a new one first) and adds a key derived
from ``SECRET_KEY`` for ``purpose``, so that a database dump alone reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def configured_keys(setting: str) -> list[str]:
    return [k.strip() for k in (current_app.config.get(setting) or "").split(",") if k.strip()]


def keys(setting: str, purpose: str) -> MultiFernet:
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(f"incubator-{purpose}:".encode() + str(current_app.config["SECRET_KEY"]).encode()).digest())
    return MultiFernet([Fernet(k) for k in configured_keys(setting)] + [Fernet(derived)])

"""Failed sign-ins: throttled per account, without letting a stranger lock the owner out.

* Every failed password counts against the account (``LOGIN_LIMIT_PER_ACCOUNT``, e.g. 10 per 15
  minutes); past the limit, browsers that never signed in to the account wait before their next try,
  30 seconds and then twice as long after each further failure (at most the window). The answer says
  how long is left; nothing is locked for good, and during a wait no password is even checked.
* A browser that has signed in to the account before carries a signed "known device" cookie set at
  that sign-in; it is not made to wait, so the owner still gets in while a stranger hammers the account.
* The per-IP limit stays on the view (Flask-Limiter), for everyone.

Counters live in the rate limiter's storage (Redis in production, memory otherwise).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Request, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse

from incubator.core.tokens import hash_token

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365
KNOWN_ACCOUNTS_PER_BROWSER = 5
FIRST_WAIT_SECONDS = 30


def _storage() -> Any:
    from incubator.extensions import limiter

    return limiter.storage


def _account_key(email: str) -> str:
    return hash_token(email.strip().lower())[:24]


def _limit() -> tuple[int, int]:
    item = parse(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    return item.amount, item.get_expiry()


def wait_seconds(email: str) -> int:
    """How long an unknown browser must still wait before trying this account again (0: it may)."""
    key = "login-wait:" + _account_key(email)
    if not _storage().get(key):
        return 0
    return max(1, int(_storage().get_expiry(key) - time.time() + 0.999))


def record_failure(email: str) -> int:
    """Count a wrong password; answers the wait it starts for unknown browsers (0: none yet)."""
    account = _account_key(email)
    allowed, window = _limit()
    failures = _storage().incr("login-fail:" + account, window)
    if failures < allowed:
        return 0
    wait = min(window, FIRST_WAIT_SECONDS * 2 ** (failures - allowed))
    _storage().incr("login-wait:" + account, wait)
    return wait


def forget_failures(email: str) -> None:
    account = _account_key(email)
    for key in ("login-fail:", "login-wait:"):
        _storage().clear(key + account)


# -- the known-device cookie ------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _known_accounts(request: Request) -> list[str]:
    value = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not value:
        return []
    try:
        accounts = _serializer().loads(value, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def is_known_device(request: Request, email: str) -> bool:
    return _account_key(email) in _known_accounts(request)


def remember_device(request: Request, response: Any, email: str) -> None:
    account = _account_key(email)
    accounts = [account, *(a for a in _known_accounts(request) if a != account)][:KNOWN_ACCOUNTS_PER_BROWSER]
    response.set_cookie(KNOWN_DEVICE_COOKIE, _serializer().dumps(accounts), max_age=KNOWN_DEVICE_DAYS * 86400,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                        path="/auth/")

"""Signing, the URL rules, the retry schedule, and one HTTP POST of a delivery.

Signature (the scheme Stripe uses): ``Webhook-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256, keyed with the subscription's secret (the whole string, ``whsec_`` included), of
``"<t>.<raw body>"``. A receiver recomputes it over the raw bytes it received and compares in constant
time, and refuses a ``t`` older than a few minutes (replays).

The POST: 5 seconds at most (``WEBHOOK_TIMEOUT_SECONDS``), no redirect followed (a 3xx is a failure),
only the first characters of the answer kept. Outside development and tests the host's addresses are
resolved once, every one must be public, and the connection goes to the address that was checked (so a
DNS answer that changes between the check and the connection cannot reach an internal service).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import current_app

SIGNATURE_HEADER = "Webhook-Signature"
RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
RESPONSE_KEPT = 500  # characters of the answer kept in the log
MAX_URL_LENGTH = 2000


# -- signature -------------------------------------------------------------------------------------------

def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and what the README shows): the header's ``v1`` matches and ``t`` is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# -- retries ---------------------------------------------------------------------------------------------

def next_attempt(round_started_at: datetime, tries: int, now: datetime) -> datetime | None:
    """When to try again after ``tries`` failed attempts of a round: 1 minute, doubling each time, at most
    6 hours apart, the last try at the 24-hour mark; ``None`` once the 24 hours are over (failed)."""
    deadline = round_started_at + RETRY_WINDOW
    if now >= deadline:
        return None
    wait = min(FIRST_RETRY * 2 ** max(tries - 1, 0), LONGEST_WAIT)
    return min(now + wait, deadline)


# -- URL rules -------------------------------------------------------------------------------------------

def allow_http() -> bool:
    app = current_app
    return bool(app.debug or app.testing or app.config.get("WEBHOOKS_ALLOW_HTTP"))


def allow_private() -> bool:
    app = current_app
    return bool(app.debug or app.testing or app.config.get("WEBHOOKS_ALLOW_PRIVATE"))


class BadUrl(ValueError):
    """The URL breaks a rule; the message says which (in English: the caller translates)."""


INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _check_text(url: str) -> None:
    """The rules on the URL as typed: present, not too long, no spaces or control characters."""
    if not url:
        raise BadUrl("missing")
    if len(url) > MAX_URL_LENGTH:
        raise BadUrl("too_long")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadUrl("invalid")


def _checked_host(parts: SplitResult, *, http_allowed: bool) -> str:
    """The rules on the URL's parts (scheme, credentials, port, host, fragment); answers the host."""
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise BadUrl("invalid")
    if parts.scheme == "http" and not http_allowed:
        raise BadUrl("https_required")
    if "@" in parts.netloc:
        raise BadUrl("credentials")
    try:
        port = parts.port
    except ValueError as exc:
        raise BadUrl("invalid") from exc
    host = (parts.hostname or "").rstrip(".")
    if not host or port == 0:
        raise BadUrl("invalid")
    if parts.fragment:
        raise BadUrl("fragment")
    return host


def _check_public_host(host: str) -> None:
    """A literal address must be public; a name must not be local or internal (nor a single label)."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _public_address(host):
        raise BadUrl("private")
    if literal is None and (host == "localhost" or host.endswith(INTERNAL_SUFFIXES) or "." not in host):
        raise BadUrl("private")


def check_url(url: str, *, http_allowed: bool, private_allowed: bool) -> str:
    """The URL, trimmed, if it may receive deliveries; else ``BadUrl``."""
    url = (url or "").strip()
    _check_text(url)
    host = _checked_host(urlsplit(url), http_allowed=http_allowed)
    if not private_allowed:
        _check_public_host(host)
    return url


# -- one POST --------------------------------------------------------------------------------------------

@dataclass
class Answer:
    status_code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Pinned:
    """Connect to an address already checked, while the Host header, SNI and the certificate check use
    the URL's host name."""

    address: str

    def connect(self) -> None:
        conn: Any = self
        sock = socket.create_connection((self.address, conn.port), conn.timeout)
        if isinstance(conn, http.client.HTTPSConnection):
            sock = conn._context.wrap_socket(sock, server_hostname=conn.host)  # type: ignore[attr-defined]
        conn.sock = sock


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def _resolve(host: str, port: int, private_allowed: bool) -> str:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OSError(f"{host} has no address")
    if not private_allowed and not all(_public_address(a) for a in addresses):
        raise PermissionError(f"{host} resolves to a private or loopback address")
    return addresses[0]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> Answer:
    """POST ``body`` to ``url`` once, never following a redirect; every failure is an ``Answer`` too."""
    timeout = float(timeout if timeout is not None else current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_url(url, http_allowed=allow_http(), private_allowed=allow_private())
    except BadUrl as exc:
        return Answer(None, "", f"URL refused: {exc}", 0)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: _PinnedHTTP | _PinnedHTTPS | None = None
    try:
        address = _resolve(host, port, allow_private())
        if parts.scheme == "https":
            conn = _PinnedHTTPS(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = _PinnedHTTP(host, port, timeout=timeout)
        conn.address = address
        conn.request("POST", path, body=body, headers=headers)
        if conn.sock is not None:  # whatever is left of the 5 seconds for the answer
            conn.sock.settimeout(max(0.05, timeout - (time.monotonic() - started)))
        response = conn.getresponse()
        kept = response.read(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT]
        error = "redirect not followed" if 300 <= response.status < 400 else ""
        return Answer(response.status, kept, error, elapsed())
    except TimeoutError:
        return Answer(None, "", f"timed out after {timeout:g} s", elapsed())
    except PermissionError as exc:
        return Answer(None, "", f"refused: {exc}"[:300], elapsed())
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(None, "", f"{type(exc).__name__}: {exc}"[:300], elapsed())
    finally:
        if conn is not None:
            conn.close()

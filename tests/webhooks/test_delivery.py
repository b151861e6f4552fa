"""The pieces of a delivery: the signature, the URL rules (production's SSRF rules too), the retry
schedule, and the secret at rest."""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import UTC, datetime, timedelta

import pytest

from incubator.webhooks import crypto, delivery


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"evt_1","type":"booking.confirmed","created":1767225600,"data":{"booking_id":7}}'
    header = delivery.signature("whsec_abc", body, 1767225600)
    expected = hmac.new(b"whsec_abc", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"
    assert delivery.verify("whsec_abc", header, body, now=1767225600 + 60)
    assert not delivery.verify("whsec_abc", header, body + b" ", now=1767225600)  # a changed body
    assert not delivery.verify("whsec_other", header, body, now=1767225600)
    assert not delivery.verify("whsec_abc", header, body, now=1767225600 + 301)  # a replay, too late
    assert not delivery.verify("whsec_abc", "t=x,v1=00", body)


def test_the_retry_schedule_doubles_from_a_minute_and_ends_at_24_hours():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    now, waits = start, []
    for tries in range(1, 30):
        nxt = delivery.next_attempt(start, tries, now)
        if nxt is None:
            break
        waits.append((nxt - now) / timedelta(minutes=1))
        now = nxt
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 209]
    assert now == start + timedelta(hours=24)


PRODUCTION = {"http_allowed": False, "private_allowed": False}


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/in", "https_required"),
    ("https://user:secret@hooks.example.com/in", "credentials"),
    ("https://@hooks.example.com/in", "credentials"),
    ("https://127.0.0.1/in", "private"),
    ("https://[::1]/in", "private"),
    ("https://10.1.2.3/in", "private"),
    ("https://192.168.0.10:8443/in", "private"),
    ("https://169.254.169.254/latest/meta-data", "private"),
    ("https://[::ffff:10.0.0.1]/in", "private"),
    ("https://0.0.0.0/in", "private"),
    ("https://localhost/in", "private"),
    ("https://db.internal/in", "private"),
    ("https://intranet/in", "private"),
    ("https://hooks.example.com:99999/in", "invalid"),
    ("https://hooks.example.com/in#top", "fragment"),
    ("javascript:alert(1)", "invalid"),
    ("https:///in", "invalid"),
    ("https://hooks.example.com/ in", "invalid"),
    ("", "missing"),
])
def test_production_refuses(url, reason):
    with pytest.raises(delivery.BadUrl) as refused:
        delivery.check_url(url, **PRODUCTION)
    assert str(refused.value) == reason


def test_production_accepts_a_public_https_endpoint():
    assert delivery.check_url(" https://hooks.example.com:8443/in?source=incubator ", **PRODUCTION) == \
        "https://hooks.example.com:8443/in?source=incubator"
    assert delivery.check_url("https://93.184.216.34/in", **PRODUCTION)


def test_development_allows_http_on_loopback():
    assert delivery.check_url("http://127.0.0.1:8000/in", http_allowed=True, private_allowed=True)


def test_a_name_that_resolves_to_a_private_address_is_not_contacted(app, monkeypatch):
    """DNS can point a public-looking name at an internal service: the addresses are checked when sending,
    and the connection goes to the address that was checked."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_HTTP", True)
    contacted = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                 ("10.0.0.5", 80))])
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: contacted.append(a))
    app.testing = False
    try:
        with app.app_context():
            answer = delivery.post("http://hooks.example.com/in", b"{}", {})
    finally:
        app.testing = True
    assert answer.status_code is None and "private or loopback" in answer.error
    assert contacted == []


def test_the_url_rules_follow_the_configuration(app, monkeypatch):
    app.testing = False
    try:
        with app.app_context():
            assert not delivery.allow_http() and not delivery.allow_private()
            monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_HTTP", True)
            assert delivery.allow_http() and not delivery.allow_private()
    finally:
        app.testing = True


def test_the_secret_is_encrypted_and_survives_a_key_rotation(app, monkeypatch):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", old_key)
    with app.app_context():
        stored = crypto.encrypt("whsec_plain")
        assert "whsec_plain" not in stored
        monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", f"{new_key},{old_key}")  # rotated: new first
        assert crypto.decrypt(stored) == "whsec_plain"
        monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", new_key)  # the old key dropped
        with pytest.raises(crypto.SecretUnreadable):
            crypto.decrypt(stored)


def test_the_webhooks_package_imports_no_other_domain():
    from tests.test_architecture import DOMAINS, import_edges, load_modules, top_package

    bad = [str(e) for e in import_edges(load_modules())
           if top_package(e.source) == "webhooks" and top_package(e.target) in DOMAINS
           and top_package(e.target) != "webhooks"]
    assert bad == []

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, Production
from tests.conftest import login
from tests.factories import UserFactory


def test_security_headers_on_every_page(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production
    assert "<script>" not in response.get_data(as_text=True)  # no inline script anywhere


def test_session_cookie_is_httponly_and_lax(client, session):
    user = UserFactory()
    response = login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


REDIS = "redis://redis:6379/0"


def test_production_requires_secret_and_database(monkeypatch):
    with pytest.raises(ConfigError):
        Production.validate({"SECRET_KEY": None, "DATABASE_URL": "postgresql://x", "REDIS_URL": REDIS})
    with pytest.raises(ConfigError):
        Production.validate({"SECRET_KEY": "x" * 40, "DATABASE_URL": None, "REDIS_URL": REDIS})
    with pytest.raises(ConfigError):
        Production.validate({"SECRET_KEY": "short", "DATABASE_URL": "postgresql://x", "REDIS_URL": REDIS})
    Production.validate({"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://x", "REDIS_URL": REDIS})


@pytest.mark.parametrize("redis_url,message", [
    (None, "REDIS_URL is not set"), ("", "REDIS_URL is not set"),
    ("localhost:6379", "REDIS_URL must be redis://"), ("http://redis:6379", "REDIS_URL must be redis://")])
def test_production_requires_a_redis_url(redis_url, message):
    with pytest.raises(ConfigError, match=message):
        Production.validate({"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://x", "REDIS_URL": redis_url})
    for good in ("redis://redis:6379/0", "rediss://user:pw@cache.example.org:6380/1", "unix:///run/redis.sock"):
        Production.validate({"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://x", "REDIS_URL": good})


def test_production_refuses_a_short_metrics_token():
    settings = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://x", "REDIS_URL": REDIS}
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Production.validate({**settings, "METRICS_TOKEN": "short"})
    Production.validate({**settings, "METRICS_TOKEN": "m" * 32})
    Production.validate({**settings, "METRICS_TOKEN": None})


PRODUCTION_PROBE = """
from incubator import create_app
app = create_app()
client = app.test_client()
r = client.get("/auth/login", base_url="https://incubator.example.org")
print("HSTS", r.headers.get("Strict-Transport-Security"))
print("COOKIE", [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")])
r = client.get("/auth/login", base_url="http://incubator.example.org")
print("HTTP", r.status_code, r.headers.get("Location"))
print("HEALTH", client.get("/healthz", base_url="http://localhost:8000").status_code)
"""


def _production(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "DATABASE_URL", "TEST_"))}
    base.update({"INCUBATOR_ENV": "production", "INSTANCE_PATH": str(tmp_path), "REDIS_URL": ""}, **env)
    return subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], env=base, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)


def test_production_refuses_to_start_without_secret_key_or_database(tmp_path):
    result = _production({"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "REDIS_URL": REDIS}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
    result = _production({"SECRET_KEY": "k" * 40, "REDIS_URL": REDIS}, tmp_path)
    assert result.returncode != 0 and "DATABASE_URL is not set" in result.stderr


def test_production_refuses_to_start_without_redis(tmp_path):
    # create_app itself refuses: gunicorn's --preload master and the job worker stop at start.
    result = _production({"SECRET_KEY": "k" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}, tmp_path)
    assert result.returncode != 0
    assert "ConfigError: REDIS_URL is not set" in result.stderr


def test_production_sends_hsts_secure_cookies_and_redirects_to_https(tmp_path):
    result = _production({"SECRET_KEY": "k" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
                          "REDIS_URL": "redis://127.0.0.1:6379/15"}, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert "max-age=31536000" in lines["HSTS"]
    assert "Secure" in lines["COOKIE"] and "HttpOnly" in lines["COOKIE"]
    assert lines["HTTP"].startswith("302 https://")
    assert lines["HEALTH"] == "200"  # the container health check is plain HTTP


def test_csrf_is_required_on_forms(client, session):
    user = UserFactory()
    response = client.post("/auth/login", data={"email": user.email, "password": "whatever it is"})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("path,status", [("/no/such/page", 404), ("/api/v1/no-such-thing", 404)])
def test_error_pages(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    if path.startswith("/api/"):
        assert response.get_json()["code"] == "not_found"
    else:
        assert "404" in response.get_data(as_text=True) and "<html" in response.get_data(as_text=True)
        vi = client.get(path, headers={"Accept-Language": "vi"}).get_data(as_text=True)
        assert "Không tìm thấy" in vi


def test_too_large_upload_gets_a_clear_413_page(app, client):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/auth/login", data=big, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "413" in response.get_data(as_text=True)


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32


def test_the_network_guard_refuses_other_addresses():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="network access in a test"):
            sock.connect(("127.0.0.1", 9))
    finally:
        sock.close()

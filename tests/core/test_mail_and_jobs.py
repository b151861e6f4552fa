from __future__ import annotations

import socket
from pathlib import Path

import pytest
from flask import Flask
from huey.storage import RedisStorage, SqliteStorage

from incubator.core import jobs, mail
from incubator.extensions import db


def test_mail_leaves_only_when_the_transaction_commits(app, connection):
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "kept", "body")
        db.session.commit()
        mail.send_mail(db.session, "b@example.org", "dropped", "body")
        db.session.rollback()
        db.session.commit()
    assert [m.subject for m in mail.outbox] == ["kept"]
    assert mail.outbox[0].to == ["a@example.org"]


def test_file_backend_writes_an_eml(app, connection, tmp_path: Path):
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path))
    try:
        with app.test_request_context():
            mail.send_mail(db.session, "a@example.org", "Xin chào", "Nội dung")
            db.session.commit()
    finally:
        app.config["MAIL_BACKEND"] = "memory"
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "To: a@example.org" in text and "Subject:" in text


def test_console_backend_prints(app, connection, capsys):
    app.config["MAIL_BACKEND"] = "console"
    try:
        with app.test_request_context():
            mail.send_mail(db.session, "a@example.org", "Hello", "line one")
            db.session.commit()
    finally:
        app.config["MAIL_BACKEND"] = "memory"
    assert "line one" in capsys.readouterr().out


def _configure(config: dict) -> object:
    probe = Flask("probe")
    probe.config.update(config)
    jobs.init_app(probe)
    return jobs.huey.storage


@pytest.fixture()
def restore_immediate():
    yield
    jobs.huey.immediate = False
    jobs.huey.immediate = True  # back to the tests' in-memory, immediate queue


def test_jobs_use_sqlite_by_default_and_redis_when_configured(tmp_path: Path, restore_immediate):
    storage = _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": None, "HUEY_SQLITE_PATH": str(tmp_path / "q.db")})
    assert isinstance(storage, SqliteStorage)
    assert (tmp_path / "q.db").exists()
    storage = _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert isinstance(storage, RedisStorage)


def _redis_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_a_queued_mail_waits_in_redis_for_the_worker(app, connection, restore_immediate):
    _configure({"HUEY_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    jobs.huey.flush()
    with app.test_request_context():
        mail.send_mail(db.session, "a@example.org", "queued", "body")
        db.session.commit()
    assert mail.outbox == []  # not delivered in the request
    assert jobs.huey.pending_count() == 1
    task = jobs.huey.dequeue()
    jobs.set_worker_app(app)
    try:
        jobs.huey.execute(task)  # what the worker does
    finally:
        jobs.set_worker_app(None)
    assert [m.subject for m in mail.outbox] == ["queued"]
    jobs.huey.flush()

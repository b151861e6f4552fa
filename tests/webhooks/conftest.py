"""A real HTTP endpoint for the deliveries, a clock the delivery code reads, and API helpers."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from incubator.core.db import utcnow


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded ``http.server`` on a free loopback port. ``answers``: status codes to answer in turn
    (the last one repeats); ``delay``: seconds to wait before answering; ``redirect_to`` on 3xx."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    from tests.conftest import ALLOWED_PORTS

    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            status = state.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url + "/elsewhere")
            payload = f"answer {status}".encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender may have given up (timeout)
                self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    ALLOWED_PORTS.add(port)  # the no-network guard lets the deliveries reach this server only
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        ALLOWED_PORTS.discard(port)


class Clock:
    def __init__(self) -> None:
        self.now: datetime = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time the webhook code reads (the deliveries' schedule), moved by the test."""
    from incubator.webhooks import services, tasks

    fake = Clock()
    monkeypatch.setattr(tasks, "utcnow", fake)
    monkeypatch.setattr(services, "utcnow", fake)
    return fake


@pytest.fixture()
def api(client: Any, session: Any) -> Callable[..., Any]:
    from incubator.accounts.services import create_api_token

    tokens: dict[int, str] = {}

    def call(user: Any, method: str, path: str, **kwargs: Any) -> Any:
        if user.id not in tokens:
            tokens[user.id], _record = create_api_token(session, user, "webhooks")
            session.flush()
        headers = {"Authorization": f"Bearer {tokens[user.id]}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call

from __future__ import annotations

import json
import logging

from incubator import log_formatter


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_each_request_is_logged_with_its_request_id(client):
    capture = _Capture()
    logger = logging.getLogger("incubator.request")
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    try:
        client.get("/healthz", headers={"X-Request-ID": "req-42"})
    finally:
        logger.removeHandler(capture)
        logger.setLevel(logging.NOTSET)
    record = capture.records[-1]
    assert (record.request_id, record.method, record.path, record.status) == ("req-42", "GET", "/healthz", 200)
    line = json.loads(log_formatter(json_lines=True).format(record))
    assert line["request_id"] == "req-42" and line["status"] == 200 and line["level"] == "INFO"

"""Mail through one outbox.

``send_mail`` queues a message on the current database session (``jobs.after_commit``, the one
after-commit queue); it is handed to a job only once that session commits, so a rolled-back request
sends nothing. The job delivers it with the
configured backend: console or file in development, memory in tests, SMTP in production.
"""

from __future__ import annotations

import json
import smtplib
import sys
import uuid
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from incubator.core.jobs import after_commit, job
from incubator.core.jobs import pending as _pending

# The memory backend's outbox; tests read it.
outbox: list[Message] = []


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Message:
    to: list[str]
    subject: str
    body: str
    html: str | None = None
    sender: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


# Addresses under the reserved top-level domain .invalid (RFC 2606) never receive mail: service
# principals (an organisation's service tokens) have one, so nothing is ever sent to them.
UNDELIVERABLE_SUFFIX = ".invalid"


def deliverable(address: str) -> bool:
    return not address.strip().lower().rstrip(">").endswith(UNDELIVERABLE_SUFFIX)


def send_mail(session: Session, to: str | list[str], subject: str, body: str, html: str | None = None,
              attachments: list[Attachment] | None = None) -> Message:
    recipients = [address for address in ([to] if isinstance(to, str) else list(to)) if deliverable(address)]
    message = Message(to=recipients, subject=subject, body=body, html=html,
                      sender=current_app.config["MAIL_DEFAULT_SENDER"], attachments=attachments or [])
    if recipients:
        after_commit(session, _hand_over, message)
    return message


def pending(session: Session) -> list[Message]:
    """The messages waiting for ``session`` to commit (tests read them)."""
    return [args[0] for args in _pending(session, _hand_over)]


def _hand_over(message: Message) -> None:
    deliver(asdict(message))


@job(retries=3, retry_delay=60)
def deliver(data: dict[str, Any]) -> None:
    data["attachments"] = [Attachment(**a) for a in data.get("attachments", [])]
    message = Message(**data)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        outbox.append(message)
    elif backend == "console":
        print(_as_text(message), file=sys.stdout, flush=True)
    elif backend == "file":
        folder = Path(current_app.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(_as_email(message)))
    elif backend == "smtp":
        cfg = current_app.config
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(_as_email(message))
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


def _as_email(message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = message.sender or current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for att in message.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        email.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    return email


def _as_text(message: Message) -> str:
    header = json.dumps({"to": message.to, "subject": message.subject}, ensure_ascii=False)
    return f"--- mail {header}\n{message.body}\n--- end of mail"

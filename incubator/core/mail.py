"""Mail through one outbox.

``send_mail`` queues a message on the current database session; it is handed to a job only once
that session commits, so a rolled-back request sends nothing. The job delivers it with the
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
from sqlalchemy import event
from sqlalchemy.orm import Session

from incubator.core.jobs import job

PENDING_KEY = "pending_mail"
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


def send_mail(session: Session, to: str | list[str], subject: str, body: str, html: str | None = None,
              attachments: list[Attachment] | None = None) -> Message:
    message = Message(to=[to] if isinstance(to, str) else list(to), subject=subject, body=body, html=html,
                      sender=current_app.config["MAIL_DEFAULT_SENDER"], attachments=attachments or [])
    session.connection()  # begin the transaction now, so that its rollback drops the message
    session.info.setdefault(PENDING_KEY, []).append(message)
    return message


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the request may still roll back
        return
    for message in session.info.pop(PENDING_KEY, []):
        deliver(asdict(message))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)


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

"""Run a service call so that a refusal leaves nothing behind.

A request commits when its answer is below 400 (``incubator.__init__``). A view that catches a
``DomainError`` to flash it and redirect therefore commits whatever the service had changed or flushed
before it refused: a booking cancelled but not refunded, a startup created for a full cohort. So every
caller that catches a refusal runs the call through one of the two helpers below:

``attempt`` (views): the block runs inside a savepoint; a ``DomainError`` rolls back to it, is kept on
the outcome (and flashed, or put on a form's fields), and the view goes on::

    with attempt(flash_error=True) as outcome:
        services.enrol(db.session, cohort, startup, today)
    if outcome.ok:
        flash(_("The startup is enrolled."), "success")

    with attempt(form=form) as outcome:          # field errors beside the fields, the rest flashed
        saved = services.save_call(...)
    if outcome.ok:
        return redirect(...)

    with attempt() as outcome:                   # the view says it itself
        services.schedule_session(...)
    if outcome.error:
        errors = outcome.error.fields

Code after the failing statement inside the block does not run (as with ``try``). Any other exception
also rolls back to the savepoint, and goes on up.

``savepoint`` (services, loops, the API): the same savepoint, but the ``DomainError`` goes on up once
rolled back; use it where the caller catches the error itself, e.g. to skip one item of a batch.

Rolling back to the savepoint also drops what the block queued to run after the commit: a mail, a
job, a report export. Those queues are lists kept in ``session.info`` (``core.mail``, ``core.jobs``,
``reporting.tasks``); whatever the block appended to any such list is removed again. (Where the queue
itself drops what a rolled-back savepoint queued, this is a second, harmless, guard.) Releasing the
savepoint runs nothing: SQLAlchemy calls ``after_commit`` for a released savepoint too, and the queues
wait for the outermost commit (``session.in_nested_transaction()``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import flash
from sqlalchemy.orm import Session

from incubator.core.errors import DomainError
from incubator.core.forms import apply_form_errors


class Outcome:
    """What ``attempt`` saw: ``error`` is the refusal that was rolled back, or ``None``."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _queued(session: Session) -> dict[str, int]:
    return {key: len(value) for key, value in session.info.items() if isinstance(value, list)}


def _drop_queued_since(session: Session, before: dict[str, int]) -> None:
    for key, value in session.info.items():
        if isinstance(value, list):
            del value[before.get(key, 0):]


@contextlib.contextmanager
def savepoint(session: Session | None = None) -> Iterator[Session]:
    """Run the block in a savepoint of ``session`` (the request's by default): released when the block
    ends, rolled back (with what the block queued for after the commit) when it raises; the exception,
    a ``DomainError`` or any other, goes on up."""
    if session is None:
        from incubator.extensions import db

        session = db.session
    before = _queued(session)
    nested = session.begin_nested()
    try:
        yield session
    except BaseException:
        if nested.is_active:
            nested.rollback()
        _drop_queued_since(session, before)
        raise
    else:
        if nested.is_active:
            nested.commit()


@contextlib.contextmanager
def attempt(*, flash_error: bool = False, form: Any = None, session: Session | None = None) -> Iterator[Outcome]:
    """Run the block in a savepoint; a ``DomainError`` rolls back to it and is kept on the outcome.

    ``form``: its field errors are put on the form's fields (a message for no field is flashed);
    ``flash_error``: its message is flashed as ``danger``. Otherwise the view reads ``outcome.error``."""
    outcome = Outcome()
    try:
        with savepoint(session):
            yield outcome
    except DomainError as error:
        outcome.error = error
        if form is not None:
            apply_form_errors(form, error)
        elif flash_error:
            flash(error.message, "danger")

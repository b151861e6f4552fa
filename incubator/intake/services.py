"""The applicant's side: drafts, submission, uploads, withdrawal, and the pipeline's transitions.

Calls, their forms and rubrics are in ``intake.calls``; review in ``intake.review``; decisions and
letters in ``intake.decisions``; bulk actions in ``intake.bulk``.

Plain functions taking the session and what they need; they never commit and raise ``DomainError``.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import IO, Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.core.db import get_required, utcnow
from incubator.core.errors import DomainError, NotAllowed
from incubator.core.mail import send_mail
from incubator.core.storage import storage
from incubator.core.tenancy import lock_row
from incubator.intake import formspec
from incubator.intake.models import Application, ApplicationFile, Call, Stage, Transition
from incubator.ledger import signals as ledger_signals
from incubator.ledger.models import Payment, PaymentStatus
from incubator.orgs.models import Organisation
from incubator.webhooks.services import emit_for


def _raise(fields: dict[str, str], message: str | None = None, code: str | None = None) -> None:
    if fields:
        raise DomainError(message or _("Please correct the highlighted fields."), fields=fields, code=code)


# -- calls ---------------------------------------------------------------------------------------
# A call's settings, form and rubric are set up in ``intake.calls``.

def application_count(session: Session, call: Call, *, submitted_only: bool = False) -> int:
    stmt = select(func.count()).select_from(Application).where(Application.call_id == call.id)
    if submitted_only:
        stmt = stmt.where(Application.stage.not_in([Stage.DRAFT, Stage.WITHDRAWN]))
    return session.execute(stmt).scalar_one()


# -- the applicant's side ---------------------------------------------------------------------------

def deadline_passed() -> DomainError:
    return DomainError(_("The call closed; applications can no longer be changed."), code="deadline_passed")


def start_application(session: Session, org: Organisation, call: Call, user: User,
                      answers: dict[str, Any] | None = None) -> Application:
    """The caller's draft for ``call`` (created once; later calls save into it)."""
    now = utcnow()
    if now >= call.closes_at:
        raise deadline_passed()
    if now < call.opens_at:
        raise DomainError(_("The call is not open yet."), code="not_open")
    existing = session.execute(select(Application).where(Application.call_id == call.id,
                                                         Application.applicant_id == user.id)).scalar_one_or_none()
    if existing is None:
        if call.cap is not None and application_count(session, call, submitted_only=True) >= call.cap:
            raise DomainError(_("This call has received as many applications as it accepts."), code="call_full")
        # Applying makes no one a member: an applicant reaches their applications without one, and the
        # team becomes founders of the organisation when the application is accepted (decisions).
        existing = Application(org_id=org.id, call=call, form_version=call.current_version, applicant=user,
                               stage=Stage.DRAFT, answers={})
        session.add(existing)
        session.flush()
    if answers is not None:
        save_answers(session, existing, user, answers)
    return existing


def can_edit(application: Application, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if now >= application.call.closes_at:
        return False
    if application.stage == Stage.DRAFT:
        return True
    return application.stage == Stage.SUBMITTED and application.call.allow_edits


def _check_editable(application: Application, user: User) -> None:
    if not application.is_owned_by(user):
        raise NotAllowed(_("Only the applicant can change this application."))
    if utcnow() >= application.call.closes_at:
        raise deadline_passed()
    if not can_edit(application):
        raise DomainError(_("This application can no longer be changed."), code="not_editable")


def save_answers(session: Session, application: Application, user: User, answers: dict[str, Any]) -> Application:
    """Save a draft (or edit a submitted application the call lets change): types checked, nothing required.

    Saving merges: a question left out keeps its answer, an explicit ``None`` clears it (an empty
    string or list does too, which is what a cleared field of the page posts). Edits of a submitted
    application are recorded in its timeline (``record_edit``)."""
    _check_editable(application, user)
    if not isinstance(answers, dict):
        _raise({"answers": _("Answers must be an object of question keys.")})
    questions = application.form_version.questions
    merged = dict(application.answers)
    for key, value in answers.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    complete = application.stage != Stage.DRAFT  # a submitted application stays complete
    clean, errors = formspec.validate_answers(questions, merged, complete=complete,
                                              file_ids={f.id for f in application.files})
    _raise(errors)
    changed = [q["key"] for q in questions if application.answers.get(q["key"]) != clean.get(q["key"])]
    application.answers = clean
    if changed and application.stage != Stage.DRAFT:
        record_edit(session, application, user, changed)
    session.flush()
    return application


EDITS_FOLD_WITHIN = timedelta(minutes=2)


def record_edit(session: Session, application: Application, user: User, keys: list[str]) -> Transition:
    """An edit of a submitted application, in its timeline: who, when, which questions. One save (its
    uploads and answers) or saves by the same person within two minutes make one entry."""
    now = utcnow()
    last = application.transitions[-1] if application.transitions else None
    if last is not None and last.changed_questions is not None and last.actor_id == user.id \
            and now - last.at <= EDITS_FOLD_WITHIN:
        order = [q["key"] for q in application.form_version.questions]
        merged = set(last.changed_questions) | set(keys)
        last.changed_questions = sorted(merged, key=lambda k: order.index(k) if k in order else len(order))
        last.at = now
        session.flush()
        return last
    stage = str(application.stage)
    edit = Transition(org_id=application.org_id, from_stage=stage, to_stage=stage, actor=user, comment="",
                      at=now, changed_questions=list(keys))
    application.transitions.append(edit)
    session.flush()
    return edit


def check_submittable(session: Session, application: Application, user: User,
                      at: datetime | None = None) -> dict[str, Any]:
    """Everything submission asks but the fee; answers the cleaned answers."""
    if not application.is_owned_by(user):
        raise NotAllowed(_("Only the applicant can submit this application."))
    if (at or utcnow()) >= application.call.closes_at:
        raise deadline_passed()
    if application.stage != Stage.DRAFT:
        raise DomainError(_("This application was already submitted."), code="already_submitted")
    call = application.call
    if call.cap is not None and application_count(session, call, submitted_only=True) >= call.cap:
        raise DomainError(_("This call has received as many applications as it accepts."), code="call_full")
    clean, errors = formspec.validate_answers(application.form_version.questions, application.answers,
                                              complete=True, file_ids={f.id for f in application.files})
    _raise(errors, _("Some answers are missing or invalid."), code="incomplete")
    return clean


def fee_paid(session: Session, application: Application) -> bool:
    return session.execute(select(Payment.id).where(
        Payment.application_id == application.id,
        Payment.status.in_((PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)))).first() is not None


def submit_application(session: Session, application: Application, user: User,
                       at: datetime | None = None) -> Application:
    """The one place an application is submitted. With a fee, submission waits for the payment: it
    answers ``payment_required`` (402) until the payment is confirmed, and the payment's webhook then
    submits it (``at``: when the applicant started paying, which is what the deadline is held to)."""
    clean = check_submittable(session, application, user, at)
    if application.call.fee_minor and not fee_paid(session, application):
        raise DomainError(_("Pay the application fee to submit."), code="payment_required", status=402)
    application.answers = clean
    application.submitted_at = utcnow()
    record_transition(session, application, user, Stage.SUBMITTED, "")
    _receipt(session, application)
    emit_for(application, "application.submitted", "call_id", "stage", "submitted_at")
    return application


# Withdrawing gives the application fee back while nobody has assessed the application yet: before the
# deadline, and before it goes into review (submitted or screening). Later the fee is kept.
REFUNDABLE_STAGES = (Stage.DRAFT, Stage.SUBMITTED, Stage.SCREENING)


def paid_fees(session: Session, application: Application) -> list[Payment]:
    return list(session.execute(select(Payment).where(
        Payment.application_id == application.id,
        Payment.status.in_((PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED))).order_by(Payment.id)).scalars())


def withdrawal_refunds_fee(application: Application, now: datetime | None = None) -> bool:
    """Whether withdrawing now gives the paid application fee back (``REFUNDABLE_STAGES``, before the deadline)."""
    return (now or utcnow()) < application.call.closes_at and Stage(application.stage) in REFUNDABLE_STAGES


def withdraw_application(session: Session, application: Application, user: User, comment: str = "") -> int:
    """The applicant withdraws; answers the fee refunded (in minor units, 0 if none).

    A paid fee is refunded (``refund_requested``, which payments answers) when ``withdrawal_refunds_fee``;
    the refund is asked before anything is recorded, so a gateway failure (``refund_failed``, 502) leaves
    the application as it was. A checkout still open stays so; if it is paid later, the payment cannot
    submit the withdrawn application and is refunded by the payments webhook."""
    if not application.is_owned_by(user):
        raise NotAllowed(_("Only the applicant can withdraw this application."))
    if application.id is not None:  # one withdrawal at a time (a row lock on PostgreSQL), read afresh
        session.refresh(application, with_for_update=True)
    if application.stage in (Stage.ACCEPTED, Stage.REJECTED, Stage.WITHDRAWN):
        raise DomainError(_("This application can no longer be withdrawn."), code="bad_transition")
    refunded = 0
    if withdrawal_refunds_fee(application):
        for payment in paid_fees(session, application):
            before = payment.amount_refunded
            ledger_signals.ask(ledger_signals.refund_requested, payment, session=session)
            refunded += payment.amount_refunded - before
    record_transition(session, application, user, Stage.WITHDRAWN, comment)
    return refunded


def record_transition(session: Session, application: Application, actor: User | None, to: Stage | str,
                      comment: str) -> Transition:
    transition = Transition(org_id=application.org_id, from_stage=str(application.stage), to_stage=str(to),
                            actor=actor, comment=(comment or "").strip(), at=utcnow())
    application.transitions.append(transition)
    application.stage = Stage(to)
    session.flush()
    return transition


def _receipt(session: Session, application: Application) -> None:
    user, call = application.applicant, application.call
    org = get_required(session, Organisation, application.org_id)
    locale = user.locale or org.default_locale
    with force_locale(locale):
        subject = _("We received your application to %(call)s", call=call.title(locale))
        body = render_template("intake/email/receipt.txt", application=application, call=call, locale=locale,
                               org=org)
    send_mail(session, user.email, subject, body)


# -- uploads ----------------------------------------------------------------------------------------

def check_pdf(data: bytes) -> None:
    """A PDF by its content: the ``%PDF-`` signature, and pypdf must be able to read its pages."""
    if not data.lstrip(b"\x00\t\n\r ")[:5] == b"%PDF-":
        raise DomainError(_("Only PDF files are accepted."), code="not_pdf", fields={"file": _("Not a PDF file.")},
                          status=415)
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if len(reader.pages) < 1:
            raise ValueError("no pages")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError):
        raise DomainError(_("This PDF file is damaged or unreadable."), code="not_pdf",
                          fields={"file": _("Not a PDF file.")}, status=415) from None


def max_upload_bytes() -> int:
    return int(current_app.config.get("MAX_UPLOAD_MB", 20)) * 1024 * 1024


def upload_file(session: Session, application: Application, user: User, key: str, stream: IO[bytes],
                filename: str) -> ApplicationFile:
    _check_editable(application, user)
    question = next((q for q in application.form_version.questions if q["key"] == key and q["type"] == "file"),
                    None)
    if question is None:
        raise DomainError(_("This question takes no file."), fields={key: _("Not a valid choice.")})
    data = stream.read(max_upload_bytes() + 1)
    if len(data) > max_upload_bytes():
        raise DomainError(_("The file is larger than %(n)d MB.", n=max_upload_bytes() // (1024 * 1024)),
                          code="too_large", status=413)
    check_pdf(data)
    previous = [f for f in application.files if f.question_key == key]
    record = ApplicationFile(org_id=application.org_id, question_key=key,
                             storage_key=storage().save(io.BytesIO(data), ".pdf"),
                             filename=(filename or "document.pdf").replace("/", "_")[-200:], size=len(data))
    application.files.append(record)
    session.flush()
    for old in previous:  # the stored bytes stay until a clean-up: a rolled-back request must not lose them
        application.files.remove(old)
    application.answers = {**application.answers, key: record.id}
    if application.stage != Stage.DRAFT:
        record_edit(session, application, user, [key])
    session.flush()
    return record


# -- what payments tells intake -----------------------------------------------------------------------

def on_payment_settled(payment: Payment, *, session: Session, **_kw: Any) -> None:
    """The fee is paid: the application is submitted, held to the deadline as of when paying began. If it
    can no longer be (submitted already by another payment, the call filled up), the money goes back."""
    if payment.application_id is None:
        return
    application = get_required(session, Application, payment.application_id)
    lock_row(session, application)  # two payments confirmed at once: the second waits, then finds it submitted
    try:
        with session.begin_nested():
            submit_application(session, application, application.applicant, at=payment.created_at)
    except DomainError as exc:
        current_app.logger.info("payment %s refunded: application %s not submitted (%s)", payment.id,
                                application.id, exc.code)
        ledger_signals.ask(ledger_signals.refund_requested, payment, session=session)


ledger_signals.payment_settled.connect(on_payment_settled)

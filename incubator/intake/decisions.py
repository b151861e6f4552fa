"""Decisions: accept into a cohort (creating the startup and its founders), waitlist, reject; letters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import CursorResult, event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from incubator.accounts.models import User
from incubator.accounts.services import get_user_by_email, normalise_email
from incubator.cohorts import services as cohorts
from incubator.cohorts.models import Cohort, Origin, Startup, StartupFounder
from incubator.cohorts.models import Stage as StartupStage
from incubator.core import formatting, markdown
from incubator.core.db import get_required, utcnow
from incubator.core.errors import DomainError
from incubator.core.mail import send_mail
from incubator.core.permissions import Role
from incubator.core.timezones import to_local
from incubator.intake import formspec, pipeline
from incubator.intake.models import Application, Call, LetterTemplate, PendingFounder, Stage
from incubator.orgs.models import Membership, Organisation
from incubator.webhooks.services import emit_for

OUTCOMES = ("accepted", "waitlisted", "rejected")
PLACEHOLDERS = ("applicant_name", "call_title", "org_name", "cohort_name", "team_name")

DEFAULT_LETTERS = {
    ("accepted", "en"): ("Your application to {call_title} is accepted",
                         "Dear {applicant_name},\n\nCongratulations: {team_name} is accepted into {cohort_name}."
                         "\nWe will write soon about the next steps.\n\n{org_name}"),
    ("accepted", "vi"): ("Hồ sơ của bạn cho {call_title} đã được chấp nhận",
                         "Chào {applicant_name},\n\nChúc mừng: {team_name} đã được nhận vào {cohort_name}."
                         "\nChúng tôi sẽ sớm liên hệ về các bước tiếp theo.\n\n{org_name}"),
    ("waitlisted", "en"): ("Your application to {call_title}: waiting list",
                           "Dear {applicant_name},\n\n{team_name} is on the waiting list of {call_title}. We will "
                           "write if a place opens.\n\n{org_name}"),
    ("waitlisted", "vi"): ("Hồ sơ của bạn cho {call_title}: danh sách chờ",
                           "Chào {applicant_name},\n\n{team_name} đang ở danh sách chờ của {call_title}. Chúng tôi "
                           "sẽ liên hệ nếu có chỗ trống.\n\n{org_name}"),
    ("rejected", "en"): ("Your application to {call_title}",
                         "Dear {applicant_name},\n\nThank you for applying to {call_title}. We are sorry that "
                         "{team_name} was not selected this time.\n\n{org_name}"),
    ("rejected", "vi"): ("Hồ sơ của bạn cho {call_title}",
                         "Chào {applicant_name},\n\nCảm ơn bạn đã ứng tuyển {call_title}. Rất tiếc {team_name} "
                         "chưa được chọn lần này.\n\n{org_name}"),
}


def decide(session: Session, application: Application, actor: User, membership: Any, decision: str,
           cohort: Cohort | None = None, comment: str = "") -> Application:
    if decision not in OUTCOMES:
        raise DomainError(_("Not a valid choice."), fields={"decision": _("Choose accepted, waitlisted or rejected.")})
    joining: Cohort | None = None  # set exactly when the decision is "accepted"
    if decision == "accepted":
        joining = cohort or application.call.cohort
        if joining is None or joining.org_id != application.org_id:
            raise DomainError(_("Choose the cohort the startup joins."), code="cohort_required",
                              fields={"cohort_id": _("Choose the cohort the startup joins.")})
    pipeline.move(session, application, actor, membership, decision, comment, deciding=True)
    if joining is not None:
        org = get_required(session, Organisation, application.org_id)
        startup = create_startup(session, org, application)
        cohorts.enrol(session, joining, startup, to_local(utcnow(), org.timezone).date())
        application.decided_cohort_id = joining.id
    application.letter_sent_at = None
    session.flush()
    emit_for(application, "application.decided", "call_id", "stage", "decided_cohort_id", "startup_id")
    return application


def _answer(application: Application, *keys: str) -> str:
    for key in keys:
        value = application.answers.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


# Answers that describe the startup, by the question keys forms use for them.
STAGE_KEYS = ("stage", "startup_stage")
ORIGIN_KEYS = ("origin", "startup_origin")
SECTOR_KEYS = ("sector", "sectors", "industry")
INSTITUTION_KEYS = ("partner_institution", "institution", "university")
# Option keys forms commonly use for a startup's stage or origin, beside the platform's own.
STAGE_ALIASES = {"concept": StartupStage.IDEA, "ideation": StartupStage.IDEA, "poc": StartupStage.PROTOTYPE,
                 "pilot": StartupStage.MVP, "early_revenue": StartupStage.REVENUE, "scale": StartupStage.GROWTH,
                 "scaling": StartupStage.GROWTH, "scaleup": StartupStage.GROWTH}
ORIGIN_ALIASES = {"spinoff": Origin.UNIVERSITY_SPINOFF, "spin_off": Origin.UNIVERSITY_SPINOFF,
                  "university": Origin.UNIVERSITY_SPINOFF, "corporate": Origin.ENTERPRISE,
                  "state": Origin.STATE_PROGRAMME, "government": Origin.STATE_PROGRAMME}


def _question(application: Application, keys: tuple[str, ...]) -> dict[str, Any] | None:
    by_key = {q["key"]: q for q in application.form_version.questions}
    return next((by_key[k] for k in keys if k in by_key and not formspec.is_empty(application.answers.get(k))),
                None)


def answer_text(question: dict[str, Any], value: Any, locale: str) -> str:
    """An answer as words: a choice's label (not its key) in ``locale``, several joined by commas."""
    if formspec.is_empty(value):
        return ""
    if question["type"] == "single_choice":
        return formspec.option_label(question, str(value), locale)
    if question["type"] == "multiple_choice":
        return ", ".join(formspec.option_label(question, str(v), locale) for v in value)
    return str(value).strip()


def _enum_answer(application: Application, keys: tuple[str, ...], enum: Any, aliases: dict[str, Any],
                 locale: str) -> tuple[Any, str | None]:
    """(the enum member the answer maps to or None, the answer's text when it does not map)."""
    question = _question(application, keys)
    if question is None:
        return None, None
    value = application.answers[question["key"]]
    candidates = [value] if isinstance(value, str) else []
    if question["type"] in formspec.CHOICE_TYPES and isinstance(value, str):
        option: dict[str, Any] = next((o for o in question.get("options", []) if o["value"] == value), {})
        candidates += [option.get("label_en", ""), option.get("label_vi", "")]
    for candidate in candidates:
        key = re.sub(r"[\s-]+", "_", candidate.strip().lower())
        if key in set(enum):
            return enum(key), None
        if key in aliases:
            return aliases[key], None
        by_label = next((m for m in enum if key == re.sub(r"[\s-]+", "_", str(m.label).lower())), None)
        if by_label is not None:
            return by_label, None
    return None, f"{answer_text(question, value, locale)} ({formspec.label(question, locale)})"


def startup_fields(application: Application, locale: str) -> tuple[dict[str, Any], list[str]]:
    """What the startup of an accepted application takes from its answers: ``(fields for
    cohorts.save_startup, what could not be mapped)``. Choices become their labels in ``locale`` (the
    organisation's language for the stored fields, the reader's for the messages); the stage and
    origin must map onto the startup's own lists, and an answer that does not is named, not guessed."""
    data: dict[str, Any] = {"name": application.display_name[:255],
                            "description": _answer(application, "description", "pitch", "problem"),
                            "website": _answer(application, "website", "url")[:255] or None,
                            "registration_number": _answer(application, "registration_number", "tax_code",
                                                           "business_registration")[:40] or None,
                            "legal_name": _answer(application, "legal_name", "company_name")[:255] or None}
    sector = _question(application, SECTOR_KEYS)
    data["sector"] = answer_text(sector, application.answers[sector["key"]], locale)[:120] if sector else ""
    institution = _question(application, INSTITUTION_KEYS)
    if institution is not None:
        data["partner_institution"] = answer_text(institution, application.answers[institution["key"]],
                                                  locale)[:255]
    problems = []
    stage, unmapped = _enum_answer(application, STAGE_KEYS, StartupStage, STAGE_ALIASES, locale)
    if stage is not None:
        data["stage"] = stage
    elif unmapped:
        problems.append(_("The answer %(answer)s is not one of the startup stages; the startup's stage is left at "
                          "%(default)s: correct it on the startup's page.", answer=unmapped,
                          default=StartupStage.IDEA.label))
    origin, unmapped = _enum_answer(application, ORIGIN_KEYS, Origin, ORIGIN_ALIASES, locale)
    if origin is not None:
        data["origin"] = origin
    elif unmapped:
        problems.append(_("The answer %(answer)s is not one of the startup origins; the startup's origin is left at "
                          "%(default)s: correct it on the startup's page.", answer=unmapped,
                          default=Origin.INDEPENDENT.label))
    team = team_of(application)
    size = application.answers.get("team_size")
    data["team_size"] = int(size) if isinstance(size, int | float) and not isinstance(size, bool) and \
        1 <= size <= 100000 else max(1, len(team) + 1)
    return data, problems


def team_of(application: Application) -> list[dict[str, str]]:
    return [m for q in application.form_version.questions if q["type"] == "team_members"
            for m in application.answers.get(q["key"], [])]


def mapping_problems(application: Application, locale: str) -> list[str]:
    """What the startup could not take from an accepted application's answers, for the manager to fix."""
    if application.stage != Stage.ACCEPTED:
        return []
    return startup_fields(application, locale)[1]


def create_startup(session: Session, org: Organisation, application: Application) -> Startup:
    """The startup of an accepted application, from its answers (``startup_fields``); its team become founders."""
    data, _problems = startup_fields(application, org.default_locale)
    team = team_of(application)
    if data["registration_number"]:
        existing = session.execute(select(Startup).where(Startup.org_id == org.id, Startup.registration_number
                                                         == data["registration_number"])).scalar_one_or_none()
        startup = existing or cohorts.save_startup(session, org, None, **data)
    else:
        startup = cohorts.save_startup(session, org, None, **data)
    application.startup = startup
    cohorts.add_founder(session, org, startup, application.applicant)
    invite_team(session, org, startup, team, application.applicant)
    return startup


def invite_team(session: Session, org: Organisation, startup: Startup, team: list[dict[str, str]],
                inviter: User) -> None:
    """Team members with an account become founders now; the others get an invitation to join as founders."""
    from incubator.orgs.services import invite

    for member in team:
        email = normalise_email(member["email"])
        user = get_user_by_email(session, email)
        if user is not None:
            membership = session.execute(select(Membership).where(Membership.org_id == org.id,
                                                                  Membership.user_id == user.id)).scalar_one_or_none()
            if membership is None or membership.role == Role.FOUNDER:
                cohorts.add_founder(session, org, startup, user)
            continue
        try:
            with session.begin_nested():
                invite(session, org, email, Role.FOUNDER, inviter)
        except DomainError:
            pass  # already invited: they are linked below all the same
        if session.execute(select(PendingFounder.id).where(PendingFounder.startup_id == startup.id,
                                                           PendingFounder.email == email)).first() is None:
            session.add(PendingFounder(org_id=org.id, startup_id=startup.id, email=email))
    session.flush()


@event.listens_for(Session, "before_flush")
def _link_pending_founders(session: Session, _context: Any, _instances: Any) -> None:
    """Someone invited as a team member joins the organisation: they become a founder of the startup."""
    joined = [m for m in session.new if isinstance(m, Membership) and m.user is not None]
    if not joined:
        return
    with session.no_autoflush:
        for membership in joined:
            org_id = membership.org_id or (membership.org.id if membership.org is not None else None)
            rows = session.execute(select(PendingFounder).where(
                PendingFounder.org_id == org_id, PendingFounder.email == normalise_email(membership.user.email))
                .execution_options(all_orgs=True)).scalars().all()  # runs on flush, whatever org is in context
            for row in rows:
                startup = session.execute(select(Startup).where(Startup.id == row.startup_id)
                                          # all_orgs: runs on flush, whatever org is in context
                                          .execution_options(all_orgs=True)).scalar_one()
                if not startup.has_founder(membership.user):
                    startup.founders.append(StartupFounder(org_id=startup.org_id, user=membership.user))
                session.delete(row)


# -- letters ----------------------------------------------------------------------------------------

fill = markdown.fill  # the plain substitution of ``{placeholder}``s (the subject, the plain-text part)

# What each placeholder stands for, as the editor lists them.
PLACEHOLDER_HELP = {
    "applicant_name": _l("the applicant's name"),
    "team_name": _l("the startup or team the application names"),
    "call_title": _l("the call's title, in the letter's language"),
    "cohort_name": _l("the cohort an accepted startup joins (empty in other letters)"),
    "org_name": _l("your organisation's name"),
}
SUBJECT_MAX = 255
BODY_MAX = 20000
# A placeholder written another way than {name}: {{ name }}, { name }, {{name}}.
LOOSE_PLACEHOLDER = re.compile(r"{+[ \t]*\w+[ \t]*}+")

# The made-up applicant of the editor's sample letter, by language; the call is the organisation's own.
SAMPLE = {
    "en": {"applicant_name": "Alex Tran", "team_name": "GreenLeaf Robotics",
           "call_title": "Incubation programme 2027", "cohort_name": "Cohort 2027"},
    "vi": {"applicant_name": "Nguyễn Minh Anh", "team_name": "Lá Xanh Robotics",
           "call_title": "Chương trình ươm tạo 2027", "cohort_name": "Khóa ươm tạo 2027"},
}

# The mail's HTML part around the rendered letter (the language and the subject escaped in).
LETTER_DOCUMENT = ('<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{subject}</title></head>\n'
                   "<body>\n{body}</body></html>\n")


@dataclass(frozen=True)
class Letter:
    """A decision letter as it is sent: the subject, the plain-text part (the Markdown with the values
    filled in) and the HTML part (the Markdown rendered, the values as text)."""

    subject: str
    text: str
    html: str

    def document(self, locale: str) -> str:
        """The HTML part as a whole document, as the mail carries it."""
        return LETTER_DOCUMENT.format(lang=escape(locale), subject=escape(self.subject), body=self.html)


def compose(subject: str, body: str, values: dict[str, str]) -> Letter:
    """The one rendering of a letter template, for the mail sent and for every preview."""
    return Letter(subject=" ".join(fill(subject, values).split()), text=fill(body, values),
                  html=markdown.render(body, values))


def _placeholder_errors(text: str) -> str | None:
    unknown = sorted(set(markdown.PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
    if unknown:
        return _("Unknown placeholders: %(names)s.", names=", ".join(unknown))
    loose = sorted({m.group(0) for m in LOOSE_PLACEHOLDER.finditer(text)
                    if not markdown.PLACEHOLDER.fullmatch(m.group(0))})
    if loose:
        return _("Write each placeholder in single braces without spaces, as {applicant_name}: %(found)s.",
                 found=", ".join(loose))
    return None


def check_letter_template(outcome: str, locale: str, subject: str, body: str) -> None:
    """Refuse a letter template that could not be sent as written (``fields`` names what is wrong)."""
    fields = {}
    if outcome not in OUTCOMES:
        fields["outcome"] = _("Not a valid choice.")
    if locale not in ("en", "vi"):
        fields["locale"] = _("Not a valid choice.")
    subject, body = (subject or "").strip(), (body or "").strip()
    for name, text, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        error = _("This field is required.") if not text else _placeholder_errors(text)
        if len(text) > limit:
            error = _("At most %(n)s characters (this one has %(length)s).", n=formatting.number(limit),
                      length=formatting.number(len(text)))
        if error:
            fields[name] = error
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)


def letter_template(session: Session, org_id: int, outcome: str, locale: str) -> tuple[str, str]:
    row = session.execute(select(LetterTemplate).where(LetterTemplate.org_id == org_id,
                                                       LetterTemplate.outcome == outcome,
                                                       LetterTemplate.locale == locale)).scalar_one_or_none()
    if row is not None:
        return row.subject, row.body
    return DEFAULT_LETTERS[(outcome, locale if (outcome, locale) in DEFAULT_LETTERS else "en")]


def save_letter_template(session: Session, org: Organisation, outcome: str, locale: str, subject: str,
                         body: str) -> LetterTemplate:
    check_letter_template(outcome, locale, subject, body)
    row = session.execute(select(LetterTemplate).where(LetterTemplate.org_id == org.id,
                                                       LetterTemplate.outcome == outcome,
                                                       LetterTemplate.locale == locale)).scalar_one_or_none()
    if row is None:
        row = LetterTemplate(org_id=org.id, outcome=outcome, locale=locale, subject="", body="")
        session.add(row)
    row.subject, row.body = subject.strip(), body.strip()
    session.flush()
    return row


def sample_values(session: Session, org: Organisation, outcome: str, locale: str) -> dict[str, str]:
    """The placeholders of the editor's sample letter: a made-up applicant and team, and the
    organisation's latest call (its title in ``locale``, its cohort) when it has one."""
    values = dict(SAMPLE[locale if locale in SAMPLE else "en"], org_name=org.name)
    call = session.execute(select(Call).where(Call.org_id == org.id).order_by(Call.opens_at.desc(), Call.id.desc())
                           .limit(1)).scalar_one_or_none()
    if call is not None:
        values["call_title"] = call.title(locale)
        if call.cohort is not None:
            values["cohort_name"] = call.cohort.name
    if outcome != "accepted":
        values["cohort_name"] = ""  # as in the letters sent: only an accepted startup joins a cohort
    return values


def preview_letter(session: Session, org: Organisation, outcome: str, locale: str, subject: str,
                   body: str) -> Letter:
    """The sample letter of a template as typed, rendered as the mail will be; nothing is saved."""
    check_letter_template(outcome, locale, subject, body)
    return compose(subject.strip(), body.strip(), sample_values(session, org, outcome, locale))


def letter_locale(session: Session, application: Application) -> str:
    org = get_required(session, Organisation, application.org_id)
    return application.applicant.locale or org.default_locale


def render_letter(session: Session, application: Application, locale: str | None = None) -> Letter:
    """The decision letter of an application (its outcome, the applicant's language)."""
    locale = locale or letter_locale(session, application)
    org = get_required(session, Organisation, application.org_id)
    cohort = session.get(Cohort, application.decided_cohort_id) if application.decided_cohort_id else None
    call: Call = application.call
    values = dict(applicant_name=application.applicant.name, call_title=call.title(locale), org_name=org.name,
                  cohort_name=cohort.name if cohort else "", team_name=application.display_name)
    subject, body = letter_template(session, application.org_id, str(application.stage), locale)
    return compose(subject, body, values)


def _letter_due(call: Call) -> Any:
    return (Application.call_id == call.id) & Application.stage.in_([Stage.ACCEPTED, Stage.WAITLISTED,
                                                                     Stage.REJECTED]) \
        & Application.letter_sent_at.is_(None)


def letters_due(session: Session, call: Call) -> list[Application]:
    return list(session.execute(select(Application).where(_letter_due(call)).order_by(Application.id)).scalars())


def letters_due_count(session: Session, call: Call) -> int:
    return session.execute(select(func.count()).select_from(Application).where(_letter_due(call))).scalar_one()


def claim_letter(session: Session, application: Application, now: datetime) -> bool:
    """Mark the application's decision letter as sent, if nobody did yet: one conditional UPDATE, so of
    two senders at once (two clicks, two jobs) exactly one gets the row. On PostgreSQL the second waits
    for the first's row lock, then finds the letter claimed; SQLite runs one writer at a time."""
    # An UPDATE answers a CursorResult (with rowcount); Session.execute is annotated with the base Result.
    claimed = cast(CursorResult[Any], session.execute(
        update(Application).where(Application.id == application.id, Application.stage == application.stage,
                                  Application.letter_sent_at.is_(None))
        .values(letter_sent_at=now).execution_options(synchronize_session=False))).rowcount
    if claimed:
        set_committed_value(application, "letter_sent_at", now)
    return bool(claimed)


def send_letters(session: Session, call: Call) -> int:
    """Send every decision letter not sent yet (run from the ``send_decision_letters`` job), each once:
    a letter is claimed (``claim_letter``) before it is written, and the mail leaves after the commit."""
    sent = 0
    for application in letters_due(session, call):
        if not claim_letter(session, application, utcnow()):
            continue  # another sender has it
        locale = letter_locale(session, application)
        letter = render_letter(session, application, locale)
        send_mail(session, application.applicant.email, letter.subject, letter.text, html=letter.document(locale))
        sent += 1
    session.flush()
    return sent


def queue_letters(session: Session, call: Call) -> int:
    """Send the call's decision letters not sent yet, from a job once this transaction commits; answers
    how many are due (the job claims each, so two requests at once send every letter once)."""
    from incubator.core.jobs import after_commit
    from incubator.intake.tasks import send_decision_letters

    due = len(letters_due(session, call))
    if due:
        after_commit(session, send_decision_letters, call.org_id, call.id)
    return due


def today_in(org: Organisation) -> date:
    return to_local(utcnow(), org.timezone).date()

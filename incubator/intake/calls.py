"""Calls: their settings, their versioned forms and their rubrics (what managers set up).

Plain functions taking the session and what they need; they never commit and raise ``DomainError``.
Two managers may edit the same call: the call's settings are guarded by its ``version`` (``Versioned``),
its form and rubric by a tag of what they hold (``form_tag``, ``rubric_tag``); a mutator given the tags
the editor started from (``expected``) refuses with ``Stale`` (412) when the form or rubric changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from incubator.cohorts.models import Cohort, Programme
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotFound
from incubator.core.pagination import text_filter
from incubator.core.tenancy import lock_row
from incubator.core.versioning import Stale, etag_of, stale_message
from incubator.intake import formspec
from incubator.intake.models import Application, Call, Criterion, FormVersion, Review, ReviewStatus, Stage
from incubator.orgs.models import Organisation

CALL_FIELDS = ("title_en", "title_vi", "description_en", "description_vi", "opens_at", "closes_at", "is_public",
               "cap", "fee_minor", "allow_edits", "blind_review", "reviewers_per_application")
CRITERION_FIELDS = ("key", "label_en", "label_vi", "scale_min", "scale_max", "weight")


def _raise(fields: dict[str, str]) -> None:
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)


# -- settings ---------------------------------------------------------------------------------------

def call_values(call: Call) -> dict[str, Any]:
    """The call's settings as ``save_call`` takes them (a partial update merges into these)."""
    return {name: getattr(call, name) for name in CALL_FIELDS}


def _call_field_errors(org: Organisation, programme: Programme | None, cohort: Cohort | None,
                       data: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in ("title_en", "title_vi"):
        if not (data.get(name) or "").strip():
            fields[name] = _("This field is required.")
    if programme is None or programme.org_id != org.id:
        fields["programme_id"] = _("Not a valid choice.")
    if cohort is not None and (cohort.org_id != org.id or (programme is not None and
                                                            cohort.programme_id != programme.id)):
        fields["cohort_id"] = _("Choose a cohort of the call's programme.")
    fields.update(_date_errors(data.get("opens_at"), data.get("closes_at")))
    if data.get("cap") is not None and data["cap"] < 1:
        fields["cap"] = _("At least 1, or leave it empty for no cap.")
    if data.get("fee_minor") is not None and data["fee_minor"] < 0:
        fields["fee_minor"] = _("Must not be negative.")
    if not 1 <= (data.get("reviewers_per_application") or 0) <= 10:
        fields["reviewers_per_application"] = _("From 1 to 10.")
    return fields


def _date_errors(opens: Any, closes: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not isinstance(opens, datetime):
        fields["opens_at"] = _("This field is required.")
    if not isinstance(closes, datetime):
        fields["closes_at"] = _("This field is required.")
    elif isinstance(opens, datetime) and closes <= opens:
        fields["closes_at"] = _("The call must close after it opens.")
    return fields


def save_call(session: Session, org: Organisation, call: Call | None, *, programme: Programme | None,
              cohort: Cohort | None = None, **data: Any) -> Call:
    """Create a call (with its first, empty form version) or change its settings."""
    _raise(_call_field_errors(org, programme, cohort, data))
    if programme is None:  # reported in the fields above, so _raise has raised already
        raise DomainError(_("Not a valid choice."), fields={"programme_id": _("Not a valid choice.")})
    if call is None:
        call = Call(org_id=org.id)
        session.add(call)
    call.programme_id = programme.id
    call.cohort_id = cohort.id if cohort is not None else None
    for name in CALL_FIELDS:
        if name in data:
            value = data[name]
            setattr(call, name, value.strip() if isinstance(value, str) else value)
    session.flush()
    if not call.versions:
        call.versions.append(FormVersion(org_id=org.id, number=1, questions=[]))
        session.flush()
    return call


STATUSES = ("upcoming", "open", "closed")


def calls_stmt(org: Organisation, *, status: str | None = None, q: str = "") -> Select[Any]:
    """The organisation's calls, latest deadline first; ``status`` upcoming, open or closed (now);
    ``q`` searches the titles."""
    stmt = select(Call).where(Call.org_id == org.id)
    now = utcnow()
    if status == "upcoming":
        stmt = stmt.where(Call.opens_at > now)
    elif status == "open":
        stmt = stmt.where(Call.opens_at <= now, Call.closes_at > now)
    elif status == "closed":
        stmt = stmt.where(Call.closes_at <= now)
    found = text_filter(q, Call.title_en, Call.title_vi)
    if found is not None:
        stmt = stmt.where(found)
    return stmt.order_by(Call.closes_at.desc(), Call.id.desc())


def application_counts(session: Session, calls: Collection[Call]) -> dict[int, int]:
    """``{call id: applications submitted (not drafts)}`` for the managers' list."""
    if not calls:
        return {}
    rows = session.execute(select(Application.call_id, func.count()).where(
        Application.call_id.in_([c.id for c in calls]), Application.stage != Stage.DRAFT)
        .group_by(Application.call_id)).all()
    return {call_id: count for call_id, count in rows}


# -- tags: what two editors compare -----------------------------------------------------------------

def form_tag(call: Call) -> str:
    """The current form's entity tag (unquoted): a new version or any edit of this one changes it."""
    return etag_of(call.current_form).strip('"')


def rubric_tag(call: Call) -> str:
    """The rubric's entity tag (unquoted), from what its criteria hold."""
    content = [[c.key, c.label_en, c.label_vi, c.scale_min, c.scale_max, float(c.weight), c.levels or {}]
               for c in call.criteria]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:32]


def _check_tag(current: str, expected: Collection[str] | None) -> None:
    """``expected``: the tags the editor started from (None: not checked)."""
    if expected is not None and current not in expected:
        message = stale_message()
        raise Stale(message, fields={"version": message})


# -- the form ---------------------------------------------------------------------------------------

def set_questions(session: Session, call: Call, questions: list[dict[str, Any]],
                  expected: Collection[str] | None = None) -> FormVersion:
    """Replace the form's questions. Once any application answered the current version, a new one is made."""
    if call.id is not None:
        lock_row(session, call)  # two editors of the form: one at a time, the second compares afresh
    current = call.current_version
    if current is not None:
        _check_tag(form_tag(call), expected)
    used = current is not None and session.execute(
        select(Application.id).where(Application.form_version_id == current.id).limit(1)).first() is not None
    if current is None or used:
        current = FormVersion(org_id=call.org_id, number=(current.number + 1) if current else 1, questions=[])
        call.versions.append(current)
    current.questions = [dict(q) for q in questions]
    session.flush()
    return current


def _clean(raw: dict[str, Any], existing: set[str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return formspec.clean_question(raw, existing, previous)
    except formspec.SpecError as error:
        raise DomainError(_("Please correct the highlighted fields."), fields=error.fields) from None


def _index_of(questions: list[dict[str, Any]], key: str) -> int:
    index = next((i for i, q in enumerate(questions) if q["key"] == key), None)
    if index is None:
        raise NotFound(_("No such question."))
    return index


def add_question(session: Session, call: Call, raw: dict[str, Any],
                 expected: Collection[str] | None = None) -> FormVersion:
    """Add a question at the end; without a ``key`` one is made from its English label."""
    questions = list(call.current_version.questions) if call.current_version else []
    question = _clean(raw, {q["key"] for q in questions})
    return set_questions(session, call, [*questions, question], expected)


def edit_question(session: Session, call: Call, key: str, raw: dict[str, Any],
                  expected: Collection[str] | None = None) -> FormVersion:
    """Change the question ``key``: its key stays, and so do its options' values (answers are stored under
    them); an option added gets a value made from its label."""
    questions = list(call.current_form.questions)
    index = _index_of(questions, key)
    questions[index] = _clean({**raw, "key": key}, {q["key"] for q in questions} - {key}, questions[index])
    return set_questions(session, call, questions, expected)


def remove_question(session: Session, call: Call, key: str, expected: Collection[str] | None = None) -> FormVersion:
    questions = call.current_form.questions
    _index_of(questions, key)
    return set_questions(session, call, [q for q in questions if q["key"] != key], expected)


def move_question(session: Session, call: Call, key: str, offset: int,
                  expected: Collection[str] | None = None) -> FormVersion:
    questions = list(call.current_form.questions)
    index = _index_of(questions, key)
    target = index + offset
    if not 0 <= target < len(questions):
        return call.current_form
    questions[index], questions[target] = questions[target], questions[index]
    return set_questions(session, call, questions, expected)


def replace_questions(session: Session, call: Call, raws: Any, expected: Collection[str] | None = None) -> FormVersion:
    """The whole form at once (the API's PUT): every question checked, keys unique; errors name
    ``questions.<index>.<field>``. A question without a ``key`` takes the key of the current question with
    the same English label (so sending the form back unchanged renames nothing), else one made from its
    label; a question keeps its options' values as ``edit_question`` does."""
    if not isinstance(raws, list):
        _raise({"questions": _("Give a list of questions.")})
    current = list(call.current_version.questions) if call.current_version else []
    given = {str(raw.get("key") or "").strip() for raw in raws if isinstance(raw, dict)} - {""}
    by_key = {q["key"]: q for q in current}
    by_label: dict[str, dict[str, Any]] = {}
    for q in current:
        by_label.setdefault(str(q.get("label_en", "")).strip().casefold(), q)
    questions: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    for index, raw in enumerate(raws):
        if not isinstance(raw, dict):
            fields[f"questions.{index}"] = _("Not a valid choice.")
            continue
        taken = {q["key"] for q in questions}
        previous = by_key.get(str(raw.get("key") or "").strip())
        if not str(raw.get("key") or "").strip():
            same = by_label.get(str(raw.get("label_en") or "").strip().casefold())
            if same is not None and same["key"] not in taken and same["key"] not in given:
                raw, previous = {**raw, "key": same["key"]}, same
        try:
            # A key made afresh is none of the current questions' (a question left out does not pass
            # its answers on to a new one).
            questions.append(formspec.clean_question(raw, taken, previous, reserved=given | set(by_key)))
        except formspec.SpecError as error:
            fields.update({f"questions.{index}.{name}": message for name, message in error.fields.items()})
    _raise(fields)
    return set_questions(session, call, questions, expected)


# -- the rubric -------------------------------------------------------------------------------------

def _criterion_errors(data: dict[str, Any], taken: set[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = data["key"]
    if not formspec.KEY_RE.match(key):
        fields["key"] = _("Use lowercase letters, digits and underscores, starting with a letter.")
    elif key in taken:
        fields["key"] = _("Another criterion has this key.")
    if not data["label_en"]:
        fields["label_en"] = _("This field is required.")
    if not data["label_vi"]:
        fields["label_vi"] = _("This field is required.")
    low, high = data["scale_min"], data["scale_max"]
    if not isinstance(low, int) or not isinstance(high, int) or isinstance(low, bool) or isinstance(high, bool) \
            or high <= low or abs(low) > 10**6 or abs(high) > 10**6:
        fields["scale_max"] = _("The top of the scale must be above its bottom.")
    weight = data["weight"]
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 100:
        fields["weight"] = _("A weight above 0, at most 100.")
    return fields


LEVEL_TEXT_MAX = 1000
LEVELS_SHOWN_MAX = 21  # a scale of up to this many scores gets a row for each on the rubric page


def _criterion_data(raw: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {name: raw.get(name) for name in CRITERION_FIELDS}
    for name in ("key", "label_en", "label_vi"):
        value = data[name]
        data[name] = value.strip() if isinstance(value, str) else ""
    data["levels"] = raw.get("levels")  # None: as they are
    return data


def clean_levels(raw: Any, scale_min: Any, scale_max: Any) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """What the scores mean, checked: ``({"<score>": {"en": ..., "vi": ...}}, {field: message})``. Each key
    is a whole score within the scale; a score with neither text is left out. Errors name ``levels`` or
    ``levels.<score>``."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        return {}, {"levels": _("Give the scores' descriptions as an object of score: texts.")}
    scale = isinstance(scale_min, int) and isinstance(scale_max, int) and scale_min < scale_max
    clean: dict[str, dict[str, str]] = {}
    fields: dict[str, str] = {}
    for key, texts in raw.items():
        try:
            score = int(str(key).strip())
        except ValueError:
            score = None
        if score is None or str(score) != str(key).strip() or (scale and not scale_min <= score <= scale_max):
            fields[f"levels.{key}"] = _("Not a score of the scale (%(low)s to %(high)s).", low=scale_min,
                                        high=scale_max)
            continue
        if not isinstance(texts, dict) or set(texts) - {"en", "vi"} \
                or not all(isinstance(t, str) for t in texts.values()):
            fields[f"levels.{key}"] = _("Give the description in English (en) and Vietnamese (vi).")
            continue
        said = {lang: texts.get(lang, "").strip() for lang in ("en", "vi")}
        if any(len(text) > LEVEL_TEXT_MAX for text in said.values()):
            fields[f"levels.{key}"] = _("At most %(n)d characters.", n=LEVEL_TEXT_MAX)
            continue
        if said["en"] or said["vi"]:
            clean[str(score)] = said
    return dict(sorted(clean.items(), key=lambda item: int(item[0]))), fields


def level_scores(criterion: Criterion) -> list[int]:
    """The scores the rubric page gives a description row: each of a short scale's, else its ends and any
    described already."""
    if criterion.scale_max - criterion.scale_min < LEVELS_SHOWN_MAX:
        return list(range(criterion.scale_min, criterion.scale_max + 1))
    return sorted({criterion.scale_min, criterion.scale_max, *(int(s) for s in criterion.levels or {})})


def _rubric_open(session: Session, call: Call, expected: Collection[str] | None) -> None:
    if call.id is not None:
        lock_row(session, call)  # two editors of the rubric: one at a time, the second compares afresh
    _check_tag(rubric_tag(call), expected)
    _check_rubric_unused(session, call)


def _fill(criterion: Criterion, data: dict[str, Any]) -> None:
    criterion.key, criterion.label_en, criterion.label_vi = data["key"], data["label_en"], data["label_vi"]
    criterion.scale_min, criterion.scale_max = data["scale_min"], data["scale_max"]
    criterion.weight = float(data["weight"])
    if data.get("levels") is not None:
        criterion.levels = data["levels"]
    else:  # kept, less any score the scale no longer has
        criterion.levels = {score: texts for score, texts in (criterion.levels or {}).items()
                            if criterion.scale_min <= int(score) <= criterion.scale_max}


def _errors_and_levels(data: dict[str, Any], taken: set[str]) -> dict[str, str]:
    """The criterion's field errors; its levels cleaned in place (kept as None when not given)."""
    fields = _criterion_errors(data, taken)
    if data["levels"] is not None:
        data["levels"], level_fields = clean_levels(data["levels"], data["scale_min"], data["scale_max"])
        fields.update(level_fields)
    return fields


def save_criterion(session: Session, call: Call, criterion: Criterion | None, *, key: str, label_en: str,
                   label_vi: str, scale_min: int, scale_max: int, weight: float,
                   levels: dict[str, Any] | None = None, expected: Collection[str] | None = None) -> Criterion:
    """Add or change a criterion; ``levels`` (None: as they are) says what its scores mean."""
    data = _criterion_data({"key": key, "label_en": label_en, "label_vi": label_vi, "scale_min": scale_min,
                            "scale_max": scale_max, "weight": weight, "levels": levels})
    fields = _errors_and_levels(data, {c.key for c in call.criteria if c is not criterion})
    _rubric_open(session, call, expected)
    _raise(fields)
    if criterion is None:
        criterion = Criterion(org_id=call.org_id, position=len(call.criteria))
        call.criteria.append(criterion)
    _fill(criterion, data)
    session.flush()
    return criterion


def set_levels(session: Session, call: Call, criterion: Criterion, levels: Any,
               expected: Collection[str] | None = None) -> Criterion:
    """Replace what the criterion's scores mean (the rubric page's descriptions of one criterion)."""
    clean, fields = clean_levels(levels, criterion.scale_min, criterion.scale_max)
    _rubric_open(session, call, expected)
    _raise(fields)
    criterion.levels = clean
    session.flush()
    return criterion


def remove_criterion(session: Session, call: Call, criterion: Criterion,
                     expected: Collection[str] | None = None) -> None:
    _rubric_open(session, call, expected)
    call.criteria.remove(criterion)
    session.flush()


def replace_rubric(session: Session, call: Call, raws: Any, expected: Collection[str] | None = None) -> list[Criterion]:
    """The whole rubric at once (the API's PUT): criteria in order; errors name ``criteria.<index>.<field>``
    (``criteria.<index>.levels.<score>`` for a description of a score off the scale). A criterion sent
    without ``levels`` keeps its own."""
    if not isinstance(raws, list):
        _raise({"criteria": _("Give a list of criteria.")})
    fields: dict[str, str] = {}
    cleaned: list[dict[str, Any]] = []
    for index, raw in enumerate(raws):
        data = _criterion_data(raw if isinstance(raw, dict) else {})
        errors = _errors_and_levels(data, {c["key"] for c in cleaned})
        fields.update({f"criteria.{index}.{name}": message for name, message in errors.items()})
        cleaned.append(data)
    _rubric_open(session, call, expected)
    _raise(fields)
    by_key = {c.key: c for c in call.criteria}
    kept = []
    for position, data in enumerate(cleaned):
        criterion = by_key.pop(data["key"], None) or Criterion(org_id=call.org_id)
        _fill(criterion, data)
        criterion.position = position
        kept.append(criterion)
    call.criteria[:] = kept  # the criteria left out are deleted (delete-orphan)
    session.flush()
    return kept


def _check_rubric_unused(session: Session, call: Call) -> None:
    """Once a review is submitted against the rubric it stays, so that scores keep their meaning."""
    used = session.execute(select(Review.id).join(Application).where(
        Application.call_id == call.id, Review.status == ReviewStatus.SUBMITTED).limit(1)).first()
    if used is not None:
        raise DomainError(_("Reviews were already submitted against this rubric; it can no longer change."),
                          code="rubric_in_use")

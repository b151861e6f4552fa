"""Every value of every enum a page shows has a label in Vietnamese and English, through the filter the
templates call it with: an option key ("awaiting_payment", "university_spinoff") never reaches a page."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from incubator.booking.models import BookingStatus
from incubator.cohorts.models import (
    EnrolmentStatus,
    Frequency,
    KpiType,
    MilestoneStatus,
    Origin,
    ProgrammeKind,
    ResourceKind,
    Stage,
)
from incubator.core.permissions import Role
from incubator.intake import formspec
from incubator.intake.models import Recommendation, ReviewStatus
from incubator.intake.models import Stage as ApplicationStage
from incubator.ledger.models import LedgerKind, PaymentStatus
from incubator.mentoring.models import ConflictKind, MatchStatus, SessionStatus
from incubator.orgs.models import OrgKind

# (the values, the filter the templates show them with): grep -rn "|<filter>" templates
SHOWN = [
    *((kind, "enum_label") for kind in (ProgrammeKind, Stage, Origin, ResourceKind, EnrolmentStatus,
                                        MilestoneStatus, Frequency, KpiType)),
    (BookingStatus, "booking_status_label"),
    (Role, "role_label"),
    (OrgKind, "org_kind_label"),
    (ApplicationStage, "stage_label"),
    (ApplicationStage, "applicant_stage"),
    (Recommendation, "recommendation_label"),
    (ReviewStatus, "review_status_label"),
    (PaymentStatus, "payment_status_label"),
    (LedgerKind, "ledger_kind_label"),
    (ConflictKind, "conflict_label"),
    (MatchStatus, "match_status_label"),
    (SessionStatus, "session_status_label"),
    (list(formspec.QUESTION_TYPES), "qtype_label"),
]
CASES = [(name, str(value)) for values, name in SHOWN for value in values]
WORD = re.compile(r"^[a-z]+$")  # a key that is already a word ("paid") may read as itself in English
LOANWORDS = {"hackathon", "mvp", "email"}  # written so in Vietnamese too


@pytest.mark.parametrize(("filter_name", "value"), CASES, ids=[f"{n}:{v}" for n, v in CASES])
def test_every_value_has_a_label_in_both_languages(app, filter_name, value):
    label = app.jinja_env.filters[filter_name]
    with app.test_request_context("/"):
        with force_locale("vi"):
            vi = str(label(value))
        with force_locale("en"):
            en = str(label(value))
    assert vi and en
    assert "_" not in vi and "_" not in en, (vi, en)
    assert en != value or WORD.match(value), f"{value!r} has no English label"
    if value not in LOANWORDS:
        assert vi.lower() != value, f"{value!r} has no Vietnamese label"
        assert vi != en, f"{value!r}: the Vietnamese label is the English one ({en!r})"


def test_the_walk_covers_every_enum_filter_the_templates_use(app):
    """A new ``*_label`` filter in the templates comes with its values in ``SHOWN``."""
    from pathlib import Path

    used = set()
    for path in (Path(app.root_path).parent / "templates").rglob("*.html"):
        used |= set(re.findall(r"\|\s*(\w+_label|applicant_stage)\b", path.read_text()))
    walked = {name for _values, name in SHOWN}
    # matching criteria, a form's own questions and options, a startup's gaps, a file input's accepted
    # types (their own names: PDF, PNG): texts, not enums
    not_enums = {"criterion_label", "question_labels", "option_label", "gap_label", "accept_label"}
    assert used - not_enums <= walked, sorted(used - not_enums - walked)

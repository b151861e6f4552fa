"""The application funnel is counted by the database (GROUP BY stage and origin answers): property
test against an independent count of the same rows in Python, whatever the answers hold (missing,
blank, padded, not a string, a country before an origin), the stage, the reviews and the dates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.core.permissions import Role
from incubator.intake.models import Review, ReviewStatus, Stage
from incubator.intake.reporting import application_funnel
from tests.factories import CohortFactory, member
from tests.intake.fixtures import application, make_call

PROPERTY = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
T0 = datetime(2026, 3, 1, tzinfo=UTC)
answer_values = st.one_of(st.none(), st.sampled_from(["", "  ", "vn", " vn ", "\tkr\n", "Việt Nam", "KR"]),
                          st.integers(0, 3), st.booleans(), st.just(["vn"]), st.just({"c": "vn"}))
row = st.fixed_dictionaries({
    "stage": st.sampled_from(list(Stage)),
    "country": st.one_of(st.just("missing"), answer_values),
    "origin": st.one_of(st.just("missing"), answer_values),
    "reviews": st.lists(st.sampled_from(list(ReviewStatus)), max_size=2),
    "day": st.integers(-3, 3),  # submitted days before or after T0 (the window starts at T0)
    "other_cohort": st.booleans(),
})


def expected_origin(answers: dict) -> str:
    """Written out again here: the country when it is a non-blank string, else the origin, else unknown."""
    for key in ("country", "origin"):
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "unknown"


@PROPERTY
@given(rows=st.lists(row, max_size=8))
def test_the_funnel_counted_in_sql_matches_a_count_of_the_rows(session, intake, rows):
    savepoint = session.begin_nested()
    try:
        other = CohortFactory(programme=intake.programme, org_id=intake.org.id)
        calls = {False: make_call(intake.org, intake.programme, intake.cohort),
                 True: make_call(intake.org, intake.programme, other)}
        reviewers = [member(intake.org, Role.REVIEWER) for _ in range(2)]
        kept = []
        for spec in rows:
            answers = {"startup_name": "S"} | {k: spec[k] for k in ("country", "origin") if spec[k] != "missing"}
            record = application(calls[spec["other_cohort"]], member(intake.org, Role.FOUNDER), spec["stage"],
                                 answers)
            if record.submitted_at is not None:
                record.submitted_at = T0 + timedelta(days=spec["day"])
            for reviewer, status in zip(reviewers, spec["reviews"], strict=False):
                session.add(Review(org_id=intake.org.id, application=record, reviewer=reviewer, status=status,
                                   scores={}))
            if spec["stage"] != Stage.DRAFT and spec["day"] >= 0 and not spec["other_cohort"]:
                kept.append((spec, answers))
        session.flush()

        found = application_funnel(session, org_ids=[intake.org.id], cohort_ids=[intake.cohort.id], start=T0)
        accepted = [a for s, a in kept if s["stage"] == Stage.ACCEPTED]
        assert found["applications"] == len(kept)
        assert found["reviewed"] == sum(1 for s, _a in kept if ReviewStatus.SUBMITTED in s["reviews"])
        assert found["accepted"] == len(accepted)
        assert found["by_origin"] == dict(Counter(expected_origin(a) for _s, a in kept))
        assert found["accepted_by_origin"] == dict(Counter(expected_origin(a) for a in accepted))
        assert found["acceptance_rate"] == (len(accepted) / len(kept) if kept else 0)
    finally:
        savepoint.rollback()


def test_the_funnel_runs_one_query_whatever_the_number_of_applications(app, session, intake):
    from tests.conftest import statements

    def queries() -> int:
        with statements(app) as seen:
            application_funnel(session, org_ids=[intake.org.id])
        return len(seen)

    application(intake.call, member(intake.org, Role.FOUNDER), Stage.SUBMITTED, {"country": "vn"})
    session.flush()
    few = queries()
    for n in range(12):
        application(intake.call, member(intake.org, Role.FOUNDER), Stage.ACCEPTED, {"country": f"c{n % 3}"})
    session.flush()
    assert queries() == few == 1
    assert application_funnel(session, org_ids=[intake.org.id])["applications"] == 13

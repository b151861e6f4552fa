"""The ranking computed from light rows and paginated: the same figures and order as a recomputation
from the loaded applications and reviews, pages that hold their number of queries, bulk actions and
filters that keep their place across pages, labels translated once per language."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.intake import ranking
from incubator.intake.models import Application, Criterion, Review, ReviewStatus, Stage
from tests.conftest import csrf_token, page_queries, statements
from tests.factories import member
from tests.intake.fixtures import application

STAGES = [Stage.DRAFT, Stage.SUBMITTED, Stage.SCREENING, Stage.IN_REVIEW, Stage.INTERVIEW, Stage.REJECTED]
# "  ": the applicant's name stands in
NAMES = ["Alpha", "alpha", "Beta", "  ", "Gamma", "delta", "Epsilon", "zeta", "Eta"]

criteria_st = st.lists(st.tuples(st.integers(0, 2), st.integers(1, 10), st.sampled_from([0.5, 1, 2, 3])),
                       min_size=1, max_size=3)
review_st = st.one_of(st.none(), st.just("assigned"), st.just("conflict"),
                      st.tuples(st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=3, max_size=3),
                                st.sampled_from(["yes", "maybe", "no", None])))
application_st = st.tuples(st.sampled_from(STAGES), st.sampled_from(NAMES), st.integers(0, 3),
                           st.lists(review_st, min_size=3, max_size=3))
world_st = st.tuples(criteria_st, st.lists(application_st, min_size=3, max_size=10))


def _build(session, intake, world):
    """The call's rubric and applications as ``world`` says; the reviews' scores clipped to each scale,
    a None leaving the criterion out (it counts as the scale's minimum)."""
    criteria_spec, apps_spec = world
    intake.call.criteria = [Criterion(org_id=intake.org.id, key=f"c{i}", label_en=f"C{i}", label_vi=f"C{i}",
                                      scale_min=low, scale_max=low + span, weight=weight, position=i)
                            for i, (low, span, weight) in enumerate(criteria_spec)]
    session.flush()
    start = utcnow()
    for stage, name, minutes, reviews in apps_spec:
        made = application(intake.call, member(intake.org, Role.FOUNDER, name=f"Founder {name.strip() or 'x'}"),
                           stage, answers={"startup_name": name, "pitch": "p", "country": "vn"})
        made.submitted_at = None if stage == Stage.DRAFT else start + timedelta(minutes=minutes)
        for reviewer, spec in zip(intake.reviewers, reviews, strict=True):
            if spec is None:
                continue
            record = Review(org_id=intake.org.id, application=made, reviewer=reviewer)
            if spec == "conflict":
                record.status = ReviewStatus.CONFLICT
            elif spec != "assigned":
                values, recommendation = spec
                record.status, record.recommendation = ReviewStatus.SUBMITTED, recommendation
                record.scores = {c.key: min(c.scale_max, max(c.scale_min, v))
                                 for c, v in zip(intake.call.criteria, values, strict=False) if v is not None}
            session.add(record)
    session.flush()


def _recomputed(session, call, *, stage=None, sort="total", min_reviews=0):
    """The ranking after the definitions in ``intake.ranking``'s docstring, from the loaded rows."""
    criteria = list(call.criteria)
    weights = sum(c.weight for c in criteria)
    applications = [a for a in session.execute(select(Application).where(Application.call_id == call.id)
                                               .order_by(Application.id)).scalars() if a.stage != Stage.DRAFT]

    def weighted(review):
        points = sum(c.weight * (float(review.scores.get(c.key, c.scale_min)) - c.scale_min)
                     / (c.scale_max - c.scale_min) for c in criteria)
        return round(100 * points / weights, 4)

    submitted = [r for a in applications for r in a.reviews if r.status == ReviewStatus.SUBMITTED]
    z = {}
    for reviewer_id in {r.reviewer_id for r in submitted}:
        own = [r for r in submitted if r.reviewer_id == reviewer_id]
        totals = [weighted(r) for r in own]
        mean, deviation = statistics.fmean(totals), statistics.pstdev(totals)
        z.update({r.id: 0.0 if deviation == 0 else (weighted(r) - mean) / deviation for r in own})
    out = []
    for a in applications:
        own = [r for r in a.reviews if r.status == ReviewStatus.SUBMITTED]
        if (stage and a.stage != stage) or len(own) < min_reviews:
            continue
        total = round(math.fsum(weighted(r) for r in own) / len(own), 2) if own else None
        normalised = round(math.fsum(z[r.id] for r in own) / len(own), 3) if own else None
        out.append({"id": a.id, "name": a.display_name, "applicant": a.applicant.name, "stage": str(a.stage),
                    "reviews": len(own), "assigned": sum(r.status != ReviewStatus.CONFLICT for r in a.reviews),
                    "total": total, "normalised": normalised, "submitted_at": a.submitted_at,
                    "recommendations": Counter(r.recommendation or "" for r in own)})
    keys = {"total": lambda r: (r["total"] is None, -(r["total"] or 0)),
            "normalised": lambda r: (r["normalised"] is None, -(r["normalised"] or 0)),
            "name": lambda r: r["name"].lower(),
            "submitted": lambda r: (r["submitted_at"] is None, r["submitted_at"])}
    return sorted(out, key=keys[sort])  # stable: ties stay in the order the applications came in


def _as_dict(row, assigned=True):
    out = {"id": row.application_id, "name": row.name, "applicant": row.applicant_name, "stage": str(row.stage),
           "reviews": row.review_count, "total": row.total, "normalised": row.normalised,
           "recommendations": row.recommendations}
    if assigned:
        out["assigned"] = row.assigned
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=world_st, stage=st.sampled_from([None, None, None, Stage.SUBMITTED, Stage.IN_REVIEW]),
       sort=st.sampled_from(list(ranking.SORTS)), min_reviews=st.sampled_from([0, 0, 1, 2]),
       per_page=st.integers(1, 4))
def test_the_ranking_and_its_pages_match_a_recomputation_from_the_rows(app, session, intake, world, stage, sort,
                                                                         min_reviews, per_page):
    with app.test_request_context():
        savepoint = session.begin_nested()  # each example starts from the same world
        try:
            _build(session, intake, world)
            expected = _recomputed(session, intake.call, stage=stage, sort=sort, min_reviews=min_reviews)
            session.expire_all()  # the ranking reads the database, not what the recomputation loaded
            options = {"stage": stage, "sort": sort, "min_reviews": min_reviews}
            full = ranking.rank(session, intake.call, **options)
            assert [_as_dict(r, assigned=False) for r in full] == [
                {k: v for k, v in e.items() if k not in ("assigned", "submitted_at")} for e in expected]
            assert all(r.reviews == sorted(r.reviews, key=lambda v: v.id) and len(r.reviews) == r.review_count
                       for r in full)
            pages, number = [], 1
            while True:
                page = ranking.rank_page(session, intake.call, page=number, per_page=per_page, **options)
                assert page.total == len(expected) and len(page.items) <= per_page
                pages.extend(page.items)
                if not page.has_next:
                    break
                number += 1
            assert [_as_dict(r) for r in pages] == [{k: v for k, v in e.items() if k != "submitted_at"}
                                                    for e in expected]
        finally:
            savepoint.rollback()


def _reviewed(intake, session, n, start=0):
    for i in range(start, start + n):
        made = application(intake.call, member(intake.org, Role.FOUNDER),
                           answers={"startup_name": f"Team {i:03d}", "pitch": "p", "country": "vn"})
        for reviewer, score in zip(intake.reviewers, (3, 4 + i % 2), strict=False):
            session.add(Review(org_id=intake.org.id, application=made, reviewer=reviewer,
                               status=ReviewStatus.SUBMITTED, scores={"team": score, "market": 5 + i % 5},
                               recommendation="maybe"))
    session.flush()


def _api_queries(app, client, url, headers):
    with statements(app) as seen:
        assert client.get(url, headers=headers).status_code == 200
    return len(seen)


def test_the_ranking_page_and_its_api_hold_their_queries_past_a_page_of_rows(app, client, intake, session, sign_in,
                                                                             api_headers):
    manager = api_headers(intake.manager)
    sign_in(intake.manager)
    listing = f"/o/bbi/calls/{intake.call.id}/applications"
    api = f"/api/v1/orgs/bbi/calls/{intake.call.id}/ranking"
    _reviewed(intake, session, 3)
    few = {url: page_queries(app, client, url) for url in (listing, f"{listing}?sort=name&stage=submitted")}
    _api_queries(app, client, f"{api}?sort=name", manager)  # the token's first use records itself
    few_api = _api_queries(app, client, f"{api}?sort=name", manager)
    _reviewed(intake, session, 117, start=3)  # 120 applications: more than two pages of 50
    for url, count in few.items():
        assert page_queries(app, client, url) == count
        assert page_queries(app, client, f"{url}{'&' if '?' in url else '?'}page=3") == count
    assert _api_queries(app, client, f"{api}?sort=name", manager) == few_api
    page = client.get(f"{listing}?sort=name&page=2").get_data(as_text=True)
    assert page.count('name="application_id"') == 50 and "Team 050" in page and "Team 099" in page
    assert "Team 049" not in page and "Team 100" not in page
    last = client.get(f"{listing}?sort=name&page=3").get_data(as_text=True)
    assert last.count('name="application_id"') == 20


def test_bulk_actions_and_filters_keep_their_place_across_pages(client, intake, session, sign_in):
    _reviewed(intake, session, 55)
    sign_in(intake.manager)
    listing = f"/o/bbi/calls/{intake.call.id}/applications"
    first = client.get(f"{listing}?sort=name&stage=submitted&min_reviews=1").get_data(as_text=True)
    assert "page=2" in first and "sort=name" in first and "stage=submitted" in first and "min_reviews=1" in first
    second = client.get(f"{listing}?sort=name&stage=submitted&min_reviews=1&page=2").get_data(as_text=True)
    assert "Team 052" in second and "Team 000" not in second
    target = session.execute(select(Application).where(Application.answers["startup_name"].as_string()
                                                       == "Team 052")).scalar_one()
    moved = client.post(f"/o/bbi/calls/{intake.call.id}/bulk", data={
        "csrf_token": csrf_token(client, listing), "action": "move", "stage": "screening",
        "application_id": [str(target.id)], "list_stage": "submitted", "list_sort": "name",
        "list_min_reviews": "1", "list_page": "2"})
    assert moved.status_code == 302
    back = urlsplit(moved.headers["Location"])
    assert back.path == listing and parse_qs(back.query) == {"stage": ["submitted"], "sort": ["name"],
                                                             "min_reviews": ["1"], "page": ["2"]}
    session.expire_all()
    assert target.stage == Stage.SCREENING
    # Unchanged list, no state: back to the first page in the default order.
    again = client.post(f"/o/bbi/calls/{intake.call.id}/bulk", data={
        "csrf_token": csrf_token(client, listing), "action": "move", "stage": "in_review",
        "application_id": [str(target.id)]})
    assert again.headers["Location"].endswith(listing)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_label_filters_translate_once_per_language(app, lang):
    from incubator.intake import views
    from incubator.intake.models import STAGE_LABELS

    with app.test_request_context(headers={"Accept-Language": lang}):
        expected = {s.value: str(STAGE_LABELS[s]) for s in Stage}
        assert {s.value: views.stage_label(s.value) for s in Stage} == expected
        assert views.labels("stage") is views.labels("stage")  # built once for the language
        assert views.recommendation_label(None) == "" and views.recommendation_label("bogus") == ""
    with app.test_request_context(headers={"Accept-Language": "en" if lang == "vi" else "vi"}):
        assert views.stage_label(Stage.IN_REVIEW.value) != expected[Stage.IN_REVIEW.value]


def test_recommendations_read_yes_maybe_no_on_every_row(app, session, intake):
    """The pipeline's recommendation cell lists them in one order, whatever order the reviews came in."""
    _build(session, intake, ([(0, 5, 1)], [(Stage.IN_REVIEW, "Alpha", 0, [([1], "no"), ([2], "maybe"), ([3], "yes")]),
                                           (Stage.IN_REVIEW, "Beta", 1, [([1], "maybe"), ([2], None), ([3], "no")])]))
    with app.test_request_context():
        rows = ranking.rank(session, intake.call)
    assert sorted(list(row.recommendations) for row in rows) == [["maybe", "no", ""], ["yes", "maybe", "no"]]

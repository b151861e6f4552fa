"""Pipeline moves, reviewer assignment and conflicts, ranking with the normalised score."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.core import mail
from incubator.core.errors import DomainError, NotAllowed
from incubator.core.permissions import Role
from incubator.intake import access, pipeline, ranking, review
from incubator.intake.models import Review, ReviewStatus, Stage
from incubator.orgs.models import Membership
from tests.factories import member
from tests.intake.fixtures import application


@pytest.fixture(autouse=True)
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _membership(session, user):
    return session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()


def test_the_pipeline_allows_only_its_transitions_and_records_each(session, intake):
    app_ = application(intake.call, intake.founder)
    manager = _membership(session, intake.manager)
    pipeline.move(session, app_, intake.manager, manager, "screening", "Complete file")
    pipeline.move(session, app_, intake.manager, manager, "in_review")
    with pytest.raises(DomainError) as caught:
        pipeline.move(session, app_, intake.manager, manager, "submitted")
    assert caught.value.code == "bad_transition"
    with pytest.raises(DomainError) as caught:
        pipeline.move(session, app_, intake.manager, manager, "accepted")
    assert caught.value.code == "use_decision"
    with pytest.raises(NotAllowed):  # a reviewer cannot move applications
        pipeline.move(session, app_, intake.reviewers[0], _membership(session, intake.reviewers[0]), "interview")
    assert [(t.from_stage, t.to_stage, t.actor_id, t.comment) for t in app_.transitions] == [
        ("submitted", "screening", intake.manager.id, "Complete file"),
        ("screening", "in_review", intake.manager.id, "")]


def test_bulk_move_moves_what_may_move_and_names_the_rest(session, intake):
    first = application(intake.call, intake.founder)
    rejected = application(intake.call, intake.other_founder, Stage.REJECTED)
    moved, skipped = pipeline.bulk_move(session, [first, rejected], intake.manager,
                                        _membership(session, intake.manager), "screening")
    assert moved == 1 and len(skipped) == 1 and first.stage == Stage.SCREENING and rejected.stage == Stage.REJECTED


def test_automatic_assignment_gives_k_reviewers_spread_evenly_without_conflicts(session, intake):
    applicants = [member(intake.org, Role.FOUNDER) for _ in range(6)]
    apps = [application(intake.call, u) for u in applicants]
    a, b, c = intake.reviewers
    session.add(Review(org_id=intake.org.id, application=apps[0], reviewer=a, status=ReviewStatus.CONFLICT,
                       conflict_reason="My cousin"))
    session.flush()
    made = review.auto_assign(session, intake.call, apps, k=2)
    assert made == 12
    reviews = session.execute(select(Review).where(Review.status == ReviewStatus.ASSIGNED)).scalars().all()
    per_app = {app_.id: {r.reviewer_id for r in reviews if r.application_id == app_.id} for app_ in apps}
    assert all(len(ids) == 2 for ids in per_app.values())
    assert a.id not in per_app[apps[0].id]  # the declared conflict is excluded
    loads = sorted(sum(1 for r in reviews if r.reviewer_id == u.id) for u in (a, b, c))
    assert loads == [4, 4, 4]
    assert review.auto_assign(session, intake.call, apps, k=2) == 0  # nothing more to do
    assert {m.to[0] for m in mail.pending(session)} == {a.email, b.email, c.email}


def test_a_conflict_declines_the_assignment_and_is_kept(session, intake):
    app_ = application(intake.call, intake.founder)
    assigned = review.assign(session, app_, intake.reviewers[0])
    with pytest.raises(NotAllowed):
        review.declare_conflict(session, assigned, intake.reviewers[1], "not mine")
    review.declare_conflict(session, assigned, intake.reviewers[0], "I advise this startup")
    assert assigned.status == ReviewStatus.CONFLICT and assigned.conflict_reason == "I advise this startup"
    assert assigned.conflict_declared_at is not None
    assert not access.may_view_application(app_, intake.reviewers[0], _membership(session, intake.reviewers[0]))
    with pytest.raises(DomainError) as caught:
        review.assign(session, app_, intake.reviewers[0])
    assert caught.value.code == "conflict_of_interest"
    with pytest.raises(NotAllowed):
        review.submit_review(session, app_, intake.reviewers[0], scores={"team": 3, "market": 5},
                             recommendation="yes")


def test_only_reviewers_are_assigned_and_scores_stay_on_the_scale(session, intake):
    app_ = application(intake.call, intake.founder)
    with pytest.raises(DomainError) as caught:
        review.assign(session, app_, intake.other_founder)
    assert caught.value.code == "not_a_reviewer"
    review.assign(session, app_, intake.reviewers[0])
    with pytest.raises(DomainError) as caught:
        review.submit_review(session, app_, intake.reviewers[0], scores={"team": 6, "market": "x"},
                             recommendation="perhaps")
    assert set(caught.value.fields) == {"team", "market", "recommendation"}
    done = review.submit_review(session, app_, intake.reviewers[0], scores={"team": 4, "market": 7.5},
                                recommendation="yes", comment="Strong team")
    assert done.status == ReviewStatus.SUBMITTED and done.scores == {"team": 4, "market": 7.5}


def test_a_reviewer_sees_others_scores_only_after_submitting(session, intake):
    app_ = application(intake.call, intake.founder)
    a, b = intake.reviewers[:2]
    review.assign(session, app_, a)
    review.assign(session, app_, b)
    review.submit_review(session, app_, a, scores={"team": 5, "market": 10}, recommendation="yes")
    assert access.visible_reviews(app_, b, _membership(session, b)) == []
    review.submit_review(session, app_, b, scores={"team": 1, "market": 2}, recommendation="no")
    assert {r.reviewer_id for r in access.visible_reviews(app_, b, _membership(session, b))} == {a.id, b.id}


def test_blind_review_hides_identity_and_file_names_from_reviewers_only(session, intake):
    intake.call.blind_review = True
    app_ = application(intake.call, intake.founder, answers={
        "startup_name": "AgriSense", "pitch": "p", "country": "vn", "contact_email": "khoa@agri.vn",
        "team": [{"name": "Khoa", "email": "khoa@agri.vn", "role": "CEO"}]})
    reviewer = intake.reviewers[0]
    review.assign(session, app_, reviewer)
    assert access.is_blind_for(app_, reviewer, _membership(session, reviewer))
    assert not access.is_blind_for(app_, intake.manager, _membership(session, intake.manager))
    shown = dict((q["key"], v) for q, v in review.answers_for(app_, blind=True))
    assert shown["contact_email"] == "hidden" and shown["team"] == "hidden" and shown["pitch"] == "p"
    assert shown["startup_name"] == "hidden"  # the team's name gives it away too
    assert review.display_name(app_, blind=True) == f"Application #{app_.id}"


def test_normalisation_worked_example(session, intake):
    """Reviewer A is lenient, reviewer B harsh; both rank X above Y above Z.

    One criterion, 0..10, weight 1, so a review's total is score x 10.
    A gives X 10, Y 9, Z 8 -> totals 100, 90, 80: mean 90, population sd 8.165 -> z = +1.2247, 0, -1.2247.
    B gives X 4,  Y 3, Z 2 -> totals  40, 30, 20: mean 30, same sd             -> z = +1.2247, 0, -1.2247.
    C reviews only X and Y: 6 and 6 -> deviation 0 -> z = 0 for both.
    X: total mean(100, 40, 60) = 66.67, normalised mean(1.2247, 1.2247, 0) = 0.816
    Y: total mean(90, 30, 60) = 60,     normalised mean(0, 0, 0) = 0
    Z: total mean(80, 20) = 50,         normalised mean(-1.2247, -1.2247) = -1.225
    """
    from incubator.intake.models import Criterion

    intake.call.criteria = [Criterion(org_id=intake.org.id, key="overall", label_en="Overall", label_vi="Chung",
                                      scale_min=0, scale_max=10, weight=1)]
    session.flush()
    x, y, z = (application(intake.call, member(intake.org, Role.FOUNDER), answers={"startup_name": n, "pitch": "p",
                                                                                    "country": "vn"})
               for n in ("X", "Y", "Z"))
    a, b, c = intake.reviewers
    given = {a: {x: 10, y: 9, z: 8}, b: {x: 4, y: 3, z: 2}, c: {x: 6, y: 6}}
    for reviewer, scores in given.items():
        for app_, score in scores.items():
            review.assign(session, app_, reviewer, notify=False)
            review.submit_review(session, app_, reviewer, scores={"overall": score}, recommendation="maybe")
    rows = {r.application.display_name: r for r in ranking.rank(session, intake.call, sort="normalised")}
    assert (rows["X"].total, rows["Y"].total, rows["Z"].total) == (66.67, 60.0, 50.0)
    assert (rows["X"].normalised, rows["Y"].normalised, rows["Z"].normalised) == (0.816, 0.0, -1.225)
    assert [r.application.display_name for r in ranking.rank(session, intake.call, sort="normalised")] == [
        "X", "Y", "Z"]


def test_weighted_total_puts_criteria_on_their_scales(intake):
    team, market = intake.call.criteria  # team 0..5 weight 2, market 0..10 weight 1
    r = Review(scores={"team": 5, "market": 4})
    # (2 * 5/5 + 1 * 4/10) / 3 = 0.8 -> 80
    assert ranking.review_total(r, [team, market]) == 80.0


def test_ranking_filters_by_stage_and_review_count(session, intake):
    first = application(intake.call, intake.founder)
    application(intake.call, intake.other_founder, Stage.SCREENING)
    application(intake.call, member(intake.org, Role.FOUNDER), Stage.DRAFT)  # drafts are never ranked
    review.assign(session, first, intake.reviewers[0], notify=False)
    review.submit_review(session, first, intake.reviewers[0], scores={"team": 5, "market": 10}, recommendation="yes")
    assert len(ranking.rank(session, intake.call)) == 2
    assert [r.application for r in ranking.rank(session, intake.call, stage="submitted")] == [first]
    assert [r.application for r in ranking.rank(session, intake.call, min_reviews=1)] == [first]


def test_automatic_assignment_skips_a_reviewer_named_in_the_team(session, intake):
    a, b, c = intake.reviewers
    target = application(intake.call, intake.founder, answers={
        "startup_name": "S", "pitch": "p", "country": "vn",
        "team": [{"name": a.name, "email": a.email.upper(), "role": "Adviser"}]})
    review.auto_assign(session, intake.call, [target], k=3)
    assert {r.reviewer_id for r in target.reviews} == {b.id, c.id}


def test_the_deadline_reminder_is_scheduled_for_the_worker():
    from incubator.core.jobs import huey
    from incubator.intake import tasks

    assert tasks.deadline_reminders.task_class in huey._registry._periodic_tasks

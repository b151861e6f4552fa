"""The managers' and reviewers' side of the intake API: calls, the form, the rubric (with ETag /
If-Match), assignments, conflicts, moves, bulk actions, ranking, comparison, letters."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from incubator.core import mail
from incubator.core.db import utcnow
from incubator.core.permissions import Role
from incubator.intake import review
from incubator.intake.models import Call, ReviewStatus, Stage
from tests.factories import OrgFactory, ProgrammeFactory, member
from tests.intake.fixtures import application

BASE = "/api/v1/orgs/bbi"


def _call_body(intake, **fields):
    now = utcnow()
    return {"programme_id": intake.programme.id, "title_en": "Demo day 2028", "title_vi": "Ngày demo 2028",
            "opens_at": (now + timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=30)).isoformat(),
            **fields}


def test_a_manager_creates_then_patches_a_call_and_a_stale_if_match_is_refused(client, intake, api_headers,
                                                                               session):
    manager = api_headers(intake.manager)
    created = client.post(f"{BASE}/calls", headers=manager, json=_call_body(intake, cap=50, fee_minor=100000))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(f"{BASE}/calls/{body['id']}")
    assert body["cap"] == 50 and body["fee_minor"] == 100000 and body["questions"] == [] and body["version"] == 1
    first_tag = created.headers["ETag"]
    url = f"{BASE}/calls/{body['id']}"
    assert client.get(url, headers=manager).headers["ETag"] == first_tag

    patched = client.patch(url, headers={**manager, "If-Match": first_tag}, json={"title_en": "Demo day 2028 (EN)"})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["title_en"] == "Demo day 2028 (EN)" and patched.get_json()["cap"] == 50  # partial
    assert patched.headers["ETag"] != first_tag
    stale = client.patch(url, headers={**manager, "If-Match": first_tag}, json={"title_en": "Lost edit"})
    assert stale.status_code == 412 and stale.get_json()["code"] == "stale"
    session.expire_all()
    assert session.get(Call, body["id"]).title_en == "Demo day 2028 (EN)"  # the first edit is kept

    # Closing it now: the deadline moved into the past (and after the opening).
    now = utcnow()
    closed = client.patch(url, headers=manager, json={"opens_at": (now - timedelta(days=2)).isoformat(),
                                                      "closes_at": (now - timedelta(minutes=1)).isoformat()})
    assert closed.status_code == 200 and closed.get_json()["is_open"] is False


def test_bad_call_input_is_a_422_with_fields_and_nothing_is_written(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    before = session.execute(select(Call)).scalars().all()
    now = utcnow()
    missing = client.post(f"{BASE}/calls", headers=manager, json={"title_en": "x"})
    assert missing.status_code == 422 and {"programme_id", "title_vi", "opens_at"} <= set(missing.get_json()["fields"])
    backwards = client.post(f"{BASE}/calls", headers=manager, json=_call_body(
        intake, closes_at=(now - timedelta(days=3)).isoformat(), reviewers_per_application=0))
    assert backwards.status_code == 422
    assert set(backwards.get_json()["fields"]) == {"closes_at", "reviewers_per_application"}
    elsewhere = ProgrammeFactory(org_id=OrgFactory(slug="tdmu").id)
    foreign = client.post(f"{BASE}/calls", headers=manager, json=_call_body(intake, programme_id=elsewhere.id))
    assert foreign.status_code == 422 and set(foreign.get_json()["fields"]) == {"programme_id"}
    odd = client.post(f"{BASE}/calls", headers=manager, json=_call_body(intake, opens_at="0001-01-01T00:00:00+05:00"))
    assert odd.status_code == 422 and "opens_at" in odd.get_json()["fields"]
    assert session.execute(select(Call)).scalars().all() == before


def test_roles_that_do_not_run_calls_are_refused_and_outsiders_see_nothing(client, intake, api_headers):
    url = f"{BASE}/calls/{intake.call.id}"
    for user in (intake.reviewers[0], intake.founder, member(intake.org, Role.FUNDER)):
        headers = api_headers(user)
        assert client.post(f"{BASE}/calls", headers=headers, json=_call_body(intake)).status_code == 403
        assert client.patch(url, headers=headers, json={"title_en": "x"}).status_code == 403
        assert client.put(f"{url}/rubric", headers=headers, json={"criteria": []}).status_code == 403
    outsider = api_headers(member(OrgFactory(slug="tdmu"), Role.MANAGER))
    assert client.patch(url, headers=outsider, json={"title_en": "x"}).status_code == 404
    assert client.get(f"{url}/form", headers=outsider).status_code == 404
    other_call = client.get(f"/api/v1/orgs/tdmu/calls/{intake.call.id}", headers=outsider)
    assert other_call.status_code == 404  # another organisation's call by its id


def test_the_form_over_the_api_follows_the_builder_with_if_match(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/form"
    form = client.get(url, headers=manager)
    assert form.status_code == 200 and form.get_json()["number"] == 1 and form.get_json()["answered"] == 0
    tag = form.headers["ETag"]
    questions = [{"key": "startup_name", "type": "short_text", "required": True, "label_en": "Name",
                  "label_vi": "Tên"},
                 {"key": "stage", "type": "single_choice", "label_en": "Stage", "label_vi": "Giai đoạn",
                  "options": [{"value": "idea", "label_en": "Idea"}, {"value": "mvp", "label_en": "MVP"}]}]
    dupes = client.put(url, headers=manager, json={"questions": [questions[0], questions[0]]})
    assert dupes.status_code == 422 and set(dupes.get_json()["fields"]) == {"questions.1.key"}
    replaced = client.put(url, headers={**manager, "If-Match": tag}, json={"questions": questions})
    assert replaced.status_code == 200, replaced.get_json()
    assert [q["key"] for q in replaced.get_json()["questions"]] == ["startup_name", "stage"]
    assert replaced.get_json()["questions"][1]["options"][0] == {"value": "idea", "label_en": "Idea",
                                                                 "label_vi": "Idea"}
    stale = client.patch(f"{url}/questions?key=stage", headers={**manager, "If-Match": tag}, json={"required": True})
    assert stale.status_code == 412
    session.expire_all()
    assert not intake.call.current_form.questions[1]["required"]  # the first edit stands, the second made nothing
    edited = client.patch(f"{url}/questions?key=stage", headers={**manager, "If-Match": replaced.headers["ETag"]},
                          json={"required": True, "label_en": "Your stage"})
    assert edited.status_code == 200
    assert edited.get_json()["questions"][1]["required"] is True
    assert edited.get_json()["questions"][1]["label_en"] == "Your stage"
    assert client.patch(f"{url}/questions?key=nope", headers=manager, json={"required": True}).status_code == 404
    bad = client.patch(f"{url}/questions?key=stage", headers=manager, json={"options": [{"value": "one"}]})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"options"}

    application(intake.call, intake.founder)  # answered: the next change makes version 2
    added = client.post(f"{url}/questions", headers=manager, json={
        "key": "pitch", "type": "long_text", "label_en": "Pitch", "label_vi": "Giới thiệu", "max_length": 300})
    assert added.status_code == 201 and added.get_json()["number"] == 2
    removed = client.delete(f"{url}/questions?key=stage", headers=manager)
    assert removed.status_code == 200 and [q["key"] for q in removed.get_json()["questions"]] == ["startup_name",
                                                                                                   "pitch"]
    assert client.delete(f"{url}/questions?key=stage", headers=manager).status_code == 404


def test_the_rubric_is_replaced_whole_with_if_match_until_a_review_uses_it(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/rubric"
    rubric = client.get(url, headers=manager)
    assert [c["key"] for c in rubric.get_json()["criteria"]] == ["team", "market"]
    tag = rubric.headers["ETag"]
    bad = client.put(url, headers=manager, json={"criteria": [
        {"key": "team", "label_en": "Team", "label_vi": "Đội", "weight": 0},
        {"key": "team", "label_en": "Again", "label_vi": "Lại", "scale_min": 3, "scale_max": 1}]})
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"criteria.0.weight", "criteria.1.key", "criteria.1.scale_max"}
    new = [{"key": "market", "label_en": "Market", "label_vi": "Thị trường", "scale_max": 10, "weight": 3},
           {"key": "impact", "label_en": "Impact", "label_vi": "Tác động", "weight": 1.5}]
    saved = client.put(url, headers={**manager, "If-Match": tag}, json={"criteria": new})
    assert saved.status_code == 200, saved.get_json()
    assert [(c["key"], c["weight"]) for c in saved.get_json()["criteria"]] == [("market", 3.0), ("impact", 1.5)]
    again = client.put(url, headers={**manager, "If-Match": tag}, json={"criteria": new[:1]})
    assert again.status_code == 412
    session.expire_all()
    assert [c.key for c in intake.call.criteria] == ["market", "impact"]

    scored = application(intake.call, intake.founder)
    review.assign(session, scored, intake.reviewers[0], notify=False)
    review.submit_review(session, scored, intake.reviewers[0], scores={"market": 5, "impact": 3},
                         recommendation="yes")
    session.flush()
    in_use = client.put(url, headers=manager, json={"criteria": new[:1]})
    assert in_use.status_code == 422 and in_use.get_json()["code"] == "rubric_in_use"


def test_assignments_conflicts_and_moves_over_the_api(client, intake, api_headers, session):
    target = application(intake.call, intake.founder)
    manager, a, b = api_headers(intake.manager), intake.reviewers[0], intake.reviewers[1]
    url = f"{BASE}/applications/{target.id}"
    assigned = client.post(f"{url}/assignments", headers=manager, json={"reviewer_id": a.id})
    assert assigned.status_code == 201 and assigned.get_json()["status"] == "assigned"
    assert [m.to for m in mail.outbox] == [[a.email]]  # told by email once the request committed
    not_reviewer = client.post(f"{url}/assignments", headers=manager, json={"reviewer_id": intake.other_founder.id})
    assert not_reviewer.status_code == 422 and not_reviewer.get_json()["code"] == "not_a_reviewer"
    nobody = client.post(f"{url}/assignments", headers=manager, json={"reviewer_id": 2**31 - 1})
    assert nobody.status_code == 422 and set(nobody.get_json()["fields"]) == {"reviewer_id"}
    assert client.post(f"{url}/assignments", headers=api_headers(a), json={"reviewer_id": b.id}).status_code == 403

    mine = client.get(f"{BASE}/reviews?mine=true", headers=api_headers(a))
    assert mine.status_code == 200 and [r["application_id"] for r in mine.get_json()] == [target.id]
    assert client.get(f"{BASE}/reviews?mine=false", headers=api_headers(a)).status_code == 422
    assert client.get(f"{BASE}/reviews", headers=manager).status_code == 403  # managers do not review

    declared = client.post(f"{url}/conflict", headers=api_headers(a), json={"reason": "I advise them"})
    assert declared.status_code == 200 and declared.get_json()["status"] == "conflict"
    assert client.get(f"{BASE}/reviews", headers=api_headers(a)).get_json() == []
    assert client.post(f"{url}/conflict", headers=api_headers(b), json={"reason": "x"}).status_code == 404
    kept = client.delete(f"{url}/assignments/{declared.get_json()['id']}", headers=manager)
    assert kept.status_code == 409 and kept.get_json()["code"] == "conflict_of_interest"

    again = client.post(f"{url}/assignments", headers=manager, json={"reviewer_id": b.id}).get_json()
    assert client.delete(f"{url}/assignments/{again['id']}", headers=manager).status_code == 204
    session.expire_all()
    assert {(r.reviewer_id, r.status) for r in target.reviews} == {(a.id, ReviewStatus.CONFLICT)}
    assert client.delete(f"{url}/assignments/{again['id']}", headers=manager).status_code == 404

    moved = client.post(f"{url}/move", headers=manager, json={"stage": "screening", "comment": "Eligible"})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "screening"
    backwards = client.post(f"{url}/move", headers=manager, json={"stage": "submitted"})
    assert backwards.status_code == 422 and backwards.get_json()["code"] == "bad_transition"
    accept = client.post(f"{url}/move", headers=manager, json={"stage": "accepted"})
    assert accept.status_code == 422
    assert client.post(f"{url}/move", headers=api_headers(b), json={"stage": "rejected"}).status_code == 403
    session.expire_all()
    assert target.stage == Stage.SCREENING and target.transitions[-1].comment == "Eligible"


def test_bulk_actions_over_the_api_name_what_they_skip(client, intake, api_headers, session):
    apps = [application(intake.call, member(intake.org, Role.FOUNDER), answers={
        "startup_name": f"Team {n}", "pitch": "p", "country": "vn"}) for n in range(3)]
    rejected = application(intake.call, intake.founder, Stage.REJECTED)
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/bulk"
    ids = [a.id for a in apps]
    moved = client.post(url, headers=manager, json={"action": "move", "stage": "in_review",
                                                    "application_ids": [*ids, rejected.id]})
    assert moved.status_code == 200
    assert moved.get_json()["done"] == 3 and [s["application_id"] for s in moved.get_json()["skipped"]] == [rejected.id]
    auto = client.post(url, headers=manager, json={"action": "auto_assign", "application_ids": ids})
    assert auto.get_json()["done"] == 6
    nothing = client.post(url, headers=manager, json={"action": "move", "stage": "interview", "application_ids": []})
    assert nothing.status_code == 422 and nothing.get_json()["code"] == "nothing_chosen"
    bad_cohort = client.post(url, headers=manager, json={"action": "decide", "decision": "accepted",
                                                         "cohort_id": 2**31 - 1, "application_ids": ids})
    assert bad_cohort.status_code == 422 and set(bad_cohort.get_json()["fields"]) == {"cohort_id"}
    decided = client.post(url, headers=manager, json={"action": "decide", "decision": "rejected",
                                                      "application_ids": ids[:2]})
    assert decided.get_json()["done"] == 2
    session.expire_all()
    assert [a.stage for a in apps] == [Stage.REJECTED, Stage.REJECTED, Stage.IN_REVIEW]
    assert client.post(url, headers=api_headers(intake.reviewers[0]),
                       json={"action": "move", "stage": "rejected", "application_ids": ids}).status_code == 403


def test_ranking_comparison_and_letters_over_the_api(client, intake, api_headers, session):
    apps = [application(intake.call, member(intake.org, Role.FOUNDER), Stage.IN_REVIEW, answers={
        "startup_name": f"Team {n}", "pitch": "p", "country": "kr" if n else "vn"}) for n in range(3)]
    for n, target in enumerate(apps):
        review.assign(session, target, intake.reviewers[0], notify=False)
        review.submit_review(session, target, intake.reviewers[0], scores={"team": 5 - n, "market": 10 - 3 * n},
                             recommendation="yes")
    session.flush()
    manager = api_headers(intake.manager)
    ranked = client.get(f"{BASE}/calls/{intake.call.id}/ranking?sort=total&page_size=2", headers=manager)
    assert ranked.status_code == 200 and '"total": 3' in ranked.headers["X-Pagination"]
    assert [r["name"] for r in ranked.get_json()] == ["Team 0", "Team 1"]
    assert ranked.get_json()[0]["total"] == 100.0 and ranked.get_json()[0]["recommendations"] == {"yes": 1}
    second = client.get(f"{BASE}/calls/{intake.call.id}/ranking?sort=total&page_size=2&page=2", headers=manager)
    assert [r["name"] for r in second.get_json()] == ["Team 2"]
    compared = client.get(f"{BASE}/calls/{intake.call.id}/compare?application_id={apps[0].id}"
                          f"&application_id={apps[2].id}", headers=manager)
    assert compared.status_code == 200
    assert [(r["name"], r["answers"]["country"]) for r in compared.get_json()] == [("Team 0", "Vietnam"),
                                                                                  ("Team 2", "South Korea")]
    assert compared.get_json()[0]["scored"][0]["scores"] == {"team": 5, "market": 10}
    assert client.get(f"{BASE}/calls/{intake.call.id}/compare", headers=manager).status_code == 422

    client.post(f"{BASE}/applications/{apps[2].id}/decision", headers=manager, json={"decision": "rejected"})
    preview = client.get(f"{BASE}/calls/{intake.call.id}/letters", headers=manager).get_json()
    assert [p["application_id"] for p in preview] == [apps[2].id] and "not selected" in preview[0]["body"]
    assert preview[0]["html"].startswith("<p>") and "not selected" in preview[0]["html"]  # the mail's HTML part
    sent = client.post(f"{BASE}/calls/{intake.call.id}/letters", headers=manager)
    assert sent.status_code == 202 and sent.get_json() == {"queued": 1}
    assert [m.to for m in mail.outbox] == [[apps[2].applicant.email]]  # by the job, once the request committed
    assert client.get(f"{BASE}/calls/{intake.call.id}/letters", headers=manager).get_json() == []
    assert client.post(f"{BASE}/calls/{intake.call.id}/letters", headers=manager).get_json() == {"queued": 0}

    templates = client.get(f"{BASE}/letters", headers=manager).get_json()
    assert {(t["outcome"], t["locale"]) for t in templates} == {(o, lang) for o in ("accepted", "waitlisted",
                                                                                  "rejected") for lang in ("en", "vi")}
    good = {"outcome": "rejected", "locale": "en", "subject": "About {call_title}", "body": "Dear {applicant_name}"}
    bad = client.patch(f"{BASE}/letters", headers=manager, json={"templates": [
        good, {"outcome": "accepted", "locale": "vi", "subject": "S", "body": "Hi {nobody}"}]})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"templates.1.body"}
    unchanged = client.get(f"{BASE}/letters", headers=manager).get_json()
    assert {t["subject"] for t in unchanged if t["outcome"] == "rejected"} != {"About {call_title}"}  # all or none
    ok = client.patch(f"{BASE}/letters", headers=manager, json={"templates": [good]})
    assert ok.status_code == 200
    by_key = {(t["outcome"], t["locale"]): t for t in ok.get_json()}
    assert by_key[("rejected", "en")]["subject"] == "About {call_title}"
    assert by_key[("accepted", "en")]["subject"] == "Your application to {call_title} is accepted"  # kept
    hired = client.patch(f"{BASE}/letters", headers=manager, json={"templates": [{**good, "outcome": "hired"}]})
    assert hired.status_code == 422 and set(hired.get_json()["fields"]) == {"templates"}

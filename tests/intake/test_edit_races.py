"""Managers editing a call's form, rubric or settings at the same moment from the same version: exactly
one edit wins, the others answer 412 and leave nothing. Runs on SQLite and PostgreSQL (real HTTP,
committed data)."""

from __future__ import annotations

from sqlalchemy import select

from incubator.core.permissions import Role
from incubator.intake.models import Call
from tests.factories import CohortFactory, OrgFactory, ProgrammeFactory, member
from tests.intake.fixtures import make_call

CLIENTS = 4


def _world(committed):
    with committed.data():
        org = OrgFactory(slug="race-intake")
        programme = ProgrammeFactory(org_id=org.id)
        call = make_call(org, programme, CohortFactory(programme=programme, org_id=org.id))
        manager = member(org, Role.MANAGER)
        ids = {"call": call.id}
    return ids, [committed.token(manager) for _ in range(CLIENTS)]  # one token each: see tests/live.py


def test_concurrent_rubric_and_form_replacements_from_one_etag(app, committed, live):
    ids, tokens = _world(committed)
    base = f"/api/v1/orgs/race-intake/calls/{ids['call']}"
    rubric_tag = live.api("GET", f"{base}/rubric", tokens[0]).headers["ETag"]
    form_tag = live.api("GET", f"{base}/form", tokens[0]).headers["ETag"]

    def rubric(i: int) -> int:
        return live.api("PUT", f"{base}/rubric", tokens[i], headers={"If-Match": rubric_tag}, json={"criteria": [
            {"key": f"c{i}", "label_en": f"C{i}", "label_vi": f"C{i}"}]}).status_code

    def form(i: int) -> int:
        return live.api("PUT", f"{base}/form", tokens[i], headers={"If-Match": form_tag}, json={"questions": [
            {"key": f"q{i}", "type": "short_text", "label_en": f"Q{i}", "label_vi": f"Q{i}"}]}).status_code

    rubric_answers = live.race(CLIENTS, rubric)
    assert sorted(rubric_answers) == [200] + [412] * (CLIENTS - 1), rubric_answers
    form_answers = live.race(CLIENTS, form)
    assert sorted(form_answers) == [200] + [412] * (CLIENTS - 1), form_answers
    winner_rubric, winner_form = rubric_answers.index(200), form_answers.index(200)
    with committed.read() as s:
        call = s.execute(select(Call).where(Call.id == ids["call"])).scalar_one()
        assert [c.key for c in call.criteria] == [f"c{winner_rubric}"]
        assert [q["key"] for q in call.current_form.questions] == [f"q{winner_form}"]
        assert len(call.versions) == 1


def test_concurrent_call_patches_from_one_etag(app, committed, live):
    ids, tokens = _world(committed)
    url = f"/api/v1/orgs/race-intake/calls/{ids['call']}"
    tag = live.api("GET", url, tokens[0]).headers["ETag"]

    def patch(i: int) -> int:
        return live.api("PATCH", url, tokens[i], headers={"If-Match": tag},
                        json={"title_en": f"Edit {i}"}).status_code

    answers = live.race(CLIENTS, patch)
    assert sorted(answers) == [200] + [412] * (CLIENTS - 1), answers
    with committed.read() as s:
        call = s.execute(select(Call).where(Call.id == ids["call"])).scalar_one()
        assert call.title_en == f"Edit {answers.index(200)}" and call.version == 2

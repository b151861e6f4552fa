"""What a criterion's scores mean: the manager describes them (rubric page and API), each a score of the
criterion's scale, in English and Vietnamese; reviewers read them beside the score, in their language
or else the other one (scoring page and the API's assignments)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from incubator.cli import alembic_config
from incubator.core.db import make_engine
from incubator.intake import review
from incubator.intake.models import Stage
from tests.conftest import csrf_token
from tests.core.test_feed_migration import insert
from tests.intake.fixtures import application

BASE = "/api/v1/orgs/bbi"
TEAM = {"0": {"en": "One person, no skills the product needs", "vi": "Một người, thiếu kỹ năng"},
        "3": {"en": "Key skills, one gap", "vi": ""},
        "5": {"en": "", "vi": "Đội đầy đủ, đã từng bán sản phẩm"}}


def _version(html: str) -> str:
    return re.search(r'name="version" value="([^"]+)"', html).group(1)


def _describe(intake, session, levels=None):
    team = intake.call.criteria[0]
    team.levels = dict(TEAM if levels is None else levels)
    session.flush()
    return team


# -- the API ---------------------------------------------------------------------------------------

def test_the_rubric_api_takes_levels_and_refuses_scores_off_the_scale(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/rubric"
    criteria = [{"key": "team", "label_en": "Team", "label_vi": "Đội ngũ", "scale_max": 5, "weight": 2,
                 "levels": {**TEAM, "4": {"en": "  ", "vi": ""}}},
                {"key": "market", "label_en": "Market", "label_vi": "Thị trường", "scale_max": 10}]
    saved = client.put(url, headers=manager, json={"criteria": criteria})
    assert saved.status_code == 200, saved.get_json()
    team, market = saved.get_json()["criteria"]
    assert team["levels"] == {"0": TEAM["0"], "3": TEAM["3"], "5": TEAM["5"]}  # the empty one left out
    assert market["levels"] == {}
    session.expire_all()
    assert intake.call.criteria[0].levels == team["levels"]
    tag = saved.headers["ETag"]

    off = [{**criteria[0], "levels": {"6": {"en": "Above the top"}, "-1": {"en": "Below"}, "two": {"en": "?"}}},
           {**criteria[1], "levels": {"10": {"en": "Best"}}}]
    bad = client.put(url, headers={**manager, "If-Match": tag}, json={"criteria": off})
    assert bad.status_code == 422
    body = bad.get_json()
    assert body["code"] and set(body["fields"]) == {"criteria.0.levels.6", "criteria.0.levels.-1",
                                                     "criteria.0.levels.two"}
    shape = client.put(url, headers=manager, json={"criteria": [
        {**criteria[0], "levels": {"1": "A text, not one per language"}}]})
    assert shape.status_code == 422, shape.get_json()
    assert "levels" in shape.get_json()["fields"]["criteria"]["0"]  # the schema's own, nested, as elsewhere
    too_long = client.put(url, headers=manager, json={"criteria": [
        {**criteria[0], "levels": {"1": {"en": "x" * 1001}}}]})
    assert too_long.status_code == 422 and "levels" in too_long.get_json()["fields"]["criteria"]["0"]
    session.expire_all()
    assert intake.call.criteria[0].levels == team["levels"]  # nothing half-written

    # Left out: kept; a narrower scale drops the scores it no longer has.
    kept = client.put(url, headers=manager, json={"criteria": [
        {k: v for k, v in criteria[0].items() if k != "levels"} | {"scale_max": 4}, criteria[1]]})
    assert kept.status_code == 200 and kept.get_json()["criteria"][0]["levels"] == {"0": TEAM["0"], "3": TEAM["3"]}
    assert kept.headers["ETag"] != tag


def test_reviewers_get_the_levels_in_their_language_with_the_assignment(client, intake, api_headers, session):
    _describe(intake, session)
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    reviewer = intake.reviewers[0]
    review.assign(session, target, reviewer, notify=False)
    reviewer.locale = "vi"
    session.flush()
    [mine] = client.get(f"{BASE}/reviews?mine=true", headers=api_headers(reviewer)).get_json()
    team, market = mine["rubric"]
    assert (team["key"], team["label"], team["scale_min"], team["scale_max"]) == ("team", "Đội ngũ", 0, 5)
    assert team["levels"] == [{"score": 0, "text": "Một người, thiếu kỹ năng"},
                              {"score": 3, "text": "Key skills, one gap"},  # no Vietnamese: the English
                              {"score": 5, "text": "Đội đầy đủ, đã từng bán sản phẩm"}]
    assert market["levels"] == []
    reviewer.locale = "en"
    session.flush()
    [mine] = client.get(f"{BASE}/reviews?mine=true", headers=api_headers(reviewer)).get_json()
    assert [level["text"] for level in mine["rubric"][0]["levels"]] == [
        "One person, no skills the product needs", "Key skills, one gap", "Đội đầy đủ, đã từng bán sản phẩm"]
    # Reviewers read the rubric; they do not change it.
    assert client.put(f"{BASE}/calls/{intake.call.id}/rubric", headers=api_headers(reviewer),
                      json={"criteria": []}).status_code == 403


# -- the pages -------------------------------------------------------------------------------------

def test_the_manager_describes_scores_on_the_rubric_page(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/rubric"
    page = client.get(url).get_data(as_text=True)
    team_form = page.split('data-testid="levels-team"')[1].split("</details>")[0]
    assert all(f'name="level-{score}-en"' in team_form for score in range(6))
    assert 'name="level-6-en"' not in team_form
    market_form = page.split('data-testid="levels-market"')[1].split("</details>")[0]
    assert 'name="level-10-vi"' in market_form
    token = csrf_token(client, url)
    saved = client.post(f"{url}/levels", data={
        "csrf_token": token, "version": _version(page), "key": "team", "level-0-en": "Nobody", "level-0-vi": "Không ai",
        "level-5-en": "A full team", "level-5-vi": "", "level-3-en": "", "level-3-vi": ""})
    assert saved.status_code == 302
    session.expire_all()
    assert intake.call.criteria[0].levels == {"0": {"en": "Nobody", "vi": "Không ai"},
                                              "5": {"en": "A full team", "vi": ""}}
    again = client.get(url).get_data(as_text=True).split('data-testid="levels-team"')[1]
    assert ">Nobody</textarea>" in again and ">Không ai</textarea>" in again and "(2)" in again


def test_a_description_off_the_scale_or_too_long_is_a_form_error_and_saves_nothing(client, intake, session,
                                                                                  sign_in):
    _describe(intake, session)
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/rubric"
    page = client.get(url).get_data(as_text=True)
    token = csrf_token(client, url)
    off = client.post(f"{url}/levels", data={"csrf_token": token, "version": _version(page), "key": "team",
                                             "level-0-en": "Changed", "level-9-en": "Beyond the scale"})
    assert off.status_code == 422
    html = off.get_data(as_text=True)
    assert 'data-field="levels.9"' in html and "Not a score of the scale (0 to 5)." in html
    assert ">Changed</textarea>" in html  # what was typed stays in the box
    long = client.post(f"{url}/levels", data={"csrf_token": token, "version": _version(page), "key": "team",
                                              "level-1-vi": "x" * 1001})
    assert long.status_code == 422 and 'data-field="levels.1"' in long.get_data(as_text=True)
    stale = client.post(f"{url}/levels", data={"csrf_token": token, "version": "not-the-tag", "key": "team",
                                               "level-1-en": "x"})
    assert stale.status_code == 422
    session.expire_all()
    assert intake.call.criteria[0].levels == TEAM
    assert client.post(f"{url}/levels", data={"csrf_token": token, "key": "nope"}).status_code == 400


def test_only_managers_describe_scores_and_not_once_reviews_are_in(client, intake, session, sign_in):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    reviewer = intake.reviewers[0]
    review.assign(session, target, reviewer, notify=False)
    sign_in(reviewer)
    url = f"/o/bbi/calls/{intake.call.id}/rubric"
    token = csrf_token(client, "/account")
    assert client.post(f"{url}/levels", data={"csrf_token": token, "key": "team",
                                              "level-0-en": "x"}).status_code == 403
    review.submit_review(session, target, reviewer, scores={"team": 3, "market": 5}, recommendation="yes",
                         comment="")
    client.post("/auth/logout", data={"csrf_token": token})
    sign_in(intake.manager)
    locked = client.post(f"{url}/levels", data={"csrf_token": csrf_token(client, url), "key": "team",
                                                "level-0-en": "x"})
    assert locked.status_code == 422 and "can no longer change" in locked.get_data(as_text=True)
    session.expire_all()
    assert intake.call.criteria[0].levels == {}


def test_reviewers_read_the_descriptions_beside_the_score_in_their_language(client, intake, session, sign_in):
    _describe(intake, session)
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    reviewer = intake.reviewers[0]
    review.assign(session, target, reviewer, notify=False)
    reviewer.locale = "vi"
    session.flush()
    sign_in(reviewer)
    url = f"/o/bbi/applications/{target.id}"
    html = client.get(url).get_data(as_text=True)
    levels = html.split('data-testid="levels-team"')[1].split("</details>")[0]
    assert "Ý nghĩa các mức điểm" in levels
    assert "Một người, thiếu kỹ năng" in levels and "Đội đầy đủ, đã từng bán sản phẩm" in levels
    assert "Key skills, one gap" in levels  # no Vietnamese text: the English one
    assert levels.index("Một người") < levels.index("Key skills") < levels.index("Đội đầy đủ")
    assert 'data-testid="levels-market"' not in html  # nothing described, nothing shown
    assert html.index('id="score-team"') < html.index('data-testid="levels-team"') < html.index('id="score-market"')

    reviewer.locale = "en"
    session.flush()
    english = client.get(url).get_data(as_text=True).split('data-testid="levels-team"')[1].split("</details>")[0]
    assert "What the scores mean" in english and "One person, no skills the product needs" in english
    assert "Một người" not in english and "Đội đầy đủ, đã từng bán sản phẩm" in english


# -- the migration ---------------------------------------------------------------------------------

def test_the_migration_adds_empty_levels_to_existing_criteria_and_goes_back(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'levels.db'}"
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0022a").down_revision
    assert before == "0021b"
    command.upgrade(config, before)
    engine = make_engine(url)
    with engine.begin() as conn:
        org = insert(conn, "organisations", slug="old", name="Old org", timezone="Asia/Ho_Chi_Minh", currency="VND",
                     default_locale="vi")
        programme = insert(conn, "programmes", org_id=org, name="P")
        call = insert(conn, "calls", org_id=org, programme_id=programme, opens_at=datetime(2026, 1, 1),
                      closes_at=datetime(2026, 2, 1), cap=None, fee_minor=None, cohort_id=None)
        insert(conn, "criteria", org_id=org, call_id=call, key="team", label_en="Team", label_vi="Đội", scale_min=0,
               scale_max=5, weight=1.0, position=0)
    engine.dispose()

    command.upgrade(config, "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT levels FROM criteria")).scalar_one() == "{}"
    engine.dispose()

    command.downgrade(config, before)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert "levels" not in {c["name"] for c in sa.inspect(conn).get_columns("criteria")}
        assert conn.execute(sa.text("SELECT key FROM criteria")).scalar_one() == "team"
    engine.dispose()

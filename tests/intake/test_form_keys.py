"""The form builder without keys: a question's key and its options' values are made from the English
labels, unique in the form and never renamed once made; the API may still give them. And the preview of
the applicant's form, in both languages, that saves nothing."""

from __future__ import annotations

import re

import pytest

from incubator.core.permissions import Role
from incubator.intake import formspec
from incubator.intake.models import Application, FormVersion
from tests.conftest import csrf_token
from tests.factories import member
from tests.intake.fixtures import QUESTIONS, application

BASE = "/api/v1/orgs/bbi"


@pytest.fixture()
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


# -- the keys --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "key"), [
    ("Lĩnh vực", "linh_vuc"),
    ("Tên startup hoặc dự án", "ten_startup_hoac_du_an"),
    ("Địa chỉ đăng ký", "dia_chi_dang_ky"),
    ("Startup name", "startup_name"),
    ("  What problem do you solve, and for whom?  ", "what_problem_do_you_solve_and_for_wh"),  # cut to fit
    ("2025 revenue (VND)", "q_2025_revenue_vnd"),
    ("?!… ★ — %", "question"),
    ("팀 이름", "question"),
])
def test_a_key_is_a_slug_of_the_label(label, key):
    made = formspec.unique_key(label, set())
    assert made == key and formspec.KEY_RE.match(made)


def test_a_key_is_unique_in_the_form_and_fits_the_key_rule():
    assert formspec.unique_key("Stage", {"stage"}) == "stage_2"
    assert formspec.unique_key("Stage", {"stage", "stage_2"}) == "stage_3"
    assert formspec.unique_key("★", {"question"}) == "question_2"
    long = formspec.unique_key("word " * 30, set())
    assert len(long) <= formspec.KEY_MAX and formspec.KEY_RE.match(long)
    again = formspec.unique_key("word " * 30, {long})
    assert again != long and len(again) <= formspec.KEY_MAX and formspec.KEY_RE.match(again)


@pytest.mark.usefixtures("_ctx")
def test_a_question_without_a_key_gets_one_and_its_options_get_values_from_their_labels():
    question = formspec.clean_question({"type": "single_choice", "label_en": "Sector", "label_vi": "Lĩnh vực",
                                        "options_en": "Agritech\nSmart manufacturing\n\n  Other  ",
                                        "options_vi": "Nông nghiệp\nSản xuất thông minh\nKhác"}, {"sector"})
    assert question["key"] == "sector_2"
    assert question["options"] == [
        {"value": "agritech", "label_en": "Agritech", "label_vi": "Nông nghiệp"},
        {"value": "smart_manufacturing", "label_en": "Smart manufacturing", "label_vi": "Sản xuất thông minh"},
        {"value": "other", "label_en": "Other", "label_vi": "Khác"}]
    # Two options of the same label still get two values; no Vietnamese lines: the English labels.
    twice = formspec.clean_question({"type": "multiple_choice", "label_en": "Kind", "label_vi": "Loại",
                                     "options_en": "★\n★\nB2B", "options_vi": ""}, set())
    assert [(o["value"], o["label_vi"]) for o in twice["options"]] == [("option", "★"), ("option_2", "★"),
                                                                        ("b2b", "B2B")]


@pytest.mark.usefixtures("_ctx")
def test_the_builder_lines_must_pair_up_and_give_two_options():
    with pytest.raises(formspec.SpecError) as caught:
        formspec.clean_question({"type": "single_choice", "label_en": "Stage", "label_vi": "Giai đoạn",
                                 "options_en": "Idea\nMVP\nRevenue", "options_vi": "Ý tưởng\nMVP"}, set())
    assert set(caught.value.fields) == {"options_vi"}
    with pytest.raises(formspec.SpecError) as caught:
        formspec.clean_question({"type": "single_choice", "label_en": "Stage", "label_vi": "Giai đoạn",
                                 "options_en": "Idea", "options_vi": "Ý tưởng"}, set())
    assert set(caught.value.fields) == {"options_en"}


@pytest.mark.usefixtures("_ctx")
def test_editing_options_keeps_their_values():
    before = {"key": "stage", "type": "single_choice", "label_en": "Stage", "label_vi": "Giai đoạn",
              "options": [{"value": "idea", "label_en": "Idea", "label_vi": "Ý tưởng"},
                          {"value": "mvp", "label_en": "MVP", "label_vi": "MVP"}]}
    # Reordered and one added: each option keeps its value by its label, the new one gets its own.
    after = formspec.clean_question({**before, "options_en": "MVP\nRevenue\nIdea",
                                     "options_vi": "MVP\nCó doanh thu\nÝ tưởng"}, set(), before)
    assert [(o["value"], o["label_en"]) for o in after["options"]] == [("mvp", "MVP"), ("revenue", "Revenue"),
                                                                        ("idea", "Idea")]
    # A line inserted above a relabelled one: nothing is matched by its place, the values follow the labels.
    inserted = formspec.clean_question({**before, "options_en": "Revenue\nAn idea\nMVP"}, set(), before)
    assert [o["value"] for o in inserted["options"]] == ["revenue", "an_idea", "mvp"]
    # As many lines as before: the option relabelled in its place keeps its value.
    renamed = formspec.clean_question({**before, "options_en": "Just an idea\nMVP", "options_vi": "Ý tưởng\nMVP"},
                                      set(), before)
    assert [(o["value"], o["label_en"]) for o in renamed["options"]] == [("idea", "Just an idea"), ("mvp", "MVP")]


# -- the builder page ------------------------------------------------------------------------------

def _version(html: str) -> str:
    return re.search(r'name="version" value="([^"]+)"', html).group(1)


def test_the_builder_adds_and_edits_questions_by_label_and_shows_no_key(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form"
    page = client.get(url).get_data(as_text=True)
    assert 'name="key"' not in page.split('data-testid="question-form"')[1]  # no key to type
    assert "<code>startup_name</code>" not in page and "value | English" not in page
    token = csrf_token(client, url)
    added = client.post(url, data={"csrf_token": token, "type": "single_choice", "label_en": "Lĩnh vực (sector)",
                                   "label_vi": "Lĩnh vực", "required": "y", "options_en": "Agritech\nHealth",
                                   "options_vi": "Nông nghiệp\nY tế"})
    assert added.status_code == 302
    session.expire_all()
    question = intake.call.current_form.questions[-1]
    assert question["key"] == "linh_vuc_sector" and question["required"] is True
    assert question["options"] == [{"value": "agritech", "label_en": "Agritech", "label_vi": "Nông nghiệp"},
                                   {"value": "health", "label_en": "Health", "label_vi": "Y tế"}]
    listed = client.get(url).get_data(as_text=True)
    assert "Lĩnh vực (sector)" in listed and "Agritech, Health" in listed
    assert "<code>linh_vuc_sector</code>" not in listed  # the list names questions by their labels

    # The edit form: labels one per line in each language; the key only in the advanced part, read-only.
    edit = client.get(f"{url}?edit=linh_vuc_sector").get_data(as_text=True)
    assert ">\r\nAgritech\nHealth</textarea>" in edit and ">\r\nNông nghiệp\nY tế</textarea>" in edit
    advanced = edit.split('data-testid="advanced"')[1].split("</details>")[0]
    assert "<code>linh_vuc_sector</code>" in advanced and "<input" not in advanced
    saved = client.post(url, data={"csrf_token": token, "original_key": "linh_vuc_sector", "version": _version(edit),
                                   "type": "multiple_choice", "label_en": "Sectors", "label_vi": "Các lĩnh vực",
                                   "options_en": "Agritech\nHealth care", "options_vi": "Nông nghiệp\nY tế"})
    assert saved.status_code == 302
    session.expire_all()
    question = intake.call.current_form.questions[-1]
    assert (question["key"], question["type"], question["label_en"]) == ("linh_vuc_sector", "multiple_choice",
                                                                         "Sectors")
    assert [(o["value"], o["label_en"]) for o in question["options"]] == [("agritech", "Agritech"),
                                                                          ("health", "Health care")]


def test_bad_builder_input_is_a_form_error_and_saves_nothing(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form"
    before = [dict(q) for q in intake.call.current_form.questions]
    token = csrf_token(client, url)
    mismatched = client.post(url, data={"csrf_token": token, "type": "single_choice", "label_en": "Stage",
                                        "label_vi": "Giai đoạn", "options_en": "Idea\nMVP", "options_vi": "Ý tưởng"})
    assert mismatched.status_code == 422
    assert 'data-field="options_vi"' in mismatched.get_data(as_text=True)
    one = client.post(url, data={"csrf_token": token, "type": "single_choice", "label_en": "Stage",
                                 "label_vi": "Giai đoạn", "options_en": "Idea"})
    assert one.status_code == 422 and 'data-field="options_en"' in one.get_data(as_text=True)
    session.expire_all()
    assert intake.call.current_form.questions == before


def test_keys_stay_once_the_call_has_applications(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form"
    answered = application(intake.call, intake.founder, answers={"startup_name": "AgriSense", "pitch": "p",
                                                                  "country": "kr", "sectors": ["iot"]})
    edit = client.get(f"{url}?edit=sectors").get_data(as_text=True)
    relabelled = client.post(url, data={
        "csrf_token": csrf_token(client, url), "original_key": "sectors", "version": _version(edit),
        "type": "multiple_choice", "label_en": "Industries", "label_vi": "Ngành",
        "options_en": "Agritech\nInternet of things", "options_vi": "Nông nghiệp\nIoT"})
    assert relabelled.status_code == 302
    session.expire_all()
    assert intake.call.current_form.number == 2  # answered: a new version, the application keeps its own
    question = next(q for q in intake.call.current_form.questions if q["label_en"] == "Industries")
    assert question["key"] == "sectors"
    assert [o["value"] for o in question["options"]] == ["agri", "iot"]
    # The answer given under the old labels still reads as its option, in the new version too.
    assert formspec.option_label(question, answered.answers["sectors"][0], "en") == "Internet of things"


def test_only_managers_use_the_builder_and_the_preview(client, intake, sign_in):
    for role in (Role.REVIEWER, Role.FOUNDER, Role.MENTOR):
        person = member(intake.org, role)
        sign_in(person)
        assert client.get(f"/o/bbi/calls/{intake.call.id}/form").status_code == 403
        assert client.get(f"/o/bbi/calls/{intake.call.id}/form/preview").status_code == 403
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})


# -- the API ---------------------------------------------------------------------------------------

def test_the_api_makes_keys_the_same_way_when_none_is_given(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/form"
    added = client.post(f"{url}/questions", headers=manager, json={
        "type": "single_choice", "label_en": "Lĩnh vực", "label_vi": "Lĩnh vực",
        "options": [{"label_en": "Agritech", "label_vi": "Nông nghiệp"}, {"value": "hc", "label_en": "Health"}]})
    assert added.status_code == 201
    question = added.get_json()["questions"][-1]
    assert question["key"] == "linh_vuc"
    assert question["options"] == [{"value": "agritech", "label_en": "Agritech", "label_vi": "Nông nghiệp"},
                                   {"value": "hc", "label_en": "Health", "label_vi": "Health"}]
    explicit = client.post(f"{url}/questions", headers=manager, json={
        "key": "sector_code", "type": "short_text", "label_en": "Lĩnh vực", "label_vi": "Mã"})
    assert explicit.status_code == 201 and explicit.get_json()["questions"][-1]["key"] == "sector_code"
    again = client.post(f"{url}/questions", headers=manager, json={
        "type": "short_text", "label_en": "Lĩnh vực", "label_vi": "Lĩnh vực"})
    assert again.get_json()["questions"][-1]["key"] == "linh_vuc_2"
    bad = client.post(f"{url}/questions", headers=manager, json={
        "key": "Bad Key", "type": "short_text", "label_en": "X", "label_vi": "X"})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"key"}

    # A new option by PATCH keeps the old ones' values and makes one for itself.
    patched = client.patch(f"{url}/questions?key=linh_vuc", headers=manager, json={"options": [
        {"label_en": "Agritech", "label_vi": "Nông nghiệp công nghệ cao"}, {"value": "hc", "label_en": "Health"},
        {"label_en": "Smart manufacturing", "label_vi": "Sản xuất thông minh"}]})
    assert patched.status_code == 200
    options = next(q for q in patched.get_json()["questions"] if q["key"] == "linh_vuc")["options"]
    assert [o["value"] for o in options] == ["agritech", "hc", "smart_manufacturing"]


def test_a_whole_form_put_without_keys_renames_nothing(client, intake, api_headers, session):
    manager = api_headers(intake.manager)
    url = f"{BASE}/calls/{intake.call.id}/form"
    current = client.get(url, headers=manager).get_json()["questions"]
    keyless = [{k: v for k, v in q.items() if k != "key"} for q in current]
    for q in keyless:
        for option in q.get("options", []):
            option.pop("value")
    keyless.insert(1, {"type": "short_text", "label_en": "Địa chỉ", "label_vi": "Địa chỉ"})
    keyless.append({"key": "dia_chi", "type": "short_text", "label_en": "Address", "label_vi": "Địa chỉ"})
    put = client.put(url, headers=manager, json={"questions": keyless})
    assert put.status_code == 200, put.get_json()
    keys = [q["key"] for q in put.get_json()["questions"]]
    assert keys == [current[0]["key"], "dia_chi_2", *[q["key"] for q in current[1:]], "dia_chi"]
    session.expire_all()
    stored = {q["key"]: q for q in intake.call.current_form.questions}
    assert [o["value"] for o in stored["country"]["options"]] == ["vn", "kr"]
    # A new question never takes the key of one that was left out (its answers are not its own).
    fresh = client.put(url, headers=manager, json={"questions": [
        {"type": "short_text", "label_en": "Pitch", "label_vi": "Giới thiệu mới"},  # the label of "pitch" today
        {"type": "short_text", "label_en": "Country", "label_vi": "Quốc gia"}]})
    assert fresh.status_code == 200
    assert [q["key"] for q in fresh.get_json()["questions"]] == ["pitch", "country"]
    dropped = client.put(url, headers=manager, json={"questions": [
        {"type": "short_text", "label_en": "Pitch!", "label_vi": "Giới thiệu"},  # not the label: a new question
        {"type": "short_text", "label_en": "Country", "label_vi": "Quốc gia"}]})
    assert [q["key"] for q in dropped.get_json()["questions"]] == ["pitch_2", "country"]
    dupes = client.put(url, headers=manager, json={"questions": [
        {"key": "same", "type": "short_text", "label_en": "A", "label_vi": "A"},
        {"key": "same", "type": "short_text", "label_en": "B", "label_vi": "B"}]})
    assert dupes.status_code == 422 and set(dupes.get_json()["fields"]) == {"questions.1.key"}


# -- the preview -----------------------------------------------------------------------------------

def _labels(html: str) -> str:
    return html.split('data-testid="preview-form"')[1]


def test_the_preview_shows_every_question_as_applicants_see_it_in_either_language(client, intake, session,
                                                                                  sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form/preview"
    english = client.get(f"{url}?lang=en")
    assert english.status_code == 200
    html = english.get_data(as_text=True)
    assert 'data-testid="preview-banner"' in html and "Preview" in html and "Nothing entered here is saved" in html
    form = _labels(html)
    for question in QUESTIONS:  # every question type, by the applicant's macro
        assert f'data-question="{question["key"]}"' in form
        assert question["label_en"] in form
    assert '<select class="form-select" id="q-country" name="country"' in form
    assert ">South Korea</option>" in form and 'type="checkbox" name="sectors"' in form
    assert 'type="date" id="q-founded_on"' in form and 'type="file" id="q-deck"' in form
    assert 'name="team-0-email"' in form and 'maxlength="200"' in form
    assert 'method="post"' not in form and 'type="submit"' not in form  # nothing to send
    assert '<html lang="en">' in html

    vietnamese = client.get(f"{url}?lang=vi").get_data(as_text=True)
    form = _labels(vietnamese)
    assert "Xem trước" in vietnamese and "Quốc gia" in form and ">Hàn Quốc</option>" in form
    assert "Lĩnh vực" in form and "South Korea" not in form
    assert '<html lang="vi">' in vietnamese
    # The switch links both languages; an unknown one falls back to the reader's own.
    assert f'href="{url}?lang=en"' in vietnamese and f'href="{url}?lang=vi"' in vietnamese
    assert client.get(f"{url}?lang=fr").status_code == 200


def test_the_preview_saves_nothing(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form/preview"
    versions = session.query(FormVersion).count()
    client.get(url)
    posted = client.post(url, data={"csrf_token": csrf_token(client, f"/o/bbi/calls/{intake.call.id}/form"),
                                    "startup_name": "AgriSense", "pitch": "p", "country": "vn"})
    assert posted.status_code == 405
    answered = client.get(f"{url}?lang=en&startup_name=AgriSense&country=vn")
    assert answered.status_code == 200
    session.expire_all()
    assert session.query(Application).count() == 0 and session.query(FormVersion).count() == versions


def test_the_builder_links_to_the_preview(client, intake, sign_in):
    sign_in(intake.manager)
    page = client.get(f"/o/bbi/calls/{intake.call.id}/form").get_data(as_text=True)
    assert f'href="/o/bbi/calls/{intake.call.id}/form/preview?lang=' in page

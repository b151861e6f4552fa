"""The decision letter editor: Markdown templates checked by one service, a sample letter in English and
Vietnamese rendered by the function that renders the mail sent, through the page (without JavaScript:
the Preview button) and the API (``POST /letters/preview``), neither of which saves anything; the
letter sent has a plain-text and an HTML part."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from incubator.core import mail
from incubator.core.errors import DomainError
from incubator.intake import decisions
from incubator.intake.models import LetterTemplate, Stage
from tests.conftest import csrf_token
from tests.factories import OrgFactory, ProgrammeFactory, member
from tests.intake.fixtures import application, make_call

API = "/api/v1/orgs/bbi"
PAGE = "/o/bbi/letters"
MARKDOWN = "Chào **{applicant_name}**,\n\n{team_name} đã được nhận vào *{cohort_name}*.\n\n- Bước 1\n- Bước 2"


def _saved(session) -> int:
    return session.execute(select(func.count()).select_from(LetterTemplate)).scalar_one()


def _card(page: str, locale: str) -> str:
    """The sample letter card of ``locale`` on the editor page (up to the next card or the section's end)."""
    start = page.find(f'data-testid="letter-sample-{locale}"')
    assert start >= 0, f"no {locale} sample on the page"
    ends = [i for i in (page.find('data-testid="letter-sample-', start + 1), page.find("</section>", start))
            if i >= 0]
    return page[start:min(ends)]


# -- the service -------------------------------------------------------------------------------------

@pytest.fixture()
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.mark.usefixtures("_ctx")
def test_compose_gives_the_subject_the_plain_text_and_the_html_with_values_as_text():
    values = {"applicant_name": "<script>x</script> **Khoa**", "team_name": "A&B", "cohort_name": "K27",
              "call_title": "BBI\n2027", "org_name": "BBI"}
    letter = decisions.compose("Kết quả {call_title}", MARKDOWN, values)
    assert letter.subject == "Kết quả BBI 2027"  # one line, as a mail header must be
    assert letter.text == ("Chào **<script>x</script> **Khoa****,\n\nA&B đã được nhận vào *K27*.\n\n"
                           "- Bước 1\n- Bước 2")
    assert letter.html == ("<p>Chào <strong>&lt;script&gt;x&lt;/script&gt; **Khoa**</strong>,</p>\n"
                           "<p>A&amp;B đã được nhận vào <em>K27</em>.</p>\n<ul>\n<li>Bước 1</li>\n<li>Bước 2</li>\n"
                           "</ul>\n")
    document = letter.document("vi")
    assert document.startswith('<!DOCTYPE html>\n<html lang="vi">')
    assert "<title>Kết quả BBI 2027</title>" in document and letter.html in document


@pytest.mark.usefixtures("_ctx")
@pytest.mark.parametrize(("subject", "body", "field", "message"), [
    ("Result", "Dear {nme}", "body", "Unknown placeholders: nme."),
    ("Result {titel}", "Dear {applicant_name}", "subject", "Unknown placeholders: titel."),
    ("Result", "Dear {{ applicant_name }}", "body", "Write each placeholder in single braces"),
    ("Result", "Dear {{applicant_name}}", "body", "Write each placeholder in single braces"),
    ("Result", "Dear { applicant_name }", "body", "Write each placeholder in single braces"),
    ("Result", "x" * (decisions.BODY_MAX + 1), "body", "At most 20,000 characters (this one has 20,001)."),
    ("R" * 256, "Dear {applicant_name}", "subject", "At most 255 characters (this one has 256)."),
    ("Result", "   ", "body", "This field is required."),
])
def test_a_template_that_cannot_be_sent_as_written_is_refused(subject, body, field, message):
    with pytest.raises(DomainError) as caught:
        decisions.check_letter_template("accepted", "en", subject, body)
    assert set(caught.value.fields) == {field} and message in caught.value.fields[field]


@pytest.mark.usefixtures("_ctx")
def test_the_longest_body_allowed_and_every_default_letter_pass():
    decisions.check_letter_template("accepted", "en", "Result", "x" * decisions.BODY_MAX)
    for (outcome, locale), (subject, body) in decisions.DEFAULT_LETTERS.items():
        decisions.check_letter_template(outcome, locale, subject, body)


@pytest.mark.usefixtures("_ctx")
def test_the_sample_is_a_made_up_applicant_of_the_organisations_latest_call(session, intake):
    later = make_call(intake.org, intake.programme, title_en="Demo Day 2028", title_vi="Ngày demo 2028",
                      opens_at=intake.call.opens_at + timedelta(days=1))
    assert later.cohort_id is None
    en = decisions.sample_values(session, intake.org, "rejected", "en")
    assert en == {"applicant_name": "Alex Tran", "team_name": "GreenLeaf Robotics", "call_title": "Demo Day 2028",
                  "cohort_name": "", "org_name": intake.org.name}
    vi = decisions.sample_values(session, intake.org, "accepted", "vi")
    assert vi["call_title"] == "Ngày demo 2028" and vi["applicant_name"] == "Nguyễn Minh Anh"
    assert vi["cohort_name"] == "Khóa ươm tạo 2027"  # the latest call has no cohort: a made-up one
    later.cohort_id = intake.cohort.id
    session.flush()
    session.expire(later)
    assert decisions.sample_values(session, intake.org, "accepted", "en")["cohort_name"] == "BBI Cohort 2027"
    newcomer = OrgFactory(name="No calls yet")
    assert decisions.sample_values(session, newcomer, "accepted", "vi")["call_title"] == "Chương trình ươm tạo 2027"


# -- the page ---------------------------------------------------------------------------------------

def test_the_editor_labels_its_fields_lists_the_placeholders_and_shows_both_languages(client, intake, sign_in):
    sign_in(intake.manager)
    page = client.get(f"{PAGE}?outcome=accepted&lang=en").get_data(as_text=True)
    assert '<label class="form-label" for="subject">Subject</label>' in page
    assert '<label class="form-label" for="body">Letter</label>' in page
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert 'id="body"' in textarea and 'aria-describedby="body-help"' in textarea
    assert '<div class="form-text" id="body-help">Markdown: **bold**, *italic*' in page
    assert 'name="action" value="save">Save</button>' in page
    assert 'name="action" value="preview">Preview</button>' in page  # works without JavaScript
    placeholders = re.search(r'data-testid="placeholders">(.*?)</ul>', page, re.S).group(1)
    for name in decisions.PLACEHOLDERS:
        assert f"<code>{{{name}}}</code>" in placeholders
    assert "the applicant&#39;s name" in placeholders
    en, vi = _card(page, "en"), _card(page, "vi")
    assert "Your application to BBI Incubation 2027 is accepted" in en and "Dear Alex Tran," in en
    assert "<p>Dear Alex Tran,</p>" in en  # rendered as the mail's HTML part, not shown as source
    assert "GreenLeaf Robotics is accepted into BBI Cohort 2027." in en
    assert "Hồ sơ của bạn cho Ươm tạo BBI 2027 đã được chấp nhận" in vi and "Chào Nguyễn Minh Anh," in vi
    assert "not saved" not in page


def test_the_editor_reads_in_vietnamese(client, intake, session, sign_in):
    intake.manager.locale = "vi"
    session.flush()
    sign_in(intake.manager)
    page = client.get(f"{PAGE}?outcome=rejected&lang=vi").get_data(as_text=True)
    assert "Thư mẫu" in page and "Xem trước" in page and "tên người nộp hồ sơ" in page
    assert "Markdown: **in đậm**, *in nghiêng*" in page
    assert "Cảm ơn bạn đã ứng tuyển Ươm tạo BBI 2027" in _card(page, "vi")
    assert "Thank you for applying to BBI Incubation 2027" in _card(page, "en")


def test_preview_renders_the_typed_markdown_beside_the_saved_other_language_and_saves_nothing(client, intake,
                                                                                           session, sign_in):
    sign_in(intake.manager)
    url = f"{PAGE}?outcome=accepted&lang=vi"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "action": "preview", "subject": "Kết quả {call_title}",
                                      "body": MARKDOWN + "\n\n<script>alert(1)</script>"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    vi, en = _card(page, "vi"), _card(page, "en")
    assert "Kết quả Ươm tạo BBI 2027" in vi and "not saved" in vi
    assert "<p>Chào <strong>Nguyễn Minh Anh</strong>,</p>" in vi and "<em>BBI Cohort 2027</em>" in vi
    assert "<li>Bước 1</li>" in vi and "&lt;script&gt;alert(1)&lt;/script&gt;" in vi and "<script>alert" not in page
    assert "Your application to BBI Incubation 2027 is accepted" in en and "not saved" not in en
    assert "Chào **{applicant_name}**" in page  # the textarea keeps what was typed
    assert _saved(session) == 0
    reread = client.get(url).get_data(as_text=True)
    assert "Kết quả {call_title}" not in reread and "Hồ sơ của bạn cho {call_title}" in reread


def test_preview_and_save_refuse_an_unknown_placeholder_or_too_long_a_letter(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"{PAGE}?outcome=waitlisted&lang=en"
    token = csrf_token(client, url)
    for action in ("preview", "save"):
        bad = client.post(url, data={"csrf_token": token, "action": action, "subject": "S", "body": "Hi {nme}"})
        assert bad.status_code == 422
        page = bad.get_data(as_text=True)
        assert '<div class="invalid-feedback" data-field="body">Unknown placeholders: nme.</div>' in page
        assert "Correct the letter to see its preview." in _card(page, "en")
        assert "Your application to BBI Incubation 2027: waiting list" not in _card(page, "en")
        loose = client.post(url, data={"csrf_token": token, "action": action, "subject": "S",
                                       "body": "Hi {{ applicant_name }}"})
        assert loose.status_code == 422 and "Write each placeholder in single braces" in loose.get_data(as_text=True)
        long = client.post(url, data={"csrf_token": token, "action": action, "subject": "S",
                                      "body": "x" * (decisions.BODY_MAX + 1)})
        assert long.status_code == 422 and 'data-field="body"' in long.get_data(as_text=True)
    assert _saved(session) == 0


@pytest.mark.parametrize("who", ["founder", "reviewer", "outsider"])
def test_only_those_who_manage_programmes_may_open_or_preview_the_letters(who, client, intake, sign_in):
    user = {"founder": intake.founder, "reviewer": intake.reviewers[0],
            "outsider": member(OrgFactory(slug="elsewhere"), "manager")}[who]
    expected = 404 if who == "outsider" else 403
    sign_in(user)
    token = csrf_token(client, "/o/elsewhere/applications/mine" if who == "outsider" else "/o/bbi/applications/mine")
    assert client.get(PAGE).status_code == expected
    preview = client.post(f"{PAGE}?outcome=accepted&lang=en", data={"csrf_token": token, "action": "preview",
                                                                     "subject": "S", "body": "Hi"})
    assert preview.status_code == expected and "letter-sample" not in preview.get_data(as_text=True)


# -- the API ------------------------------------------------------------------------------------------

def test_the_api_previews_a_letter_as_given_without_saving_it(client, intake, session, api_headers):
    manager = api_headers(intake.manager)
    body = {"outcome": "accepted", "locale": "en", "subject": "Welcome to {call_title}",
            "body": "Dear **{applicant_name}**, see [the plan](https://bbi.example/plan).\n\n<b>raw</b>"}
    response = client.post(f"{API}/letters/preview", headers=manager, json=body)
    assert response.status_code == 200
    assert response.get_json() == {
        "subject": "Welcome to BBI Incubation 2027",
        "text": "Dear **Alex Tran**, see [the plan](https://bbi.example/plan).\n\n<b>raw</b>",
        "html": '<p>Dear <strong>Alex Tran</strong>, see <a href="https://bbi.example/plan">the plan</a>.</p>\n'
                "<p>&lt;b&gt;raw&lt;/b&gt;</p>\n"}
    vi = client.post(f"{API}/letters/preview", headers=manager, json={**body, "locale": "vi"}).get_json()
    assert vi["subject"] == "Welcome to Ươm tạo BBI 2027" and "<strong>Nguyễn Minh Anh</strong>" in vi["html"]
    assert _saved(session) == 0
    listed = {(t["outcome"], t["locale"]): t for t in client.get(f"{API}/letters", headers=manager).get_json()}
    assert listed[("accepted", "en")]["subject"] == "Your application to {call_title} is accepted"


@pytest.mark.parametrize(("change", "field"), [
    ({"body": "Dear {nme}"}, "body"),
    ({"body": "Dear {{ applicant_name }}"}, "body"),
    ({"subject": "About {titel}"}, "subject"),
    ({"body": "x" * (decisions.BODY_MAX + 1)}, "body"),
    ({"body": ""}, "body"),
    ({"locale": "fr"}, "locale"),
])
def test_the_api_preview_refuses_what_could_not_be_sent(change, field, client, intake, api_headers):
    body = {"outcome": "rejected", "locale": "en", "subject": "About {call_title}", "body": "Dear {applicant_name}",
            **change}
    response = client.post(f"{API}/letters/preview", headers=api_headers(intake.manager), json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] and field in response.get_json()["fields"]


@pytest.mark.parametrize("who", ["founder", "reviewer"])
def test_the_api_preview_is_for_managers(who, client, intake, api_headers):
    user = intake.founder if who == "founder" else intake.reviewers[0]
    response = client.post(f"{API}/letters/preview", headers=api_headers(user), json={
        "outcome": "rejected", "locale": "en", "subject": "S", "body": "Hi"})
    assert response.status_code == 403 and "html" not in response.get_json()


def test_the_preview_is_documented_with_its_body_and_answer(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/orgs/{org}/letters/preview"]["post"]
    assert operation["summary"] == "Preview a letter template as given, without saving it."
    assert {"200", "403", "404", "422"} <= set(operation["responses"])
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/LetterIn")
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"subject", "html", "text"}
    assert "Markdown" in str(spec["components"]["schemas"])


# -- the letter sent ----------------------------------------------------------------------------------

def test_the_letter_sent_has_the_markdown_as_text_and_rendered_as_html(client, intake, session, sign_in, app,
                                                                       tmp_path: Path):
    intake.founder.name = "<b>Khoa</b> **Trần**"
    intake.founder.locale = "vi"
    session.flush()
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    sign_in(intake.manager)
    url = f"{PAGE}?outcome=rejected&lang=vi"
    token = csrf_token(client, url)
    saved = client.post(url, data={"csrf_token": token, "action": "save", "subject": "Kết quả {call_title}",
                                   "body": "Chào **{applicant_name}**,\n\nRất tiếc lần này.\n\n[BBI](https://bbi.example)"})
    assert saved.status_code == 302 and _saved(session) == 1
    client.post(f"/o/bbi/applications/{target.id}/decide", data={"csrf_token": token, "decision": "rejected",
                                                                 "cohort_id": "0"})
    letters = f"/o/bbi/calls/{intake.call.id}/letters"
    preview = client.get(letters).get_data(as_text=True)
    assert "<strong>&lt;b&gt;Khoa&lt;/b&gt; **Trần**</strong>" in preview  # the letters to send, as sent
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path))
    try:
        client.post(letters, data={"csrf_token": token})
    finally:
        app.config["MAIL_BACKEND"] = "memory"
    [eml] = list(tmp_path.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == intake.founder.email and message["Subject"] == "Kết quả Ươm tạo BBI 2027"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Chào **<b>Khoa</b> **Trần****,\n\nRất tiếc lần này.")
    assert '<html lang="vi">' in html and "<title>Kết quả Ươm tạo BBI 2027</title>" in html
    assert f"<p>Chào <strong>{escape(intake.founder.name)}</strong>,</p>" in html
    assert '<a href="https://bbi.example">BBI</a>' in html and "<b>Khoa" not in html


def test_the_memory_outbox_carries_the_html_part_too(client, intake, session, sign_in):
    target = application(intake.call, intake.other_founder, Stage.IN_REVIEW)
    sign_in(intake.manager)
    token = csrf_token(client, f"/o/bbi/applications/{target.id}")
    client.post(f"/o/bbi/applications/{target.id}/decide", data={"csrf_token": token, "decision": "waitlisted",
                                                                 "cohort_id": "0"})
    client.post(f"/o/bbi/calls/{intake.call.id}/letters", data={"csrf_token": token})
    [sent] = mail.outbox
    assert sent.body.startswith("Dear Lê Hoa,\n\n")  # the default English letter, as text
    assert "<p>Dear Lê Hoa,</p>" in sent.html and '<html lang="en">' in sent.html
    assert _saved(session) == 0
    session.expire_all()
    assert target.letter_sent_at is not None


def test_an_organisation_without_calls_still_gets_a_sample(client, session, sign_in):
    org = OrgFactory(slug="fresh", default_locale="en")
    ProgrammeFactory(org_id=org.id)
    manager = member(org, "manager")
    sign_in(manager)
    page = client.get("/o/fresh/letters?outcome=accepted&lang=vi").get_data(as_text=True)
    assert "Your application to Incubation programme 2027 is accepted" in _card(page, "en")
    assert "Chương trình ươm tạo 2027" in _card(page, "vi")

"""The applicant portal through the pages: open calls, apply on the way in, drafts, uploads, submit, withdraw."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from incubator.core import mail
from incubator.core.db import utcnow
from incubator.intake.models import Application, ApplicationFile, Stage
from incubator.orgs.models import Membership
from tests.conftest import csrf_token
from tests.factories import OrgFactory, ProgrammeFactory, UserFactory
from tests.intake.fixtures import GOOD_ANSWERS, PDF, application, make_call


def test_public_lists_show_only_public_open_calls_across_organisations(client, intake, session):
    make_call(intake.org, intake.programme, title_en="Unlisted call", is_public=False)
    make_call(intake.org, intake.programme, title_en="Closed call", opens_at=utcnow() - timedelta(days=30),
              closes_at=utcnow() - timedelta(days=1))
    future = make_call(intake.org, intake.programme, title_en="Future call", opens_at=utcnow() + timedelta(days=3),
                       closes_at=utcnow() + timedelta(days=30))
    other = OrgFactory(slug="tdmu", name="TDMU")
    make_call(other, ProgrammeFactory(org_id=other.id), title_en="TDMU Hackathon")
    page = client.get("/o/bbi/calls").get_data(as_text=True)  # anonymous
    assert "BBI Incubation 2027" in page
    assert not any(t in page for t in ("Unlisted call", "Closed call", "Future call", "TDMU Hackathon"))
    assert client.get(f"/o/bbi/calls/{future.id}").status_code == 404  # not published yet
    everywhere = client.get("/calls").get_data(as_text=True)
    assert "BBI Incubation 2027" in everywhere and "TDMU Hackathon" in everywhere and "TDMU" in everywhere
    assert not any(t in everywhere for t in ("Unlisted call", "Closed call", "Future call"))


def test_a_call_page_shows_both_time_zones_the_fee_and_the_language(client, intake, session):
    intake.call.fee_minor = 200000
    session.flush()
    page = client.get(f"/o/bbi/calls/{intake.call.id}").get_data(as_text=True)
    assert "(Vietnam Time)" in page and "data-localtime" in page and "200,000" in page  # the zone by name
    assert "/auth/register?next=" in page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    assert "Ươm tạo BBI 2027" in client.get(f"/o/bbi/calls/{intake.call.id}").get_data(as_text=True)


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_a_newcomer_registers_on_the_way_and_applies_with_a_pdf(client, intake, session):
    call_url = f"/o/bbi/calls/{intake.call.id}"
    register = f"/auth/register?next={call_url}"
    response = client.post(register, data={"name": "Park Ji-ho", "email": "park@example.kr",
                                           "password": "a long enough password", "confirm": "a long enough password",
                                           "csrf_token": csrf_token(client, register)})
    assert response.status_code == 302
    # The link mailed to the new address verifies it, signs the newcomer in and goes back to the call.
    verify = re.search(r"http://localhost(/auth/verify/\S+)", mail.outbox[-1].body).group(1)
    response = client.post(verify, data={"csrf_token": csrf_token(client, verify)})
    assert response.status_code == 302 and response.headers["Location"].endswith(call_url)
    mail.outbox.clear()  # the verification mail; what follows counts the application's own
    response = client.post(f"{call_url}/apply", data={"csrf_token": csrf_token(client, call_url)})
    assert response.status_code == 302
    draft = session.execute(select(Application)).scalar_one()
    assert response.headers["Location"].endswith(f"/applications/{draft.id}/edit")
    user = draft.applicant
    # Applying makes no one a member (accepting does): the newcomer works on the draft without a membership.
    assert session.execute(select(Membership.role).where(Membership.user_id == user.id)).first() is None
    edit = f"/o/bbi/applications/{draft.id}/edit"
    token = csrf_token(client, edit)
    saved = client.post(edit, data={"csrf_token": token, "action": "save", "startup_name": "Hanbit Robotics",
                                    "deck": (io.BytesIO(PDF), "Hanbit deck.pdf")},
                        content_type="multipart/form-data")
    assert saved.status_code == 302
    session.expire_all()
    assert draft.answers["startup_name"] == "Hanbit Robotics" and draft.stage == Stage.DRAFT
    upload = session.execute(select(ApplicationFile)).scalar_one()
    assert draft.answers["deck"] == upload.id and upload.filename == "Hanbit deck.pdf"
    missing = client.post(edit, data={"csrf_token": token, "action": "submit", "startup_name": "Hanbit Robotics"})
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert 'data-field="pitch"' in text and 'data-field="country"' in text
    session.expire_all()
    assert draft.stage == Stage.DRAFT and draft.answers["deck"] == upload.id  # the file is kept
    done = client.post(edit, data={"csrf_token": token, "action": "submit", "startup_name": "Hanbit Robotics",
                                   "pitch": "Robots for factories", "country": "kr", "sectors": ["iot"],
                                   "team-0-name": "Lee", "team-0-email": "lee@example.kr", "team-0-role": "CTO"})
    assert done.status_code == 302
    session.expire_all()
    assert draft.stage == Stage.SUBMITTED and draft.answers["team"] == [
        {"name": "Lee", "email": "lee@example.kr", "role": "CTO"}] and draft.answers["sectors"] == ["iot"]
    assert [m.to for m in mail.outbox] == [["park@example.kr"]]
    status = client.get("/o/bbi/applications/mine").get_data(as_text=True)
    assert "Received" in status and "BBI Incubation 2027" in status


def test_uploads_must_be_pdfs_within_the_size_limit(client, intake, session, sign_in, app, monkeypatch):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={"startup_name": "Before"})
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    token = csrf_token(client, edit)
    fake = client.post(edit, data={"csrf_token": token, "action": "save", "startup_name": "After",
                                   "deck": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "deck.pdf")},
                       content_type="multipart/form-data")
    assert fake.status_code == 422 and "Not a PDF file." in fake.get_data(as_text=True)
    session.expire_all()
    assert draft.answers == {"startup_name": "Before"}  # nothing half-saved
    assert session.execute(select(ApplicationFile)).scalars().all() == []
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    big = client.post(edit, data={"csrf_token": token, "action": "save",
                                  "deck": (io.BytesIO(PDF + b"%" * 4096), "big.pdf")},
                      content_type="multipart/form-data")
    assert big.status_code == 413 and "File too large" in big.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 0)
    limited = client.post(edit, data={"csrf_token": token, "action": "save", "deck": (io.BytesIO(PDF), "d.pdf")},
                          content_type="multipart/form-data")
    assert limited.status_code == 422 and "larger than 0 MB" in limited.get_data(as_text=True)


def test_drafts_save_automatically_and_the_deadline_locks_them(client, intake, session, sign_in):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    token = csrf_token(client, edit)
    saved = client.post(f"/o/bbi/applications/{draft.id}/autosave", data={"csrf_token": token, "pitch": "Typing"})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    session.expire_all()
    assert draft.answers == {"pitch": "Typing"}
    bad = client.post(f"/o/bbi/applications/{draft.id}/autosave", data={"csrf_token": token, "website": "nope"})
    assert bad.status_code == 422 and "website" in bad.get_json()["fields"]
    intake.call.closes_at = utcnow() - timedelta(seconds=1)
    session.flush()
    late = client.post(f"/o/bbi/applications/{draft.id}/autosave", data={"csrf_token": token, "pitch": "Late"})
    assert late.status_code == 422 and late.get_json()["code"] == "deadline_passed"
    page = client.get(edit).get_data(as_text=True)
    assert "Submit application" not in page and "disabled" in page


def test_an_applicant_withdraws_and_others_cannot_touch_it(client, intake, session, sign_in):
    mine = application(intake.call, intake.founder)
    sign_in(intake.other_founder)
    assert client.get(f"/o/bbi/applications/{mine.id}/edit").status_code == 404
    token = csrf_token(client, "/o/bbi/applications/mine")
    assert client.post(f"/o/bbi/applications/{mine.id}/withdraw", data={"csrf_token": token}).status_code == 404
    client.post("/auth/logout", data={"csrf_token": token})
    sign_in(intake.founder)
    token = csrf_token(client, "/o/bbi/applications/mine")
    response = client.post(f"/o/bbi/applications/{mine.id}/withdraw", data={"csrf_token": token,
                                                                           "comment": "Joined another programme"})
    assert response.status_code == 302
    session.expire_all()
    assert mine.stage == Stage.WITHDRAWN and mine.transitions[-1].comment == "Joined another programme"
    assert "Withdrawn" in client.get("/o/bbi/applications/mine").get_data(as_text=True)
    history = client.get(f"/o/bbi/applications/{mine.id}/edit").get_data(as_text=True)
    history = history[history.index('data-testid="applicant-timeline"'):]
    assert history.index("Withdrawn") > 0 and "Screening" not in history


def test_a_submitted_application_is_edited_until_the_deadline_when_the_call_allows(client, intake, session, sign_in):
    mine = application(intake.call, intake.founder)
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{mine.id}/edit"
    token = csrf_token(client, edit)
    response = client.post(edit, data={"csrf_token": token, "action": "save", **GOOD_ANSWERS, "pitch": "Sharper",
                                       "deck": (io.BytesIO(PDF), "deck.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    assert mine.answers["pitch"] == "Sharper"
    # One save, one entry in the timeline: who changed which answers (the upload with them).
    assert "Trần Khoa edited the answers to Pitch, Pitch deck" in client.get(edit).get_data(as_text=True)
    intake.call.allow_edits = False
    session.flush()
    assert re.search(r"Save changes", client.get(edit).get_data(as_text=True)) is None


def test_applicants_never_reach_the_managers_pages(client, intake, session, sign_in):
    sign_in(intake.founder)
    for url in ("/o/bbi/calls/manage", f"/o/bbi/calls/{intake.call.id}/applications",
                f"/o/bbi/calls/{intake.call.id}/form", f"/o/bbi/calls/{intake.call.id}/export", "/o/bbi/letters"):
        assert client.get(url).status_code == 403, url
    client.get("/auth/logout")
    sign_in(intake.reviewers[0])
    call_url = f"/o/bbi/calls/{intake.call.id}"
    assert client.post(f"{call_url}/apply", data={"csrf_token": csrf_token(client, call_url)}).status_code == 403
    assert session.execute(select(Application)).scalars().all() == []
    assert UserFactory  # other users are made by the fixtures


def test_a_valid_upload_beside_a_wrong_answer_is_not_shown_as_saved(client, intake, session, sign_in):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    response = client.post(edit, data={"csrf_token": csrf_token(client, edit), "action": "save", "website": "nope",
                                       "deck": (io.BytesIO(PDF), "deck.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved: choose this file again." in page and 'data-testid="uploaded-deck"' not in page
    session.expire_all()
    assert draft.answers == {} and session.execute(select(ApplicationFile)).scalars().all() == []


def test_the_dashboard_shows_intake_by_role(client, intake, session, sign_in):
    mine = application(intake.call, intake.founder, Stage.DRAFT)
    from incubator.intake.models import Review

    session.add(Review(org_id=intake.org.id, application=application(intake.call, intake.other_founder),
                       reviewer=intake.reviewers[0]))
    session.flush()
    sign_in(intake.founder)
    page = client.get("/o/bbi/").get_data(as_text=True)
    assert f"/o/bbi/applications/{mine.id}/edit" in page and "Draft, not sent yet" in page
    client.get("/auth/logout")
    sign_in(intake.reviewers[0])
    assert "Assignments waiting for your review: 1" in client.get("/o/bbi/").get_data(as_text=True)
    client.get("/auth/logout")
    sign_in(intake.manager)
    page = client.get("/o/bbi/").get_data(as_text=True)
    assert "BBI Incubation 2027" in page and "1 applications" in page


def test_a_call_without_a_form_version_is_not_found_rather_than_a_server_error(client, intake, session):
    """Broken data (a call whose form versions are gone) answers 404, not a 500 from reading None."""
    broken = make_call(intake.org, intake.programme, title_en="Broken call")
    session.delete(broken.versions[0])
    session.flush()
    session.expire(broken, ["versions"])
    response = client.get(f"/o/bbi/calls/{broken.id}")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)

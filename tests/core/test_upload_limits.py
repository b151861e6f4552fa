"""Every file input says what it takes before the upload; a request over the limit is a form error on
the page it came from (or a 413 JSON with its code), never a 500 or a bare error page, and saves nothing."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core.uploads import accept_label
from incubator.intake.models import ApplicationFile, Stage
from tests.conftest import csrf_token
from tests.intake.fixtures import PDF, application


def _limits(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="upload-limit" data-max-bytes="(\d+)"[^>]*>([^<]*)<', page)


def test_accept_lists_read_as_short_type_names():
    assert accept_label("application/pdf,.pdf") == "PDF"
    assert accept_label("image/png, image/jpeg,.jpg") == "PNG, JPEG"
    assert accept_label(".csv,.xlsx") == "CSV, XLSX"
    assert accept_label(None) == "" and accept_label(" , ") == ""


def test_the_application_form_states_the_file_limit_from_config(client, intake, sign_in, app, monkeypatch):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    assert _limits(client.get(edit).get_data(as_text=True)) == [("20971520", "Accepted: PDF. At most 20 MB.")]
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 5)  # the narrower rule of application files
    assert _limits(client.get(edit).get_data(as_text=True)) == [("5242880", "Accepted: PDF. At most 5 MB.")]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)  # the request cap wins when smaller
    assert _limits(client.get(edit).get_data(as_text=True)) == [("1048576", "Accepted: PDF. At most 1 MB.")]


def test_the_limit_is_said_in_vietnamese(client, intake, sign_in, session):
    intake.founder.locale = "vi"
    session.flush()
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    sign_in(intake.founder)
    page = client.get(f"/o/bbi/applications/{draft.id}/edit").get_data(as_text=True)
    assert _limits(page) == [("20971520", "Định dạng chấp nhận: PDF. Tối đa 20 MB.")]


def test_an_oversized_upload_is_a_form_error_and_saves_nothing(client, intake, session, sign_in, app, monkeypatch):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={"startup_name": "Before"})
    sign_in(intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    token = csrf_token(client, edit)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    big = client.post(edit, data={"csrf_token": token, "action": "save", "startup_name": "After",
                                  "deck": (io.BytesIO(PDF + b"%" * 4096), "big.pdf")},
                      content_type="multipart/form-data", headers={"Referer": "http://localhost" + edit})
    assert big.status_code == 303 and big.headers["Location"].endswith(edit)
    form = client.get(edit).get_data(as_text=True)
    assert "The upload is larger than the limit allowed (at most 0 MB). Nothing was saved." in form
    session.expire_all()
    assert draft.answers == {"startup_name": "Before"}
    assert session.execute(select(ApplicationFile)).scalars().all() == []
    # Another site's page is not where we send the person back to: the plain 413 page.
    elsewhere = client.post(edit, data={"csrf_token": token, "deck": (io.BytesIO(b"%" * 4096), "big.pdf")},
                            content_type="multipart/form-data", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.status_code == 413 and "File too large" in elsewhere.get_data(as_text=True)


def test_an_oversized_api_upload_is_413_with_its_code(client, intake, session, app, monkeypatch):
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={})
    token = create_api_token(session, intake.founder, "t")[0]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    answer = client.post(f"/api/v1/orgs/bbi/applications/{draft.id}/files?question=deck",
                         data={"file": (io.BytesIO(PDF + b"%" * 4096), "big.pdf")}, content_type="multipart/form-data",
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 413
    body = answer.get_json()
    assert body["code"] == "payload_too_large" and body["fields"] == {"file": "At most 1024 bytes"}
    assert session.execute(select(ApplicationFile)).scalars().all() == []

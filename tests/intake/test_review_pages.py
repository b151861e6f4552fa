"""Managers and reviewers through the pages: pipeline, bulk actions, blind review, reviews, decisions,
letters, exports, files, and the form builder."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject
from sqlalchemy import select

from incubator.cohorts.models import Enrolment
from incubator.core import mail
from incubator.core.permissions import Role
from incubator.intake import review
from incubator.intake.models import ApplicationFile, Review, ReviewStatus, Stage
from tests.conftest import csrf_token, login, page_queries
from tests.factories import member
from tests.intake.fixtures import PDF, application, make_call


def _with_deck(session, app_, name="Secret Name deck.pdf"):
    from incubator.core.storage import storage

    record = ApplicationFile(org_id=app_.org_id, question_key="deck", storage_key=storage().save(io.BytesIO(PDF),
                                                                                                 ".pdf"),
                             filename=name, size=len(PDF))
    app_.files.append(record)
    session.flush()
    app_.answers = {**app_.answers, "deck": record.id}
    session.flush()
    return record


def test_reviewers_see_only_their_assignments_blind_with_others_scores_after_their_own(client, intake, session,
                                                                                          sign_in, app):
    intake.call.blind_review = True
    target = application(intake.call, intake.founder, answers={
        "startup_name": "AgriSense", "pitch": "Rice sensors", "country": "vn", "contact_email": "khoa@agri.vn",
        "team": [{"name": "Khoa Tran", "email": "khoa@agri.vn", "role": "CEO"}]})
    other = application(intake.call, intake.other_founder)
    with app.app_context():
        deck = _with_deck(session, target)
    a, b = intake.reviewers[:2]
    session.add_all([Review(org_id=intake.org.id, application=target, reviewer=a),
                     Review(org_id=intake.org.id, application=target, reviewer=b, status=ReviewStatus.SUBMITTED,
                            scores={"team": 1, "market": 2}, recommendation="no", comment="Weak market")])
    session.flush()
    sign_in(a)
    listing = client.get("/o/bbi/reviews").get_data(as_text=True)
    assert f"Application #{target.id}" in listing and "AgriSense" not in listing
    assert client.get(f"/o/bbi/applications/{other.id}").status_code == 404
    page = client.get(f"/o/bbi/applications/{target.id}").get_data(as_text=True)
    for secret in (intake.founder.name, intake.founder.email, "khoa@agri.vn", "Khoa Tran", "Secret Name deck.pdf",
                   "AgriSense"):
        assert secret not in page, secret
    assert "Rice sensors" in page and "Document (PDF)" in page
    assert "Weak market" not in page and 'data-testid="reviews-hidden"' in page
    download = client.get(f"/o/bbi/applications/{target.id}/files/{deck.id}")
    # Under blind review the PDF is rewritten without its metadata: the same page, not the same bytes.
    assert download.status_code == 200 and len(PdfReader(io.BytesIO(download.data)).pages) == 1
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Secret" not in download.headers["Content-Disposition"]
    token = csrf_token(client, f"/o/bbi/applications/{target.id}")
    wrong = client.post(f"/o/bbi/applications/{target.id}/review", data={
        "csrf_token": token, "score-team": "7", "score-market": "5", "recommendation": "yes"})
    assert wrong.status_code == 422 and "A score from 0 to 5." in wrong.get_data(as_text=True)
    done = client.post(f"/o/bbi/applications/{target.id}/review", data={
        "csrf_token": token, "score-team": "4", "score-market": "8", "recommendation": "yes", "comment": "Good"})
    assert done.status_code == 302
    assert "Weak market" in client.get(f"/o/bbi/applications/{target.id}").get_data(as_text=True)


def _pdf_with_identity() -> bytes:
    """A PDF naming its author, as a word processor writes it: the document information and an XMP stream."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": "Trần Khoa", "/Title": "AgriSense pitch deck", "/Subject": "AgriSense seed round",
                         "/Keywords": "AgriSense, Khoa", "/Creator": "Khoa's laptop", "/Producer": "AgriSense Office"})
    xmp = DecodedStreamObject()
    xmp.set_data(b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
                 b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
                 b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>AgriSenseAuthor</dc:creator>'
                 b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_blind_reviewers_download_pdfs_without_their_metadata(client, intake, session, sign_in, app):
    from incubator.core.storage import storage

    intake.call.blind_review = True
    target = application(intake.call, intake.founder)
    data = _pdf_with_identity()
    with app.app_context():
        record = ApplicationFile(org_id=target.org_id, question_key="deck", filename="AgriSense deck.pdf",
                                 storage_key=storage().save(io.BytesIO(data), ".pdf"), size=len(data))
    target.files.append(record)
    session.flush()
    target.answers = {**target.answers, "deck": record.id}
    session.add(Review(org_id=intake.org.id, application=target, reviewer=intake.reviewers[0]))
    session.flush()
    sign_in(intake.reviewers[0])
    page = client.get(f"/o/bbi/applications/{target.id}").get_data(as_text=True)
    assert "free-text answers are shown as the applicant wrote them" in page
    download = client.get(f"/o/bbi/applications/{target.id}/files/{record.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f"attachment; filename=application-{target.id}-deck.pdf"
    reader = PdfReader(io.BytesIO(download.data))
    assert len(reader.pages) == 1 and not reader.metadata and reader.xmp_metadata is None
    for secret in (b"AgriSense", b"Khoa", "Trần".encode("utf-16-be")):
        assert secret not in download.data, secret
    # The manager reads the document as it was uploaded.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/o/bbi/reviews")})
    sign_in(intake.manager)
    original = client.get(f"/o/bbi/applications/{target.id}/files/{record.id}")
    assert original.data == data and PdfReader(io.BytesIO(original.data)).metadata["/Author"] == "Trần Khoa"


def test_a_reviewer_declares_a_conflict_and_loses_access(client, intake, session, sign_in):
    target = application(intake.call, intake.founder)
    session.add(Review(org_id=intake.org.id, application=target, reviewer=intake.reviewers[0]))
    session.flush()
    sign_in(intake.reviewers[0])
    url = f"/o/bbi/applications/{target.id}"
    response = client.post(f"{url}/conflict", data={"csrf_token": csrf_token(client, url),
                                                    "reason": "My brother's startup"})
    assert response.status_code == 302
    row = session.execute(select(Review)).scalar_one()
    session.refresh(row)
    assert row.status == ReviewStatus.CONFLICT and row.conflict_reason == "My brother's startup"
    assert client.get(url).status_code == 404


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_files_are_served_only_to_who_may_see_the_application(client, intake, session, sign_in, app):
    target = application(intake.call, intake.founder)
    with app.app_context():
        deck = _with_deck(session, target, "AgriSense deck.pdf")
    url = f"/o/bbi/applications/{target.id}/files/{deck.id}"
    sign_in(intake.reviewers[2])  # not assigned
    assert client.get(url).status_code == 404
    client.get("/auth/logout")
    sign_in(intake.founder)
    own = client.get(url)
    assert own.status_code == 200 and "AgriSense deck.pdf" in own.headers["Content-Disposition"]
    assert own.headers["Content-Type"] == "application/pdf"


def test_managers_move_assign_and_decide_in_bulk_and_see_the_timeline(client, intake, session, sign_in):
    apps = [application(intake.call, member(intake.org, Role.FOUNDER), answers={
        "startup_name": f"Team {n}", "pitch": "p", "country": "vn"}) for n in range(4)]
    sign_in(intake.manager)
    listing = f"/o/bbi/calls/{intake.call.id}/applications"
    token = csrf_token(client, listing)
    bulk = f"/o/bbi/calls/{intake.call.id}/bulk"
    ids = [str(a.id) for a in apps]
    client.post(bulk, data={"csrf_token": token, "action": "move", "stage": "in_review", "application_id": ids,
                            "comment": "Eligible"})
    client.post(bulk, data={"csrf_token": token, "action": "auto_assign", "application_id": ids})
    session.expire_all()
    assert {a.stage for a in apps} == {Stage.IN_REVIEW}
    reviews = session.execute(select(Review)).scalars().all()
    assert len(reviews) == 8 and sorted(
        sum(1 for r in reviews if r.reviewer_id == u.id) for u in intake.reviewers) == [2, 3, 3]
    assert len(mail.outbox) == 3  # one assignment email per reviewer
    for n, a in enumerate(apps):
        for r in a.reviews:
            review.submit_review(session, a, r.reviewer, scores={"team": 5 - n, "market": 10 - 2 * n},
                                 recommendation="yes")
    session.flush()
    ranked = client.get(f"{listing}?sort=total").get_data(as_text=True)
    assert ranked.index("Team 0") < ranked.index("Team 1") < ranked.index("Team 3")
    compare = client.get(f"/o/bbi/calls/{intake.call.id}/compare?application_id={apps[0].id}"
                         f"&application_id={apps[1].id}").get_data(as_text=True)
    assert "Team 0" in compare and "Team 1" in compare and "Team 2" not in compare
    decided = client.post(bulk, data={"csrf_token": token, "action": "decide", "decision": "accepted",
                                      "cohort_id": str(intake.cohort.id), "application_id": ids[:2]})
    assert decided.status_code == 302
    client.post(bulk, data={"csrf_token": token, "action": "decide", "decision": "rejected",
                            "application_id": ids[2:], "cohort_id": "0"})
    session.expire_all()
    assert [a.stage for a in apps] == [Stage.ACCEPTED, Stage.ACCEPTED, Stage.REJECTED, Stage.REJECTED]
    assert session.execute(select(Enrolment).where(Enrolment.cohort_id == intake.cohort.id)).scalars().all()
    page = client.get(f"/o/bbi/applications/{apps[0].id}").get_data(as_text=True)
    assert "Eligible" in page and 'data-testid="timeline"' in page and "In review → Accepted" in page.replace(
        "\n", " ").replace("      ", "")


def test_decision_letters_are_previewed_then_sent_by_a_job(client, intake, session, sign_in):
    target = application(intake.call, intake.founder, Stage.IN_REVIEW)
    sign_in(intake.manager)
    url = f"/o/bbi/applications/{target.id}"
    token = csrf_token(client, url)
    client.post(f"{url}/decide", data={"csrf_token": token, "decision": "waitlisted", "cohort_id": "0"})
    session.expire_all()
    assert target.stage == Stage.WAITLISTED
    letters = f"/o/bbi/calls/{intake.call.id}/letters"
    preview = client.get(letters).get_data(as_text=True)
    assert "waiting list" in preview and intake.founder.email in preview
    assert mail.outbox == []
    client.post(letters, data={"csrf_token": token})
    assert [m.to for m in mail.outbox] == [[intake.founder.email]] and "waiting list" in mail.outbox[0].subject
    session.expire_all()
    assert target.letter_sent_at is not None
    assert "Every decision letter is sent." in client.get(letters).get_data(as_text=True)


def test_letter_templates_are_edited_per_outcome_and_language(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = "/o/bbi/letters?outcome=rejected&lang=vi"
    token = csrf_token(client, url)
    bad = client.post(url, data={"csrf_token": token, "subject": "Kết quả", "body": "Chào {ten}"})
    assert bad.status_code == 422 and "Unknown placeholders: ten." in bad.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": token, "subject": "Kết quả {call_title}",
                                "body": "Chào {applicant_name}"})
    assert ok.status_code == 302
    assert "Kết quả {call_title}" in client.get(url).get_data(as_text=True)


def test_exports_carry_answers_and_scores_in_csv_and_xlsx(client, intake, session, sign_in):
    target = application(intake.call, intake.founder, answers={
        "startup_name": "=HYPERLINK(\"x\")", "pitch": "p", "country": "kr", "sectors": ["agri", "iot"]})
    review.assign(session, target, intake.reviewers[0], notify=False)
    review.submit_review(session, target, intake.reviewers[0], scores={"team": 5, "market": 5},
                         recommendation="yes")
    session.flush()
    sign_in(intake.manager)
    response = client.get(f"/o/bbi/calls/{intake.call.id}/export?format=csv")
    assert response.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert header[:8] == ["Id", "Applicant", "Email", "Stage", "Submitted at (UTC)", "Reviews", "Weighted total",
                          "Normalised score"]
    assert row[0] == str(target.id) and row[6] == "83.33"  # (2 * 5/5 + 1 * 5/10) / 3
    cells = dict(zip(header, row, strict=True))
    assert cells["Startup name"] == "'=HYPERLINK(\"x\")" and cells["Country"] == "South Korea"
    assert cells["Sectors"] == "Agritech; IoT"
    xlsx = client.get(f"/o/bbi/calls/{intake.call.id}/export?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Id" and values[1][0] == target.id and values[1][6] == 83.33
    name = sheet.cell(row=2, column=values[0].index("Startup name") + 1)
    assert (name.data_type, name.value) == ("s", '=HYPERLINK("x")')  # text, never a formula
    # The moment of submission: a date cell in the spreadsheet, ISO 8601 (UTC) in the CSV, for machines.
    submitted = target.submitted_at.replace(tzinfo=None, second=0, microsecond=0)
    assert sheet.cell(row=2, column=5).is_date and sheet.cell(row=2, column=5).value == submitted
    assert row[4] == submitted.isoformat(timespec="minutes") + "+00:00"


def test_the_form_builder_versions_the_form_once_it_is_answered(client, intake, session, sign_in):
    sign_in(intake.manager)
    url = f"/o/bbi/calls/{intake.call.id}/form"
    token = csrf_token(client, url)
    bad = client.post(url, data={"csrf_token": token, "type": "single_choice",
                                 "label_en": "Stage", "label_vi": "Giai đoạn", "options_en": "only"})
    assert bad.status_code == 422
    added = client.post(url, data={"csrf_token": token, "type": "single_choice",
                                   "label_en": "Stage", "label_vi": "Giai đoạn", "required": "y",
                                   "options_en": "Idea\nMVP", "options_vi": "Ý tưởng\nMVP"})
    assert added.status_code == 302
    session.expire_all()
    assert intake.call.current_version.number == 1 and intake.call.current_version.questions[-1]["key"] == "stage"
    answered = application(intake.call, intake.founder)
    client.post(f"{url}/change", data={"csrf_token": token, "key": "stage", "action": "up"})
    session.expire_all()
    assert intake.call.current_version.number == 2
    assert [q["key"] for q in intake.call.current_version.questions][-2:] == ["stage", "team"]
    assert answered.form_version.number == 1 and answered.form_version.questions[-1]["key"] == "stage"
    edit = client.post(url, data={"csrf_token": token, "original_key": "stage",
                                  "type": "long_text", "label_en": "Stage now", "label_vi": "Giai đoạn",
                                  "max_length": "100"})
    assert edit.status_code == 302
    session.expire_all()
    question = next(q for q in intake.call.current_version.questions if q["key"] == "stage")
    assert question["type"] == "long_text" and question["max_length"] == 100


def test_a_manager_creates_a_call_in_the_organisations_time_zone(client, intake, session, sign_in):
    from incubator.intake.models import Call

    sign_in(intake.manager)
    url = "/o/bbi/calls/new"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "programme_id": str(intake.programme.id), "cohort_id": "0",
        "title_en": "Hackathon 2027", "title_vi": "Hackathon 2027", "opens_at": "2027-03-01T08:00",
        "closes_at": "2027-03-20T17:00", "is_public": "y", "cap": "120", "fee": "150000",
        "reviewers_per_application": "3"})
    assert response.status_code == 302, response.get_data(as_text=True)
    call = session.execute(select(Call).where(Call.title_en == "Hackathon 2027")).scalar_one()
    assert call.opens_at.isoformat() == "2027-03-01T01:00:00+00:00"  # 08:00 in Ho Chi Minh City is 01:00 UTC
    assert call.cap == 120 and call.fee_minor == 150000 and call.reviewers_per_application == 3
    wrong = client.post(url, data={
        "csrf_token": csrf_token(client, url), "programme_id": str(intake.programme.id), "cohort_id": "0",
        "title_en": "Backwards", "title_vi": "Ngược", "opens_at": "2027-03-20T08:00",
        "closes_at": "2027-03-01T17:00", "reviewers_per_application": "2"})
    assert wrong.status_code == 422 and "The call must close after it opens." in wrong.get_data(as_text=True)


def test_an_invited_team_member_becomes_a_founder_of_the_startup_when_they_join(client, intake, session, sign_in):
    import re

    from incubator.cohorts.models import Startup
    from incubator.intake.models import PendingFounder

    target = application(intake.call, intake.founder, Stage.IN_REVIEW, answers={
        "startup_name": "AgriSense", "pitch": "p", "country": "vn",
        "team": [{"name": "Mai", "email": "Mai@Example.vn", "role": "CFO"}]})
    sign_in(intake.manager)
    url = f"/o/bbi/applications/{target.id}"
    client.post(f"{url}/decide", data={"csrf_token": csrf_token(client, url), "decision": "accepted",
                                       "cohort_id": str(intake.cohort.id)})
    invitation = next(m for m in mail.outbox if m.to == ["mai@example.vn"])
    link = re.search(r"http://localhost(/auth/invitations/\S+)", invitation.body).group(1)
    assert session.execute(select(PendingFounder)).scalar_one().email == "mai@example.vn"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    client.get(link)
    register = "/auth/register"
    client.post(register, data={"name": "Mai", "email": "mai@example.vn", "password": "a long passphrase 1",
                                "confirm": "a long passphrase 1", "csrf_token": csrf_token(client, register)})
    login(client, "mai@example.vn", "a long passphrase 1")  # registering signs no one in
    joined = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert joined.status_code == 302
    startup = session.execute(select(Startup).where(Startup.name == "AgriSense")).scalar_one()
    session.refresh(startup)
    assert {f.user.email for f in startup.founders} == {intake.founder.email, "mai@example.vn"}
    assert session.execute(select(PendingFounder)).scalars().all() == []


def _reviewed(intake, session, n):
    for _ in range(n):
        app_ = application(intake.call, member(intake.org, Role.FOUNDER))
        for reviewer in intake.reviewers[:2]:
            session.add(Review(org_id=intake.org.id, application=app_, reviewer=reviewer,
                               status=ReviewStatus.SUBMITTED, scores={"team": 3, "market": 5},
                               recommendation="maybe"))
    session.flush()


def test_the_list_and_review_pages_run_a_fixed_number_ofpage_queries(app, client, intake, session, sign_in):
    sign_in(intake.manager)
    listing = f"/o/bbi/calls/{intake.call.id}/applications"
    _reviewed(intake, session, 3)
    few = page_queries(app, client, listing)
    _reviewed(intake, session, 12)
    assert page_queries(app, client, listing) == few
    client.get("/auth/logout")
    sign_in(intake.reviewers[0])
    few = page_queries(app, client, "/o/bbi/reviews")
    _reviewed(intake, session, 5)
    assert page_queries(app, client, "/o/bbi/reviews") == few


def test_accepting_into_a_full_cohort_changes_nothing(client, intake, session, sign_in):
    from incubator.cohorts.models import Startup

    intake.cohort.capacity = 1
    application(intake.call, intake.other_founder, Stage.IN_REVIEW)
    first = application(intake.call, member(intake.org, Role.FOUNDER), Stage.IN_REVIEW,
                        answers={"startup_name": "First", "pitch": "p", "country": "vn"})
    target = application(intake.call, intake.founder, Stage.IN_REVIEW,
                         answers={"startup_name": "Second", "pitch": "p", "country": "vn"})
    sign_in(intake.manager)
    for app_ in (first, target):
        url = f"/o/bbi/applications/{app_.id}"
        client.post(f"{url}/decide", data={"csrf_token": csrf_token(client, url), "decision": "accepted",
                                           "cohort_id": str(intake.cohort.id)})
    session.expire_all()
    assert first.stage == Stage.ACCEPTED and target.stage == Stage.IN_REVIEW
    assert [t.to_stage for t in target.transitions] == []
    assert session.execute(select(Startup.name)).scalars().all() == ["First"]
    assert "The cohort is full" in client.get(f"/o/bbi/applications/{target.id}").get_data(as_text=True)


def test_choice_answers_show_their_labels_and_an_unmapped_stage_is_said(client, intake, session, sign_in):
    from copy import deepcopy

    from incubator.intake.demo import FORM

    form = deepcopy(FORM)
    next(q for q in form if q["key"] == "stage")["options"].append(
        {"value": "seed_round", "label_en": "Raising a seed round", "label_vi": "Đang gọi vốn hạt giống"})
    call = make_call(intake.org, intake.programme, intake.cohort, questions=form)
    answers = {"startup_name": "MediTrack", "sector": "logistics", "stage": "seed_round", "country": "kr",
               "origin": "enterprise", "problem": "Tracks medicines", "team_size": 6, "contact_email": "a@b.vn"}
    target = application(call, intake.founder, Stage.IN_REVIEW, answers=answers)
    other = application(call, intake.other_founder, Stage.IN_REVIEW, answers={**answers, "startup_name": "RiceTrace",
                                                                               "sector": "health", "stage": "mvp"})
    sign_in(intake.manager)
    compare = client.get(f"/o/bbi/calls/{call.id}/compare?application_id={target.id}&application_id={other.id}")
    text = compare.get_data(as_text=True)
    for label in ("Logistics", "Health", "Raising a seed round", "MVP", "South Korea", "Enterprise"):
        assert f"<td>{label}</td>" in text, label
    assert "<td>kr</td>" not in text and "<td>seed_round</td>" not in text
    exported = client.get(f"/o/bbi/calls/{call.id}/export?format=csv").data.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(exported)) if "MediTrack" in r)
    assert "South Korea" in row and "Raising a seed round" in row and "kr" not in row
    url = f"/o/bbi/applications/{target.id}"
    page = client.get(url).get_data(as_text=True)
    assert "South Korea" in page and "Raising a seed round" in page
    decided = client.post(f"{url}/decide", data={"csrf_token": csrf_token(client, url), "decision": "accepted",
                                                 "cohort_id": str(intake.cohort.id)}, follow_redirects=True)
    assert "The answer Raising a seed round (Stage) is not one of the startup stages" in decided.get_data(as_text=True)
    session.expire_all()
    assert (target.startup.stage, target.startup.origin) == ("idea", "enterprise")


def test_the_api_decision_names_answers_the_startup_could_not_take(client, intake, session):
    from incubator.accounts.services import create_api_token
    from incubator.intake.demo import FORM

    call = make_call(intake.org, intake.programme, intake.cohort, questions=FORM)
    target = application(call, intake.founder, Stage.IN_REVIEW, answers={
        "startup_name": "MediTrack", "stage": "revenue", "origin": "enterprise", "sector": "health"})
    intake.manager.locale = "en"
    value, _record = create_api_token(session, intake.manager, "t")
    session.flush()
    answer = client.post(f"/api/v1/orgs/bbi/applications/{target.id}/decision",
                         headers={"Authorization": f"Bearer {value}"}, json={"decision": "accepted"})
    assert answer.status_code == 200 and answer.get_json()["warnings"] == []
    session.expire_all()
    assert (target.startup.stage, target.startup.origin, target.startup.sector) == ("revenue", "enterprise", "Y tế")

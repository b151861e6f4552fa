"""Two app instances on the same database: a file uploaded through one is downloaded through the other,
through the real views, when they share a bucket (``STORAGE_URL=s3://``). With a folder each (what
``UPLOAD_DIR`` gives two servers) the second instance cannot find the file: a 404, not a 500.

Both instances are ``create_app`` with the same settings but their own ``UPLOAD_DIR``; they share the
test's database connection (the test transaction), as two servers share one database.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from incubator.cohorts.models import Milestone
from incubator.core.db import utcnow
from incubator.intake.models import ApplicationFile, Stage
from incubator.reporting.models import ReportExport
from tests.conftest import csrf_token, login
from tests.intake.fixtures import PDF, application
from tests.reporting.fixtures import YEAR


@pytest.fixture(params=["one bucket", "a folder each"])
def instances(request, database_url, connection, tmp_path):
    """``(a, b, shared)``: two apps on the test's database; ``shared`` tells whether they share their files."""
    from incubator import create_app

    shared = request.param == "one bucket"
    common = request.getfixturevalue("s3_settings") if shared else {}
    apps = []
    for name in ("a", "b"):
        settings = {"DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path / name), **common}
        if not shared:
            settings["STORAGE_URL"] = f"file://{tmp_path / name}"
        instance = create_app(settings)
        instance.extensions["db_test_connection"] = connection
        apps.append(instance)
    try:
        yield apps[0], apps[1], shared
    finally:
        for instance in apps:
            instance.extensions.pop("db_test_connection", None)
            instance.extensions["db_engine"].dispose()


def _browser(instance, user):
    client = instance.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, user.email).status_code == 302
    return client


def test_an_applications_pdf_uploaded_on_one_is_downloaded_on_the_other(instances, intake, session):
    a, b, shared = instances
    draft = application(intake.call, intake.founder, Stage.DRAFT, answers={"startup_name": "AgriSense"})
    founder = _browser(a, intake.founder)
    edit = f"/o/bbi/applications/{draft.id}/edit"
    saved = founder.post(edit, data={"csrf_token": csrf_token(founder, edit), "action": "save",
                                     "startup_name": "AgriSense", "deck": (io.BytesIO(PDF), "AgriSense deck.pdf")},
                         content_type="multipart/form-data")
    assert saved.status_code == 302
    record = session.execute(select(ApplicationFile)).scalar_one()
    url = f"/o/bbi/applications/{draft.id}/files/{record.id}"
    assert founder.get(url).data == PDF  # the instance that took the upload has it either way
    other = _browser(b, intake.founder).get(url)
    if shared:
        assert other.status_code == 200 and other.data == PDF and other.mimetype == "application/pdf"
        assert "AgriSense deck.pdf" in other.headers["Content-Disposition"]
    else:
        assert other.status_code == 404


def test_a_startups_evidence_file_uploaded_on_one_is_downloaded_on_the_other(instances, world, session):
    a, b, shared = instances
    stone = Milestone(org_id=world.org.id, startup=world.startup, title="First pilot",
                      due_on=(utcnow() + timedelta(days=30)).date())
    session.add(stone)
    session.flush()
    founder = _browser(a, world.founder)
    page = f"/o/bbi/startups/{world.startup.id}"
    posted = founder.post(f"/o/bbi/milestones/{stone.id}", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(founder, page), "status": "in_progress",
        "evidence_file": (io.BytesIO(b"%PDF-1.4 pilot contract"), "Hợp đồng thử nghiệm.pdf")})
    assert posted.status_code == 302
    session.refresh(stone)
    assert stone.evidence_key and stone.evidence_name == "Hợp đồng thử nghiệm.pdf"
    got = _browser(b, world.manager).get(f"/o/bbi/milestones/{stone.id}/evidence")
    if shared:
        assert got.status_code == 200 and got.data == b"%PDF-1.4 pilot contract"
        assert "attachment" in got.headers["Content-Disposition"]
    else:
        assert got.status_code == 404


def test_a_report_file_made_on_one_is_served_from_the_cache_on_the_other(instances, rw, session):
    """The cached export (one row, one file) is found by both; only a shared bucket lets the second serve it."""
    a, b, shared = instances
    url = f"/o/inc-a/reports/download.csv?period=year&year={YEAR}&cohort={rw.a1.id}&lang=en"
    first = _browser(a, rw.manager_a).get(url)
    assert first.status_code == 200 and first.mimetype == "text/csv"
    exports = session.execute(select(func.count()).select_from(ReportExport)).scalar_one()
    assert exports == 1
    second = _browser(b, rw.manager_a).get(url)
    assert session.execute(select(func.count()).select_from(ReportExport)).scalar_one() == 1  # not made again
    if shared:
        assert second.status_code == 200 and second.data == first.data
    else:
        assert second.status_code == 404  # was a 500: the row is there, the file is on the other server

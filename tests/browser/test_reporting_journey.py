"""A funder opens the report, switches the period, and downloads the PDF and the XLSX; the state agency
sees the province-wide roll-up."""

from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.sync_api import expect

from incubator.core.db import utcnow
from incubator.core.timezones import to_local
from tests.browser.test_journeys import sign_in


def test_funder_reads_the_report_and_downloads_it(browser, live_server, shot):
    today = to_local(utcnow(), "Asia/Ho_Chi_Minh").date()
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, "funder@bbi.example.com")
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("h1")).to_have_text("Programme report")
    expect(page.get_by_test_id("report-scope")).to_contain_text("BBI Cohort 2026")
    expect(page.locator('[data-headline="startups"]')).to_have_text("9")
    expect(page.get_by_test_id("startups").locator("tbody tr")).to_have_count(9)
    expect(page.locator("#report-chart")).to_be_visible()
    # the chart script runs after the page loads: wait for it to have drawn
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('report-chart'))")
    drawn = page.evaluate("Chart.getChart(document.getElementById('report-chart')).data.datasets.map(d => d.type)")
    assert drawn[-1] == "line" and "bar" in drawn  # the KPI bars, with the mentoring hours as a line
    shot(page, "funder-report")

    # Switch to the quarter under way: the period fields follow, and the scope says which quarter.
    filters = page.get_by_test_id("report-filters")
    filters.locator("select[name=period]").select_option("quarter")
    expect(filters.locator("input[name=start]")).to_be_hidden()
    quarter = (today.month - 1) // 3 + 1
    filters.locator("select[name=quarter]").select_option(str(quarter))
    filters.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("report-scope")).to_contain_text(f"Q{quarter} {today.year}")
    expect(page.locator('[data-headline="startups"]')).to_have_text("9")

    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-pdf").click()
    pdf = pdf_download.value
    assert pdf.suggested_filename.endswith(".pdf")
    assert Path(pdf.path()).read_bytes()[:4] == b"%PDF"

    with page.expect_download() as xlsx_download:
        page.get_by_test_id("download-xlsx").click()
    xlsx = xlsx_download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    assert 'name="Startups"' in zipfile.ZipFile(xlsx.path()).read("xl/workbook.xml").decode()
    context.close()


def test_state_agency_sees_the_province_wide_rollup(browser, live_server, shot):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, "funder@dost-bd.example.com")
    page.get_by_role("link", name="Reports").click()
    comparison = page.get_by_test_id("comparison")
    expect(comparison.locator("tbody tr")).to_have_count(2)
    # Nine BBI startups and four TDMU ones, FactoryEye in both: twelve companies.
    expect(page.locator('[data-headline="startups"]')).to_have_text("12")
    # FactoryEye is one row, whose figures say which incubator's check-ins they come from; BBI's locked
    # grant counts over TDMU's unverified check-ins.
    startups = page.get_by_test_id("startups")
    expect(startups.locator("tbody tr")).to_have_count(12)
    factoryeye = startups.locator('tr[data-startup="FactoryEye"]')
    expect(factoryeye).to_have_count(1)
    expect(factoryeye.locator("[data-source]")).to_contain_text("Becamex Business Incubator")
    expect(factoryeye).to_contain_text("200,000,000")
    expect(page.get_by_test_id("targets")).to_be_visible()
    shot(page, "agency-rollup")
    context.close()


def test_a_large_report_goes_through_its_progress_page(browser, live_server, monkeypatch, shot):
    monkeypatch.setitem(live_server["app"].config, "REPORT_JOB_MIN_STARTUPS", 1)
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, "manager@bbi.example.com")
    page.get_by_role("link", name="Reports").click()
    page.get_by_test_id("download-xlsx").click()
    expect(page.locator("h1")).to_have_text("Your report is ready")  # jobs run at once in tests
    shot(page, "report-export")
    with page.expect_download() as download:
        page.get_by_test_id("export-file").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    context.close()

"""A founder submits a KPI check-in; a manager verifies and locks it."""

from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from playwright.sync_api import expect

from incubator.core.db import utcnow
from incubator.core.timezones import to_local
from tests.browser.test_journeys import sign_in


def test_founder_submits_a_checkin_and_manager_verifies_and_locks_it(browser, live_server, shot):
    period = to_local(utcnow(), "Asia/Ho_Chi_Minh").strftime("%Y-%m")  # the month under way, as typed
    shown = format_skeleton("yMMM", date.fromisoformat(period + "-01"), locale="en")  # as listed: "Dec 2026"
    founder = browser.new_context(locale="en-GB")
    page = founder.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.get_by_role("link", name="My startup").click()
    expect(page.locator("h1")).to_contain_text("AgriSense BD")
    page.get_by_test_id("new-checkin").click()
    form = page.get_by_test_id("checkin-form")
    form.locator("input[name=period]").fill(period)
    values = {"revenue": "98000000", "customers": "140", "employees_full_time": "9", "employees_part_time": "2",
              "jobs_created": "1", "products_commercialised": "0", "ip_filings": "0", "funding_equity": "0",
              "funding_debt": "0", "funding_grant": "0"}
    for name, value in values.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("input[name=employees_part_time]").fill("-1")
    form.get_by_role("button", name="Submit the check-in").click()
    expect(page.locator('[data-field="employees_part_time"]')).to_have_text("Must not be negative.")
    page.get_by_test_id("checkin-form").locator("input[name=employees_part_time]").fill("2")
    page.get_by_test_id("checkin-form").get_by_role("button", name="Submit the check-in").click()
    history = page.get_by_test_id("checkin-history")
    expect(history.get_by_role("row", name=shown)).to_contain_text("submitted")
    shot(page, "founder-checkin")
    founder.close()

    manager = browser.new_context(locale="en-GB")
    page = manager.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, "manager@bbi.example.com")
    page.get_by_role("link", name="Cohorts", exact=True).click()
    page.get_by_role("link", name="BBI Cohort 2026").click()
    expect(page.get_by_test_id("startup-table").locator("tbody tr")).to_have_count(9)
    expect(page.locator("#cohort-chart")).to_be_visible()
    # the chart script runs after the page loads: wait for it to have drawn
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('cohort-chart'))")
    assert page.evaluate("Chart.getChart(document.getElementById('cohort-chart')).data.datasets.length") >= 2
    shot(page, "cohort-dashboard")
    page.get_by_role("link", name="AgriSense BD").click()
    page.get_by_test_id("checkin-history").get_by_role("link", name=shown).click()
    page.get_by_role("button", name="Verify and lock").click()
    expect(page.get_by_test_id("locked")).to_be_visible()
    expect(page.get_by_role("button", name="Submit the check-in")).to_have_count(0)
    manager.close()

"""A manager runs the matching and publishes; a mentor accepts and logs a session; the founder rates it."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from incubator.core.db import utcnow
from incubator.core.timezones import to_local
from tests.browser.test_journeys import sign_in


def test_matching_to_a_rated_session(browser, live_server, shot):
    manager = browser.new_context(locale="en-GB")
    page = manager.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, "manager@bbi.example.com")
    page.get_by_role("link", name="Cohorts", exact=True).click()
    page.get_by_role("link", name="BBI Cohort 2026").click()
    page.get_by_role("link", name="Mentor matching").click()
    form = page.get_by_test_id("run-form")
    form.locator("input[name=per_startup]").fill("3")
    form.get_by_role("button", name="Run the matching").click()
    expect(page.locator(".alert-success")).to_contain_text("Matching done")
    expect(page.get_by_test_id("matches").locator("tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("reasons").first).to_contain_text("(+")
    shot(page, "matching")
    page.get_by_role("button", name="Publish the proposals").click()
    expect(page.locator(".alert-success")).to_contain_text("published")
    manager.close()

    mentor = browser.new_context(locale="en-GB")
    page = mentor.new_page()
    sign_in(page, live_server, "mentor@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="Mentoring", exact=True).click()
    card = page.locator("section", has_text="AgriSense BD · Lê Văn Hùng")
    card.get_by_role("button", name="Accept").click()
    expect(page.locator(".alert-success")).to_contain_text("answer is recorded")
    today = to_local(utcnow(), "Asia/Ho_Chi_Minh").date()
    monday = today + timedelta(days=(0 - today.weekday()) % 7 or 7)  # the mentor is free Mondays 17:00-20:00
    card = page.locator("section", has_text="AgriSense BD · Lê Văn Hùng")
    card.locator("input[name=starts_at]").fill(f"{monday.isoformat()}T17:30")
    card.get_by_role("button", name="Schedule a session").click()
    expect(page.locator(".alert-success")).to_contain_text("scheduled")
    page.locator("section", has_text="AgriSense BD · Lê Văn Hùng").get_by_role("link").first.click()
    log = page.get_by_test_id("log-form")
    log.locator("#notes").fill("Export paperwork for the Korean distributor; pricing in USD.")
    log.locator("input[name=action_title]").first.fill("Send the draft contract")
    log.get_by_role("button", name="Log the session").click()
    expect(page.get_by_test_id("session-status")).to_have_text("held")
    expect(page.get_by_test_id("actions")).to_contain_text("Send the draft contract")
    session_url = page.url
    mentor.close()

    founder = browser.new_context(locale="en-GB")
    page = founder.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.goto(session_url)
    expect(page.locator("main")).to_contain_text("Export paperwork for the Korean distributor")
    rate = page.get_by_test_id("rate-form")
    rate.locator("select[name=rating]").select_option("5")
    rate.get_by_role("button", name="Rate the session").click()
    expect(page.locator("main")).to_contain_text("Thank you for rating")
    shot(page, "rated-session")
    founder.close()

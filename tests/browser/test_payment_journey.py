"""A founder books a meeting room beyond their credits, pays on the test-payment page, and sees the
booking confirmed and the receipt."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in


def test_pay_for_a_room_and_get_the_receipt(browser, live_server, shot):
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
    page.get_by_role("link", name="Meeting room Sài Gòn").click()
    page.get_by_role("link", name="Next week").click()
    page.get_by_test_id("week-grid").locator("a.slot-free").nth(4).click()
    page.get_by_test_id("book-form").get_by_role("button", name="Book").click()
    expect(page.locator(".alert-success")).to_contain_text("awaits payment")
    row = page.get_by_test_id("my-bookings").locator("tbody tr", has_text="Meeting room Sài Gòn").first
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "awaiting_payment")
    row.get_by_role("button", name="Pay now").click()

    expect(page.get_by_test_id("test-banner")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("75,000")
    shot(page, "test-payment-page")
    page.get_by_role("button", name="Pay ₫75,000 (test)").click()

    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "paid", timeout=10_000)
    expect(page.get_by_test_id("paid")).to_contain_text("confirmed")
    shot(page, "payment-paid")
    with page.expect_download() as download:
        page.get_by_test_id("receipt-link").click()
    assert download.value.suggested_filename.startswith("receipt-R")
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"

    page.get_by_role("link", name="My bookings").click()
    row = page.get_by_test_id("my-bookings").locator("tbody tr", has_text="Meeting room Sài Gòn").first
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    context.close()


def test_a_partner_member_pays_for_a_shared_machine(browser, live_server, shot):
    """founder@bbi books TDMU's injection moulding machine (shared with bbi) from bbi's pages, pays the
    partner rate on the test-payment page and sees the booking confirmed."""
    from datetime import timedelta

    from incubator.core.db import utcnow
    from tests.booking.fixtures import SAIGON

    today = utcnow().astimezone(SAIGON).date()
    day = today + timedelta(days=14 + (3 - today.weekday()) % 7)  # a Thursday two weeks or more ahead
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="Shared labs").click()
    page.get_by_test_id("shared").locator("tr", has_text="Injection moulding machine").get_by_role(
        "link", name="Book").click()
    form = page.get_by_test_id("shared-book-form")
    form.locator("input[name=start]").fill(f"{day.isoformat()}T14:00")
    form.locator("select[name=minutes]").select_option("60")
    form.get_by_role("button", name="Book").click()
    expect(page.locator(".alert-success")).to_contain_text("awaiting payment")

    page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
    page.get_by_role("link", name="My bookings").click()
    row = page.get_by_test_id("my-bookings").locator("tbody tr", has_text="Injection moulding machine").filter(
        has=page.locator('[data-status="awaiting_payment"]')).first
    row.get_by_role("button", name="Pay now").click()
    expect(page.get_by_test_id("test-banner")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_contain_text("600,000")
    page.get_by_role("button", name="Pay ₫600,000 (test)").click()

    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "paid", timeout=10_000)
    expect(page.get_by_test_id("paid")).to_contain_text("confirmed")
    shot(page, "partner-payment-paid")
    expect(page).to_have_url(re.compile(r"/o/bbi/payments/\d+"))
    page.get_by_role("link", name="My receipts").click()
    expect(page.get_by_test_id("receipts")).to_contain_text("Injection moulding machine")
    page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_test_id("my-bookings").locator("tbody tr", has_text=f"{day.day}").filter(
        has_text="Injection moulding machine").locator("[data-status]").first).to_have_attribute(
        "data-status", "confirmed")
    context.close()

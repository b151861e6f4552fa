"""A founder books a 3D printer from the week grid with credits, and is refused a machine without training."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in


def test_book_a_printer_with_credits_and_be_refused_the_cnc(browser, live_server, shot):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
    page.get_by_role("link", name="3D printer 1 (Prusa MK4)").click()
    page.get_by_role("link", name="Next week").click()
    grid = page.get_by_test_id("week-grid")
    grid.locator("a.slot-free").nth(10).click()
    expect(page.locator("main")).to_contain_text("hours left")
    page.locator("#minutes").select_option("120")
    page.get_by_test_id("book-form").get_by_role("button", name="Book").click()
    expect(page.locator(".alert-success")).to_contain_text("Booked and confirmed")
    # My bookings lists upcoming bookings soonest first: another journey's printer booking this week
    # may come before this one of next week, so the row is the two-hour one.
    row = page.get_by_test_id("my-bookings").locator("tbody tr", has_text="3D printer 1").filter(has_text="2.0 h")
    expect(row.first.locator("[data-status]")).to_have_attribute("data-status", "confirmed")
    shot(page, "my-bookings")

    page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
    page.get_by_role("link", name="CNC router (ShopBot)").click()
    page.get_by_role("link", name="Next week").click()
    page.get_by_test_id("week-grid").locator("a.slot-free").nth(3).click()
    page.get_by_test_id("book-form").get_by_role("button", name="Book").click()
    expect(page.get_by_test_id("booking-error")).to_have_attribute("data-code", "training_required")
    expect(page.get_by_test_id("booking-error")).to_contain_text("CNC router safety")
    context.close()

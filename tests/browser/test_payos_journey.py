"""With ``PAYMENT_GATEWAY=payos`` (as in ``make run PAYMENT_GATEWAY=payos``), a founder pays for a meeting
room and an applicant pays a call's fee on the payOS test page, which shows the VietQR code a banking app
would scan; its signed webhook confirms both."""

from __future__ import annotations

import re
from contextlib import contextmanager

from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in


@contextmanager
def platform_gateway(live_server, name: str):
    """The platform's default gateway for the organisations that have not chosen one (bbi has not)."""
    config = live_server["app"].config
    before = config.get("PAYMENT_GATEWAY")
    config["PAYMENT_GATEWAY"] = name
    try:
        yield
    finally:
        config["PAYMENT_GATEWAY"] = before


def pay_on_the_payos_page(page, amount: str) -> None:
    expect(page.get_by_test_id("test-banner")).to_contain_text("payOS")
    expect(page.get_by_test_id("amount")).to_contain_text(amount)
    qr = page.get_by_test_id("vietqr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the QR image is drawn, not a broken link
    expect(page.get_by_test_id("reference")).to_have_text(re.compile(r"^INC\d+$"))
    page.get_by_role("button", name=f"Pay ₫{amount} (test)").click()


def test_pay_for_a_room_and_an_application_fee_through_payos(browser, live_server, shot):
    with platform_gateway(live_server, "payos"):
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        sign_in(page, live_server, "founder@bbi.example.com")
        page.get_by_role("navigation").get_by_role("link", name="Labs", exact=True).click()
        page.get_by_role("link", name="Meeting room Đồng Nai").click()
        page.get_by_role("link", name="Next week").click()
        page.get_by_test_id("week-grid").locator("a.slot-free").nth(6).click()
        page.get_by_test_id("book-form").get_by_role("button", name="Book").click()
        expect(page.locator(".alert-success")).to_contain_text("awaits payment")
        row = page.get_by_test_id("my-bookings").locator("tbody tr", has_text="Meeting room Đồng Nai").filter(
            has=page.locator('[data-status="awaiting_payment"]')).first
        row.get_by_role("button", name="Pay now").click()
        expect(page).to_have_url(re.compile(r"/payments/test-payos/\d+$"))
        shot(page, "payos-test-page")
        pay_on_the_payos_page(page, "50,000")
        expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "paid", timeout=10_000)
        expect(page.get_by_test_id("paid")).to_contain_text("confirmed")
        context.close()

        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        sign_in(page, live_server, "applicant02@example.org")
        expect(page.get_by_role("heading", name="My applications")).to_be_visible()  # where an applicant lands
        page.locator("tr", has_text="BBI Incubation 2027").get_by_role("link", name="Edit").click()
        page.wait_for_url("**/edit")
        page.wait_for_load_state("load")
        page.select_option("#q-stage", "prototype")
        page.fill("#q-problem", "Factory cameras that spot defects before the line stops.")
        page.fill("#q-team_size", "3")
        page.fill("#q-contact_email", "team@factoryeye.example.org")
        page.get_by_role("button", name="Pay the fee and submit").click()
        expect(page).to_have_url(re.compile(r"/payments/test-payos/\d+$"))
        pay_on_the_payos_page(page, "200,000")
        expect(page.get_by_test_id("application-submitted")).to_be_visible(timeout=10_000)
        shot(page, "payos-application-submitted")
        context.close()

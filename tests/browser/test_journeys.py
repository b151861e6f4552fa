"""Journeys a person takes in the browser. Domain issues add theirs."""

from __future__ import annotations

from playwright.sync_api import expect


def sign_in(page, live_server, email: str) -> None:
    page.goto(live_server["url"] + "/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", live_server["password"])
    page.click("form[novalidate] button[type=submit]")


def test_sign_in_switch_language_and_see_the_dashboard(page, live_server, shot):
    sign_in(page, live_server, "manager@bbi.example.com")
    expect(page).to_have_url(live_server["url"] + "/o/bbi/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("panel-members")).to_contain_text("Members")
    shot(page, "dashboard-en")

    page.select_option("#locale-select", "vi")  # submits by itself (app.js)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page).to_have_url(live_server["url"] + "/o/bbi/")
    expect(page.get_by_test_id("panel-members")).to_contain_text("Thành viên")
    shot(page, "dashboard-vi")

    # The choice is the user's: it survives signing out and in again.
    page.get_by_role("button", name="Đăng xuất").click()
    sign_in(page, live_server, "manager@bbi.example.com")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.select_option("#locale-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_founder_sees_their_dashboard_and_switches_organisation_list(page, live_server):
    sign_in(page, live_server, "founder@bbi.example.com")
    expect(page.get_by_test_id("dashboard")).to_have_attribute("data-role", "founder")
    expect(page.get_by_role("link", name="Members")).to_have_count(0)
    page.goto(live_server["url"] + "/o/tdmu/")
    expect(page.locator("main")).to_contain_text("404")


def test_pages_fit_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    sign_in(page, live_server, "manager@bbi.example.com")
    expect(page).to_have_url(live_server["url"] + "/o/bbi/")  # measure the dashboard, once it has loaded
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    context.close()


def test_a_newcomer_registers_confirms_the_address_from_the_mail_and_gets_in(page, live_server):
    import re

    from incubator.core import mail

    url = live_server["url"]
    passphrase = "a newcomer's passphrase"
    page.goto(url + "/auth/register")
    page.fill("input[name=name]", "Trần Minh Khoa")
    page.fill("input[name=email]", "khoa.newcomer@example.org")
    page.fill("input[name=password]", passphrase)
    page.fill("input[name=confirm]", passphrase)
    page.click("form[novalidate] button[type=submit]")
    expect(page.locator("main")).to_contain_text("khoa.newcomer@example.org")
    expect(page).to_have_url(re.compile(r"/auth/login$"))

    # Signed in before confirming: only the page that asks for it.
    page.fill("input[name=email]", "khoa.newcomer@example.org")
    page.fill("input[name=password]", passphrase)
    page.click("form[novalidate] button[type=submit]")
    expect(page).to_have_url(url + "/auth/verify")
    page.goto(url + "/account")
    expect(page).to_have_url(url + "/auth/verify")

    sent = [m for m in mail.outbox if m.to == ["khoa.newcomer@example.org"]]
    link = re.search(r"/auth/verify/\S+", sent[-1].body).group(0)
    page.goto(url + link)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(url + "/account/no-organisation")
    page.goto(url + "/account")
    expect(page).to_have_url(url + "/account")

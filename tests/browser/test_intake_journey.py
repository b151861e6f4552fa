"""A founder applies with a PDF, a reviewer scores the application, a manager accepts it into a cohort."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journeys import sign_in
from tests.intake.fixtures import make_pdf


def test_apply_review_accept(browser, live_server, shot, tmp_path):
    deck = tmp_path / "Journey Robotics deck.pdf"
    deck.write_bytes(make_pdf())

    founder = browser.new_context(locale="en-GB")
    page = founder.new_page()
    sign_in(page, live_server, "founder@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="My applications").click()
    page.get_by_role("link", name="Open calls").click()
    page.get_by_role("link", name="BBI Incubation 2027").click()
    expect(page.get_by_test_id("fee")).to_contain_text("200,000")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/edit")
    page.wait_for_load_state("load")  # the page's script listens for typing once it has run
    page.fill("#q-startup_name", "Journey Robotics")
    # The draft saves itself a few seconds after typing stops.
    expect(page.locator("[data-autosave-status]")).to_have_text("Draft saved automatically.", timeout=10000)
    page.select_option("#q-sector", "manufacturing")
    page.select_option("#q-stage", "prototype")
    page.select_option("#q-country", "vn")
    page.fill("#q-problem", "Cheap robot arms for the garment factories of Binh Duong.")
    page.set_input_files("#q-pitch_deck", str(deck))
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".alert-success")).to_contain_text("saved")
    expect(page.get_by_test_id("uploaded-pitch_deck")).to_contain_text("Journey Robotics deck.pdf")
    page.get_by_role("button", name="Pay the fee and submit").click()  # the demo call has a fee
    expect(page.locator(".alert-danger")).to_be_visible()  # team size and contact email are required
    expect(page.locator("[data-field=contact_email]")).to_be_visible()
    page.fill("#q-team_size", "4")
    page.fill("#q-contact_email", "team@journey.example.org")
    page.fill("input[name=team-0-name]", "Nguyễn Văn An")
    page.fill("input[name=team-0-email]", "an@journey.example.org")
    page.get_by_role("button", name="Pay the fee and submit").click()
    expect(page.get_by_test_id("test-banner")).to_be_visible()  # the test-payment page
    page.get_by_role("button", name="Pay ₫200,000 (test)").click()
    expect(page.get_by_test_id("application-submitted")).to_be_visible(timeout=10_000)
    status_url = page.url  # the payment's page, where Stripe sends the applicant back
    page.get_by_role("link", name="My applications").last.click()
    page.locator("tr", has_text="BBI Incubation 2027").get_by_role("link").first.click()
    expect(page.get_by_test_id("status")).to_have_text("Received")
    assert "/payments/" in status_url
    shot(page, "intake-submitted")
    founder.close()

    manager = browser.new_context(locale="en-GB")
    page = manager.new_page()
    sign_in(page, live_server, "manager@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="Calls").click()
    page.get_by_role("link", name="BBI Incubation 2027").click()
    page.get_by_role("link", name="Journey Robotics").click()
    page.select_option("select[name=stage]", "in_review")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_test_id("stage")).to_have_text("In review")
    page.select_option("select[name=reviewer_id]", label="Phạm Thu Hà")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("assigned")
    application_url = page.url
    manager.close()

    reviewer = browser.new_context(locale="en-GB")
    page = reviewer.new_page()
    sign_in(page, live_server, "reviewer@bbi.example.com")
    page.get_by_role("navigation").get_by_role("link", name="My reviews").click()
    page.get_by_role("link", name="Journey Robotics").click()
    expect(page.get_by_test_id("file-link")).to_contain_text("Journey Robotics deck.pdf")
    for key, score in (("team", "4"), ("market", "3"), ("product", "8"), ("impact", "5")):
        page.fill(f"#score-{key}", score)
    page.select_option("#recommendation", "yes")
    page.fill("#comment", "A team that already sells to two factories.")
    page.get_by_role("button", name="Submit review").click()
    expect(page.locator(".alert-success")).to_contain_text("review is submitted")
    expect(page.get_by_test_id("reviews")).to_contain_text("A team that already sells to two factories.")
    reviewer.close()

    manager = browser.new_context(locale="en-GB")
    page = manager.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, "manager@bbi.example.com")
    page.goto(application_url)
    expect(page.get_by_test_id("reviews")).to_contain_text("Phạm Thu Hà")
    form = page.get_by_test_id("decision-form")
    form.locator("select[name=decision]").select_option("accepted")
    form.locator("select[name=cohort_id]").select_option(label="BBI Cohort 2027")
    form.get_by_role("button", name="Record decision").click()
    expect(page.get_by_test_id("stage")).to_have_text("Accepted")
    # The letter is in the applicant's language: theirs is unset, so the organisation's (Vietnamese).
    expect(page.get_by_test_id("letter")).to_contain_text("Journey Robotics đã được nhận vào BBI Cohort 2027")
    expect(page.get_by_test_id("timeline")).to_contain_text("In review → Accepted")
    shot(page, "intake-accepted")
    page.get_by_role("navigation").get_by_role("link", name="Startups").click()
    expect(page.locator("main")).to_contain_text("Journey Robotics")
    manager.close()

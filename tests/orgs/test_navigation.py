"""The navigation by role (#16): staff get the side navigation grouped by area, everyone else a short top
bar; the organisation's name and logo head its pages, the platform's name the others."""

from __future__ import annotations

import io
import re

import pytest

from incubator.core.permissions import Role
from tests.conftest import csrf_token, login
from tests.factories import OrgFactory, UserFactory, member


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 20), "#1a7f37").save(out, format="PNG")
    return out.getvalue()


GROUPS = {  # the side navigation's areas, and what each holds for an owner (who holds every permission)
    "intake": ["/o/bbi/calls/manage"],
    "cohorts": ["/o/bbi/cohorts", "/o/bbi/startups"],
    "mentoring": ["/o/bbi/mentors"],
    "labs": ["/o/bbi/labs", "/o/bbi/shared-resources"],
    "money": ["/o/bbi/manage/payments"],
    "reports": ["/o/bbi/reports"],
    "settings": ["/o/bbi/members", "/o/bbi/settings", "/o/bbi/webhooks"],
}


@pytest.fixture()
def org(session):
    return OrgFactory(slug="bbi", name="Becamex Business Incubator")


def side_nav(html: str) -> str | None:
    found = re.search(r'<nav class="offcanvas-lg[^>]*data-testid="side-nav">(.*?)</nav>', html, re.S)
    return found.group(1) if found else None


def group_links(nav: str) -> dict[str, list[str]]:
    groups = {}
    for key, body in re.findall(r'<ul class="nav flex-column" aria-labelledby="nav-(\w+)">(.*?)</ul>', nav, re.S):
        groups[key] = re.findall(r'href="([^"]+)"', body)
    return groups


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.STAFF])
def test_staff_get_the_side_navigation_grouped_by_area(client, org, role):
    login(client, member(org, role).email)
    html = client.get("/o/bbi/").get_data(as_text=True)
    nav = side_nav(html)
    assert nav is not None
    groups = group_links(nav)
    if role == Role.STAFF:  # staff manage no members, settings or payments: an empty group is left out, not shown
        assert groups == {**{k: v for k, v in GROUPS.items() if k != "settings"}, "money": ["/o/bbi/receipts"]}
        assert 'id="nav-settings"' not in nav
    else:
        assert groups == GROUPS
    for key in groups:
        assert f'id="nav-{key}"' in nav  # each group is named by its heading
    # The top bar carries no second copy of the organisation's links.
    header = html.split("<header", 1)[1].split("</header>", 1)[0]
    assert "/o/bbi/cohorts" not in header and 'data-testid="side-nav-toggle"' in header


@pytest.mark.parametrize("role,links", [
    (Role.FOUNDER, ["/o/bbi/", "/o/bbi/applications/mine", "/o/bbi/my-startup", "/o/bbi/mentoring", "/o/bbi/labs",
                    "/o/bbi/receipts"]),
    (Role.MENTOR, ["/o/bbi/", "/o/bbi/mentoring"]),
    (Role.REVIEWER, ["/o/bbi/", "/o/bbi/reviews"]),
    (Role.FUNDER, ["/o/bbi/", "/o/bbi/cohorts", "/o/bbi/reports"]),
])
def test_everyone_else_gets_a_short_top_bar(client, org, role, links):
    login(client, member(org, role).email)
    html = client.get("/o/bbi/").get_data(as_text=True)
    assert side_nav(html) is None and "side-nav-toggle" not in html
    top = re.search(r'<nav class="me-auto top-links"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', top) == links
    assert 'aria-current="page" href="/o/bbi/"' in top  # where the person is


def test_the_organisations_name_heads_its_pages_and_the_platforms_name_the_others(client, org):
    login(client, member(org, Role.FOUNDER).email)
    brand = re.compile(r'data-testid="brand">\s*(?:<img[^>]*>)?\s*<span class="brand-name">([^<]+)</span>')
    assert brand.search(client.get("/o/bbi/").get_data(as_text=True)).group(1) == "Becamex Business Incubator"
    assert brand.search(client.get("/account").get_data(as_text=True)).group(1) == "Incubator"


def test_the_logo_uploaded_for_reports_heads_the_pages_of_every_member(client, session, org):
    manager, founder = member(org, Role.MANAGER), member(org, Role.FOUNDER)
    login(client, founder.email)
    assert 'data-testid="brand-logo"' not in client.get("/o/bbi/").get_data(as_text=True)

    login(client, manager.email)
    token = csrf_token(client, "/o/bbi/reports/targets")
    saved = client.post("/o/bbi/reports/logo", data={"csrf_token": token, "logo": (io.BytesIO(png_bytes()), "l.png")})
    assert saved.status_code == 302

    login(client, founder.email)
    html = client.get("/o/bbi/mentoring").get_data(as_text=True)
    assert '<img class="brand-logo" src="/o/bbi/reports/logo" alt="" data-testid="brand-logo">' in html
    served = client.get("/o/bbi/reports/logo")
    assert served.status_code == 200 and served.mimetype == "image/png"

    # Another organisation's logo is no one else's: 404, as for anything of another organisation.
    other = OrgFactory(slug="tdmu")
    login(client, member(other, Role.FOUNDER).email)
    assert client.get("/o/bbi/reports/logo").status_code == 404
    assert 'data-testid="brand-logo"' not in client.get("/o/tdmu/").get_data(as_text=True)


def test_a_visitor_and_a_person_without_an_organisation_see_the_platform_bar(client, session):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/calls"' in html and "side-nav" not in html
    login(client, UserFactory().email)
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/calls"' in html and "side-nav" not in html

"""The two doors to one rule, the HTML page and the JSON API, must answer alike.

``answer_class`` reduces a response to what the rule decided: ``allowed`` (the action ran, or it
was refused on its merits: 2xx, 3xx other than to the sign-in page, 409, 412, 422), ``forbidden``
(403: a member whose role does not allow it), ``hidden`` (404: not a member, or a row the caller
may not see), ``login`` (not signed in: 401 or a redirect to the sign-in page).
"""

from __future__ import annotations

from typing import Any

ALLOWED_REFUSALS = {400, 409, 412, 422}


def answer_class(response: Any) -> str:
    status = response.status_code
    if status == 401 or (300 <= status < 400 and "/auth/login" in response.headers.get("Location", "")):
        return "login"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "hidden"
    if status < 400 or status in ALLOWED_REFUSALS:
        return "allowed"
    raise AssertionError(f"unexpected answer {status}: {response.get_data(as_text=True)[:300]}")


def assert_same_door(page: Any, api: Any, label: str = "") -> str:
    """Both responses belong to the same class; returns it so the test can also assert which."""
    page_class, api_class = answer_class(page), answer_class(api)
    assert page_class == api_class, (
        f"{label}: page {page.status_code} ({page_class}) vs API {api.status_code} ({api_class})")
    return page_class

"""What every calendar file of the app shares."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def uid_domain() -> str:
    """The domain of every event's UID: configured, never the request's Host (a new host name would
    otherwise duplicate every event in the subscribers' calendars)."""
    configured = current_app.config.get("CALENDAR_UID_DOMAIN")
    return configured or urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "incubator.invalid"

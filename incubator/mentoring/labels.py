"""Words for what matching computes, shared by the pages and the API."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from incubator.mentoring.models import EXPERTISE, INDUSTRIES, LANGUAGES


def reason_text(reason: dict[str, Any]) -> str:
    """One criterion's contribution to a pair's score, in words."""
    points = f"+{reason.get('points', 0):.1f}"
    kind = reason.get("criterion")
    if kind == "needs":
        matched = ", ".join(str(EXPERTISE.get(t, t)) for t in reason.get("matched", []))
        if not reason.get("wanted"):
            return _("No needs stated (%(points)s)", points=points)
        return _("Needs met: %(needs)s, %(n)d of %(total)d (%(points)s)", needs=matched or "—",
                 n=len(reason.get("matched", [])), total=len(reason.get("wanted", [])), points=points)
    if kind == "industry":
        industry_key = str(reason.get("industry"))
        industry = str(INDUSTRIES.get(industry_key, industry_key))
        return (_("Knows %(industry)s (%(points)s)", industry=industry, points=points) if reason.get("match")
                else _("Another industry than %(industry)s (%(points)s)", industry=industry, points=points))
    if kind == "stage":
        if reason.get("match"):
            return _("Prefers startups at this stage (%(points)s)", points=points)
        return (_("Open to any stage (%(points)s)", points=points) if reason.get("any_stage")
                else _("Prefers other stages (%(points)s)", points=points))
    if kind == "language":
        return _("Shared language: %(languages)s (%(points)s)",
                 languages=", ".join(LANGUAGES.get(code, code) for code in reason.get("languages", [])), points=points)
    if kind == "availability":
        if reason.get("no_preference"):
            return _("The startup set no time preference (%(points)s)", points=points)
        return _("%(n)d shared hours a week (%(points)s)", n=reason.get("hours", 0), points=points)
    if kind == "feedback":
        rating = reason.get("rating")
        return (_("Rated %(rating)s/5 by startups (%(points)s)", rating=f"{rating:.1f}", points=points)
                if rating is not None else _("No ratings yet (%(points)s)", points=points))
    if kind == "manual":
        return _("Chosen by a manager")
    return str(kind)

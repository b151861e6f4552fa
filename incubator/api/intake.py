"""Calls, applications, reviews and decisions over the API: the same services and the same rules
(``intake.access``) as the pages.

Managers' operations declare ``@require(Permission.MANAGE_PROGRAMMES)`` like their pages, reviewers'
``@require(Permission.REVIEW_APPLICATIONS)``; the applicant's operations are open to anyone signed in
(``@signed_in``: applying makes no one a member) and decide themselves what the caller sees.

Every operation is on the one ``api_intake`` blueprint (``intake_common``, with what the modules
share), which gives them the tag ``api_intake`` and the ``intake`` scopes; they live in modules by
resource, each with its schemas, and importing them here registers their routes:

* ``intake_calls``: calls (list, create, read, change);
* ``intake_forms``: a call's application form and its review rubric;
* ``intake_ranking``: the pipeline list (ranking, side by side, bulk actions);
* ``intake_letters``: decision letters and the organisation's letter templates;
* ``intake_applications``: applications (the applicant's, the lists, moves and decisions);
* ``intake_review``: assignments, conflicts of interest and reviews.
"""

from __future__ import annotations

from incubator.api import (  # noqa: F401  (importing them registers their operations on the blueprint)
    intake_applications,
    intake_calls,
    intake_forms,
    intake_letters,
    intake_ranking,
    intake_review,
)
from incubator.api.intake_common import bp

__all__ = ["bp"]

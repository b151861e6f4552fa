"""Marshmallow schemas shared by the API modules."""

from marshmallow import Schema, fields, validate

# Every integer a caller sends is bounded, so that none reaches the database beyond its columns'
# range (PostgreSQL answers "integer out of range"): ids and counts fit a 32-bit column
# (tests/api/test_openapi_document.py checks that each one the document lists has a maximum).
MAX_ID = 2**31 - 1
ID = validate.Range(min=1, max=MAX_ID)
COUNT = validate.Range(min=0, max=MAX_ID)


class MembershipOut(Schema):
    org = fields.String(required=True, metadata={"description": "Organisation slug"})
    org_name = fields.String(required=True)
    role = fields.String(required=True)


class MeOut(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    locale = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True, metadata={"description": "None: each organisation's"})
    is_admin = fields.Boolean(required=True)
    memberships = fields.List(fields.Nested(MembershipOut), required=True)


class OrgSummaryOut(Schema):
    """An organisation as everyone may see it (the platform admin's list, and each member's)."""

    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    timezone = fields.String(required=True)
    currency = fields.String(required=True)
    default_locale = fields.String(required=True)


class OrgOut(OrgSummaryOut):
    role = fields.String(required=True, metadata={"description": "The caller's role in this organisation"})


class FeedOut(Schema):
    """A calendar feed's new address (bookings, a resource's, a mentor's)."""

    url = fields.String(required=True, metadata={
        "description": "The secret .ics address (absolute); the previous address no longer works"})


class TokenOut(Schema):
    """An API token as its owner sees it (a personal token; an organisation's adds to it)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "How the token starts"})
    scopes = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TodoQuery(Schema):
    org = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={
        "description": "An organisation's slug: only its to-dos (and the invitations); left out, every "
                       "organisation the caller belongs to"})
    kind = fields.String(load_default=None, validate=validate.Length(min=1, max=40), metadata={
        "description": "Only this kind of to-do"})


class TodoItemOut(Schema):
    """One thing the caller has to do, and the page where it is done."""

    kind = fields.String(required=True, metadata={"enum": [
        "checkin_due", "match_answer", "session_log", "session_rate", "review_assigned", "booking_pay",
        "waitlist_held", "booking_approval", "application_decision", "checkin_verify", "invitation"]})
    title = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "The page where it is done"})
    org = fields.String(required=True, metadata={"description": "The organisation's slug"})
    org_name = fields.String(required=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "A day's deadline (check-ins, reviews)"})
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "A moment's: when a hold runs out, a session took place, an invitation expires"})

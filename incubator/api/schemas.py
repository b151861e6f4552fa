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

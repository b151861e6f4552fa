from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from incubator.accounts.forms import LOCALE_CHOICES, TokenFieldsMixin
from incubator.core.formatting import timezone_name
from incubator.core.forms import FlaskForm
from incubator.core.permissions import ROLE_LABELS, Role
from incubator.core.timezones import common_timezones
from incubator.orgs.models import ORG_KIND_LABELS


def role_choices():
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


# An invitation starts at the least privilege: a founder (their own startup's pages, bookings and
# check-ins); whoever invites a manager or an owner picks that on purpose.
INVITE_DEFAULT_ROLE = Role.FOUNDER


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)])
    role = SelectField(_l("Role"), choices=role_choices, default=INVITE_DEFAULT_ROLE.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class OrgSettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    timezone = SelectField(_l("Time zone"),
                           choices=lambda: [SelectChoice(tz, timezone_name(tz)) for tz in common_timezones()])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("ISO 4217 code, e.g. VND or USD."))
    default_locale = SelectField(_l("Default language"), choices=LOCALE_CHOICES)


class OrgCreateForm(OrgSettingsForm):
    slug = StringField(_l("Address"), validators=[DataRequired(), Length(max=40)],
                       description=_l("Lowercase letters, digits and dashes; used in /o/<address>/."))
    kind = SelectField(_l("Kind"),
                       choices=lambda: [SelectChoice(k.value, label) for k, label in ORG_KIND_LABELS.items()])
    owner_email = EmailField(_l("Owner's email"), validators=[DataRequired(), Email()],
                             description=_l("Receives an invitation as owner."))


def service_role_choices():
    """A service token acts with any role but owner."""
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items() if role != Role.OWNER]


class ServiceTokenForm(TokenFieldsMixin, FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("What uses it, e.g. “accounting export”."))
    role = SelectField(_l("Acts as"), choices=service_role_choices, default=Role.STAFF.value,
                       description=_l("The token can do what a member with this role can do here, and nothing "
                                      "in other organisations."))


class OrgAdminForm(OrgSettingsForm):
    """A platform admin's edit of an organisation: its settings, address and kind."""

    slug = StringField(_l("Address"), validators=[DataRequired(), Length(max=40)],
                       description=_l("Lowercase letters, digits and dashes; used in /o/<address>/. Links to the "
                                      "old address stop working."))
    kind = SelectField(_l("Kind"),
                       choices=lambda: [SelectChoice(k.value, label) for k, label in ORG_KIND_LABELS.items()])


class OrgDeleteForm(FlaskForm):
    confirm = StringField(_l("Type the address to confirm"), validators=[DataRequired(), Length(max=40)])

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from incubator.accounts.services import ALL_SCOPES, DEFAULT_SCOPES, EXPIRY_DAYS, MIN_PASSWORD_LENGTH
from incubator.core.forms import FlaskForm
from incubator.core.timezones import common_timezones

LOCALE_CHOICES = [SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")]


class CSRFOnlyForm(FlaskForm):
    """For buttons that change state: carries only the CSRF token."""


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
                         description=_l("At least 12 characters."))


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)])
    password = _new_password(_l("Password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


def timezone_choices():
    """Every time zone by its name in the reader's language, the key submitted; first, the organisation's."""
    from incubator.core.formatting import timezone_name

    return [SelectChoice("", _l("The organisation's time zone")),
            *(SelectChoice(tz, timezone_name(tz)) for tz in common_timezones())]


class SettingsForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, default="",
                           filters=[lambda value: value or ""],
                           description=_l("Times on pages and in mail are shown in it."))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


SCOPE_LABELS = {
    "read": _l("Read everything"), "write": _l("Read and change everything"),
    "cohorts": _l("Cohorts"), "mentoring": _l("Mentoring"), "booking": _l("Lab booking"),
    "intake": _l("Applications"), "payments": _l("Payments"), "reporting": _l("Reports"),
    "orgs": _l("Organisation and members"),
}


def scope_label(scope: str) -> str:
    domain, _sep, access = scope.partition(":")
    if not access:
        return str(SCOPE_LABELS[scope])
    return f"{SCOPE_LABELS[domain]}: {_l('change') if access == 'write' else _l('read')}"


def scope_choices():
    return [SelectChoice(scope, scope_label(scope)) for scope in ALL_SCOPES]


def expiry_choices():
    return [SelectChoice(str(days), _l("%(num)d days", num=days)) for days in EXPIRY_DAYS] + [
        SelectChoice("never", _l("Never"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenFieldsMixin:
    """Scopes and expiry of a new token (personal or service)."""

    scopes = MultiCheckboxField(_l("Scopes"), choices=scope_choices, default=list(DEFAULT_SCOPES),
                                validators=[DataRequired(message=_l("Choose at least one scope."))],
                                description=_l("“change” includes reading."))
    expires_in = SelectField(_l("Expires after"), choices=expiry_choices, default="90")

    def expiry_days(self) -> int | None:
        value = self.expires_in.data
        return None if value == "never" else int(value)


class ApiTokenForm(TokenFieldsMixin, FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("What the token is for, e.g. “reporting script”."))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)

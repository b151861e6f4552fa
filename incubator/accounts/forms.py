from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from incubator.accounts.services import MIN_PASSWORD_LENGTH
from incubator.core.forms import FlaskForm

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


class SettingsForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = _new_password(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("What the token is for, e.g. “reporting script”."))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)

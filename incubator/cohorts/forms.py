from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from incubator.cohorts.models import (
    EnrolmentStatus,
    Frequency,
    KpiType,
    MilestoneStatus,
    Origin,
    ProgrammeKind,
    ResourceKind,
    Stage,
)
from incubator.cohorts.progress import EVIDENCE_TYPES
from incubator.core.forms import FlaskForm, LocaleDecimalField, LocaleIntegerField
from incubator.core.urls import WebURL

# What the file inputs offer to choose (the services check the bytes themselves).
IMAGE_ACCEPT = "image/png,image/jpeg"
EVIDENCE_ACCEPT = ",".join(sorted(EVIDENCE_TYPES))


def _choices(enum):
    return lambda: [SelectChoice(item.value, item.label) for item in enum]


class ProgrammeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    kind = SelectField(_l("Kind"), choices=_choices(ProgrammeKind))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class CohortForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), coerce=int)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    capacity = LocaleIntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1)],
                            description=_l("How many startups at most; empty for no limit."))
    checkin_frequency = SelectField(_l("KPI check-ins"), choices=_choices(Frequency))
    mentoring_hours_per_startup = LocaleIntegerField(_l("Mentoring hours per startup"), default=0,
                                               validators=[Optional(), NumberRange(min=0)])
    lab_machine = LocaleIntegerField(_l("Lab credit hours: machines"), default=0,
                          validators=[Optional(), NumberRange(min=0)])
    lab_bench = LocaleIntegerField(_l("Lab credit hours: benches"), default=0,
                          validators=[Optional(), NumberRange(min=0)])
    lab_room = LocaleIntegerField(_l("Lab credit hours: rooms"), default=0,
                          validators=[Optional(), NumberRange(min=0)])
    lab_workspace = LocaleIntegerField(_l("Lab credit hours: workspaces"), default=0,
                                 validators=[Optional(), NumberRange(min=0)])
    funder_users = SelectMultipleField(_l("Funders (members)"), coerce=int, validators=[Optional()])
    funder_orgs = SelectMultipleField(_l("Funding organisations"), coerce=int, validators=[Optional()])

    def lab_credits(self) -> dict[str, int]:
        return {kind.value: getattr(self, f"lab_{kind.value}").data or 0 for kind in ResourceKind}


class StartupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    legal_name = StringField(_l("Legal name"), validators=[Optional(), Length(max=255)])
    registration_number = StringField(_l("Registration (tax) number"), validators=[Optional(), Length(max=40)])
    sector = StringField(_l("Sector"), validators=[Optional(), Length(max=120)])
    stage = SelectField(_l("Stage"), choices=_choices(Stage))
    origin = SelectField(_l("Origin"), choices=_choices(Origin))
    partner_institution = StringField(_l("Partner institution"), validators=[Optional(), Length(max=255)],
                                      description=_l("The university or enterprise it comes from, if any."))
    team_size = LocaleIntegerField(_l("Team size"), default=1, validators=[Optional(), NumberRange(min=0)])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=255), WebURL()])
    is_st_enterprise = BooleanField(_l("Certified science and technology enterprise"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    logo = FileField(_l("Logo (PNG or JPEG)"), render_kw={"accept": IMAGE_ACCEPT})
    version = HiddenField()  # the profile's version when the form was opened (two editors: core.versioning)


class KpiForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=40), Regexp(r"^[a-z][a-z0-9_]*$",
                      message=_l("Lowercase letters, digits and underscores, starting with a letter."))],
                      description=_l("Used in the API and exports, e.g. export_markets."))
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=40)])
    type = SelectField(_l("Type"), choices=_choices(KpiType))


class FounderForm(FlaskForm):
    email = EmailField(_l("Founder's email"), validators=[DataRequired(), Email()])


class EnrolForm(FlaskForm):
    startup_id = SelectField(_l("Startup"), coerce=int)
    enrolled_on = DateField(_l("Enrolled on"), validators=[DataRequired()])


class EnrolmentStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(EnrolmentStatus))
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class MilestoneForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    due_on = DateField(_l("Due on"), validators=[DataRequired()])


class MilestoneUpdateForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_choices(MilestoneStatus))
    evidence_url = StringField(_l("Evidence link"), validators=[Optional(), Length(max=500), WebURL()])
    evidence_file = FileField(_l("Evidence file"), render_kw={"accept": EVIDENCE_ACCEPT})


class LockPeriodForm(FlaskForm):
    period = StringField(_l("Period"), validators=[DataRequired(), Regexp(r"^\d{4}-\d{2}$")],
                         description=_l("YYYY-MM"))


class CheckInForm(FlaskForm):
    period = StringField(_l("Period"), validators=[Optional()], description=_l("YYYY-MM, e.g. 2026-03"))
    revenue = LocaleDecimalField(_l("Revenue"), validators=[Optional()])
    employees_full_time = LocaleIntegerField(_l("Full-time employees"), validators=[Optional()])
    employees_part_time = LocaleIntegerField(_l("Part-time employees"), validators=[Optional()])
    jobs_created = LocaleIntegerField(_l("Jobs created in the period"), validators=[Optional()])
    funding_equity = LocaleDecimalField(_l("Funding raised: equity"), validators=[Optional()])
    funding_debt = LocaleDecimalField(_l("Funding raised: debt"), validators=[Optional()])
    funding_grant = LocaleDecimalField(_l("Funding raised: grants"), validators=[Optional()])
    customers = LocaleIntegerField(_l("Customers"), validators=[Optional()])
    products_commercialised = LocaleIntegerField(_l("Products commercialised"), validators=[Optional()])
    ip_filings = LocaleIntegerField(_l("IP filings"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    evidence_file = FileField(_l("Evidence (PDF, spreadsheet or image)"), render_kw={"accept": EVIDENCE_ACCEPT})
    version = HiddenField()  # the check-in's version when the form was opened (core.versioning)

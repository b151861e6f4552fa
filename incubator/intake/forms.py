"""WTForms of the intake pages. The applicant's form is built from the call's questions (formspec)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from incubator.core.forms import FlaskForm, LocaleDecimalField, LocaleFloatField, LocaleIntegerField
from incubator.intake.formspec import QUESTION_TYPES


class CallForm(FlaskForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[InputRequired()])
    cohort_id = SelectField(_l("Cohort that accepted startups join"), coerce=int, validators=[Optional()])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=255)])
    title_vi = StringField(_l("Title (Vietnamese)"), validators=[DataRequired(), Length(max=255)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=20000)])
    description_vi = TextAreaField(_l("Description (Vietnamese)"), validators=[Length(max=20000)])
    opens_at = DateTimeLocalField(_l("Opens at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()],
                                  description=_l("In the organisation's time zone."))
    closes_at = DateTimeLocalField(_l("Closes at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()],
                                   description=_l("In the organisation's time zone."))
    is_public = BooleanField(_l("Listed publicly (otherwise reachable only by its link)"), default=True)
    cap = LocaleIntegerField(_l("Most applications accepted"), validators=[Optional(), NumberRange(min=1)],
                       description=_l("Leave empty for no cap."))
    fee = LocaleDecimalField(_l("Application fee"), places=None, validators=[Optional(), NumberRange(min=0)],
                       description=_l("In the organisation's currency; shown to applicants, not charged yet."))
    allow_edits = BooleanField(_l("Applicants may edit a submitted application until the deadline"), default=True)
    blind_review = BooleanField(_l("Blind review: reviewers do not see who applied"))
    reviewers_per_application = LocaleIntegerField(_l("Reviewers per application"), default=2,
                                             validators=[InputRequired(), NumberRange(min=1, max=10)])
    version = HiddenField()  # the call's version the form was rendered from (two managers editing)


class QuestionForm(FlaskForm):
    original_key = HiddenField()  # the question edited (its key is made once, from the English label)
    version = HiddenField()  # the form's tag it was rendered from (two managers editing)
    type = SelectField(_l("Type"), choices=lambda: [SelectChoice(k, v) for k, v in QUESTION_TYPES.items()])
    label_en = StringField(_l("Question (English)"), validators=[DataRequired(), Length(max=500)])
    label_vi = StringField(_l("Question (Vietnamese)"), validators=[DataRequired(), Length(max=500)])
    help_en = StringField(_l("Help text (English)"), validators=[Length(max=1000)])
    help_vi = StringField(_l("Help text (Vietnamese)"), validators=[Length(max=1000)])
    required = BooleanField(_l("Required"))
    options_en = TextAreaField(_l("Options (English)"), validators=[Length(max=5000)], render_kw={"rows": 6},
                               description=_l("For choices: one option per line."))
    options_vi = TextAreaField(_l("Options (Vietnamese)"), validators=[Length(max=5000)], render_kw={"rows": 6},
                               description=_l("The same options in the same order, one per line."))
    max_length = LocaleIntegerField(_l("Length limit"), validators=[Optional(), NumberRange(min=1, max=100000)],
                              description=_l("For long text: the most characters allowed."))


class CriterionForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=40)])
    label_en = StringField(_l("Criterion (English)"), validators=[DataRequired(), Length(max=255)])
    label_vi = StringField(_l("Criterion (Vietnamese)"), validators=[DataRequired(), Length(max=255)])
    scale_min = LocaleIntegerField(_l("Lowest score"), default=0, validators=[InputRequired()])
    scale_max = LocaleIntegerField(_l("Highest score"), default=5, validators=[InputRequired()])
    weight = LocaleFloatField(_l("Weight"), default=1, validators=[InputRequired()])
    version = HiddenField()  # the rubric's tag it was rendered from (two managers editing)


class LetterForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=255)])
    body = TextAreaField(_l("Letter"), validators=[DataRequired(), Length(max=20000)],
                         render_kw={"rows": 14, "data-letter-body": ""},
                         description=_l("Markdown: **bold**, *italic*, [a link](https://example.org), a line "
                                        "starting with - for a list, a blank line between paragraphs."))


class MoveForm(FlaskForm):
    stage = SelectField(_l("Move to"), validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=lambda: [
        SelectChoice("accepted", _l("Accept")), SelectChoice("waitlisted", _l("Waitlist")),
        SelectChoice("rejected", _l("Reject"))])
    cohort_id = SelectField(_l("Into cohort"), coerce=int, validators=[Optional()])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])


class DeadlineForm(FlaskForm):
    """A review deadline (optional): a day in the organisation's time zone; the pipeline's bulk
    assignments read it alone."""

    due_on = DateField(_l("Review by"), validators=[Optional()])


class AssignForm(DeadlineForm):
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])


class ConflictForm(FlaskForm):
    reason = TextAreaField(_l("What is the conflict?"), validators=[DataRequired(), Length(max=2000)])


class WithdrawForm(FlaskForm):
    comment = TextAreaField(_l("Why do you withdraw? (optional)"), validators=[Length(max=2000)])

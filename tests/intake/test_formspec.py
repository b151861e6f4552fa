"""The form builder's questions and the server-side validation of answers."""

from __future__ import annotations

import pytest

from incubator.intake import formspec
from tests.intake.fixtures import QUESTIONS


@pytest.fixture(autouse=True)
def _ctx(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_a_complete_answer_set_is_cleaned_to_its_types():
    clean, errors = formspec.validate_answers(QUESTIONS, {
        "startup_name": "  AgriSense ", "pitch": "Sensors", "team_size": "4", "country": "kr",
        "sectors": ["iot", "agri"], "founded_on": "2025-03-01", "website": "https://agrisense.vn",
        "contact_email": "Team@AgriSense.vn", "deck": 7,
        "team": [{"name": "Park", "email": "park@example.kr", "role": "CTO"}, {"name": "", "email": "", "role": ""}],
        "not_a_question": "dropped"}, complete=True, file_ids={7})
    assert errors == {}
    assert clean == {"startup_name": "AgriSense", "pitch": "Sensors", "team_size": 4, "country": "kr",
                     "sectors": ["agri", "iot"], "founded_on": "2025-03-01", "website": "https://agrisense.vn",
                     "contact_email": "team@agrisense.vn", "deck": 7,
                     "team": [{"name": "Park", "email": "park@example.kr", "role": "CTO"}]}


@pytest.mark.parametrize(("key", "value"), [
    ("pitch", "x" * 201),  # over the question's length limit
    ("startup_name", "x" * 301),
    ("team_size", "four"),
    ("team_size", True),
    ("country", "jp"),
    ("sectors", ["iot", "space"]),
    ("founded_on", "01/03/2025"),
    ("website", "javascript:alert(1)"),
    ("website", "agrisense.vn"),
    ("contact_email", "not an email"),
    ("deck", 99),  # a file id that is not this application's
    ("team", [{"name": "Park", "email": "nope", "role": ""}]),
    ("team", "Park"),
])
def test_each_type_rejects_what_it_cannot_hold(key, value):
    _clean, errors = formspec.validate_answers(QUESTIONS, {key: value}, complete=False, file_ids={7})
    assert key in errors


def test_a_draft_may_leave_required_questions_empty_but_a_submission_may_not():
    assert formspec.validate_answers(QUESTIONS, {}, complete=False)[1] == {}
    errors = formspec.validate_answers(QUESTIONS, {"startup_name": " "}, complete=True)[1]
    assert set(errors) == {"startup_name", "pitch", "country"}


def test_the_builder_checks_keys_labels_options_and_length_limits():
    with pytest.raises(formspec.SpecError) as caught:
        formspec.clean_question({"key": "Bad Key", "type": "single_choice", "label_en": "", "label_vi": "x",
                                 "options": "only one"}, set())
    assert set(caught.value.fields) == {"key", "label_en", "options"}
    with pytest.raises(formspec.SpecError) as caught:
        formspec.clean_question({"key": "pitch", "type": "long_text", "label_en": "P", "label_vi": "P"}, {"pitch"})
    assert set(caught.value.fields) == {"key"}
    question = formspec.clean_question({"key": "stage", "type": "single_choice", "label_en": "Stage",
                                        "label_vi": "Giai đoạn", "required": "y",
                                        "options": "idea | Idea | Ý tưởng\nmvp | MVP"}, set())
    assert question["required"] is True
    assert question["options"] == [{"value": "idea", "label_en": "Idea", "label_vi": "Ý tưởng"},
                                   {"value": "mvp", "label_en": "MVP", "label_vi": "MVP"}]
    long_text = formspec.clean_question({"key": "why", "type": "long_text", "label_en": "Why", "label_vi": "Tại sao",
                                         "max_length": "500"}, set())
    assert long_text["max_length"] == 500

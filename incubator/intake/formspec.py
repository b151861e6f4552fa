"""The form builder's questions and the server-side validation of answers against them.

A form is a list of question dicts, stored as one ``FormVersion``::

    {"key": "startup_name", "type": "short_text", "required": true, "label_en": "...", "label_vi": "...",
     "help_en": "", "help_vi": "", "options": [{"value": "hcm", "label_en": "...", "label_vi": "..."}],
     "max_length": 2000}

A question's ``key`` and each option's ``value`` are where answers are stored: the builder never shows
them, they are made from the English label (``unique_key``) when the question or option is added and never
renamed afterwards, so answers already given keep their meaning. The API may still give them explicitly.

Answers are a dict ``{key: value}``: a string for text, url, email and date (ISO ``YYYY-MM-DD``), a
number, a choice's ``value`` (a list of them for multiple choice), a file id for a file, and a list of
``{"name", "email", "role"}`` for team members.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

QUESTION_TYPES = {
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "number": _l("Number"),
    "single_choice": _l("Single choice"),
    "multiple_choice": _l("Multiple choice"),
    "date": _l("Date"),
    "url": _l("Web address"),
    "email": _l("Email"),
    "file": _l("File (PDF)"),
    "team_members": _l("Team members"),
}
CHOICE_TYPES = {"single_choice", "multiple_choice"}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_MAX = 40
SHORT_TEXT_MAX = 300
LONG_TEXT_DEFAULT_MAX = 5000
TEAM_MAX = 20
MEMBER_FIELDS = ("name", "email", "role")


class SpecError(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid question")
        self.fields = fields


def slug(text: str, fallback: str) -> str:
    """``text`` as lowercase ASCII words joined by underscores ("Lĩnh vực" -> "linh_vuc"); ``fallback`` when
    nothing of it is left (a label of symbols, or in a script without Latin letters)."""
    text = text.replace("đ", "d").replace("Đ", "D")  # the one Vietnamese letter that does not decompose
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return words or fallback


def unique_key(label_text: str, taken: Collection[str], fallback: str = "question") -> str:
    """A key made from a label: a slug starting with a letter, at most ``KEY_MAX`` characters, with a
    number added when ``taken`` has it already ("stage", "stage_2", ...)."""
    base = slug(label_text, fallback)
    if not base[0].isalpha():
        base = f"{fallback[0]}_{base}"
    base = base[:KEY_MAX - 4].rstrip("_")
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def clean_question(raw: dict[str, Any], existing_keys: set[str], previous: dict[str, Any] | None = None,
                   reserved: Collection[str] = ()) -> dict[str, Any]:
    """A question from the builder or the API, checked; raises ``SpecError`` with field messages.

    ``key`` is optional: without one it is made from the English label, apart from ``existing_keys`` (the
    form's other questions) and ``reserved`` (keys given elsewhere in the same form). ``previous`` is the
    question as it stood (an edit): its options keep their values (see ``key_options``).
    """
    fields: dict[str, str] = {}
    key = (raw.get("key") or "").strip()
    qtype = raw.get("type") or ""
    label_en, label_vi = (raw.get("label_en") or "").strip(), (raw.get("label_vi") or "").strip()
    if not key:
        key = unique_key(label_en, set(existing_keys) | set(reserved))
    elif not KEY_RE.match(key):
        fields["key"] = _("Use lowercase letters, digits and underscores, starting with a letter.")
    elif key in existing_keys:
        fields["key"] = _("Another question has this key.")
    if qtype not in QUESTION_TYPES:
        fields["type"] = _("Not a valid choice.")
    if not label_en:
        fields["label_en"] = _("This field is required.")
    if not label_vi:
        fields["label_vi"] = _("This field is required.")
    question: dict[str, Any] = {
        "key": key, "type": qtype, "required": bool(raw.get("required")), "label_en": label_en, "label_vi": label_vi,
        "help_en": (raw.get("help_en") or "").strip(), "help_vi": (raw.get("help_vi") or "").strip(),
    }
    if qtype in CHOICE_TYPES:
        question["options"] = _options(raw, previous, fields)
    if qtype == "long_text":
        max_length = raw.get("max_length")
        try:
            max_length = int(max_length) if max_length not in (None, "") else LONG_TEXT_DEFAULT_MAX
            if not 1 <= max_length <= 100000:
                raise ValueError
        except (TypeError, ValueError):
            fields["max_length"] = _("A whole number from 1 to 100000.")
            max_length = LONG_TEXT_DEFAULT_MAX
        question["max_length"] = max_length
    if fields:
        raise SpecError(fields)
    return question


def _options(raw: dict[str, Any], previous: dict[str, Any] | None, fields: dict[str, str]) -> list[dict[str, str]]:
    """A choice's options, from the builder's lines (``options_en``, ``options_vi``) or the API's list."""
    by_lines = "options_en" in raw or "options_vi" in raw
    if by_lines:
        entries, problem = option_lines(raw.get("options_en"), raw.get("options_vi"))
        if problem:
            fields["options_vi"] = problem
    else:
        entries = option_entries(raw.get("options"))
    options = key_options(entries, (previous or {}).get("options") or [])
    if len(options) < 2:
        fields["options_en" if by_lines else "options"] = _("Give at least two options, one per line.")
    return options


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def option_lines(en_text: Any, vi_text: Any) -> tuple[list[dict[str, str]], str]:
    """The builder's options: English labels one per line, and the Vietnamese ones in the same order (none:
    the English ones). ``(options without values, a message when the two lists do not pair up)``."""
    english, vietnamese = _lines(en_text), _lines(vi_text)
    problem = ""
    if vietnamese and len(vietnamese) != len(english):
        problem = _("Give one Vietnamese line for each English option (%(n)d), in the same order.", n=len(english))
    return [{"value": "", "label_en": en, "label_vi": vietnamese[i] if i < len(vietnamese) else en}
            for i, en in enumerate(english)], problem


def option_entries(raw: Any) -> list[dict[str, str]]:
    """Options as the API gives them (dicts, ``value`` optional), or as lines ``value | English | Vietnamese``."""
    lines = raw if isinstance(raw, list) else _lines(raw)
    entries = []
    for line in lines:
        if isinstance(line, dict):
            value, en, vi = line.get("value") or "", line.get("label_en") or "", line.get("label_vi") or ""
        else:
            parts = [p.strip() for p in str(line).split("|")]
            value = parts[0]
            en = parts[1] if len(parts) > 1 and parts[1] else value
            vi = parts[2] if len(parts) > 2 and parts[2] else en
        value = re.sub(r"\s+", "_", str(value).strip().lower())[:KEY_MAX]
        en, vi = str(en).strip(), str(vi).strip()
        if value or en:
            entries.append({"value": value, "label_en": en or value, "label_vi": vi or en or value})
    return entries


def key_options(entries: list[dict[str, str]], previous: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Options with their values: a value given stays; an option whose English label an option of the
    question already had keeps that one's value; when there are as many options as before, one relabelled
    in its place (the same line) keeps the value of the option it replaces; any other option gets a value
    made from its label. A value given twice keeps its first option."""
    values: list[str | None] = [e["value"] or None for e in entries]
    used = {v for v in values if v}
    labels = {e["label_en"].casefold() for e in entries}
    by_label = {str(o.get("label_en", "")).casefold(): str(o["value"]) for o in previous if o.get("value")}
    for i, entry in enumerate(entries):
        found = by_label.get(entry["label_en"].casefold())
        if values[i] is None and found and found not in used:
            values[i] = found
            used.add(found)
    for i in range(len(entries) if len(entries) == len(previous) else 0):
        if values[i] is None:
            old = previous[i]
            if old.get("value") and old["value"] not in used \
                    and str(old.get("label_en", "")).casefold() not in labels:
                kept = str(old["value"])
                values[i] = kept
                used.add(kept)
    options: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        value = values[i] or unique_key(entry["label_en"], used | seen, "option")
        if value in seen:
            continue
        seen.add(value)
        used.add(value)
        options.append({"value": value, "label_en": entry["label_en"], "label_vi": entry["label_vi"]})
    return options


def option_labels_text(question: dict[str, Any], locale: str) -> str:
    """The options' labels in one language, one per line, as the builder edits them."""
    return "\n".join(str(o.get(f"label_{locale}") or o.get("label_en") or "") for o in question.get("options", []))


def label(question: dict[str, Any], locale: str, field: str = "label") -> str:
    text = question.get(f"{field}_vi") if locale == "vi" and question.get(f"{field}_vi") \
        else question.get(f"{field}_en", "")
    return text if isinstance(text, str) else ""


def option_label(question: dict[str, Any], value: str, locale: str) -> str:
    for option in question.get("options", []):
        if option["value"] == value:
            return label(option, locale)
    return value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def validate_answers(questions: list[dict[str, Any]], answers: Any, *, complete: bool,
                     file_ids: set[int] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Answers checked against the form: ``(clean answers, {key: message})``.

    ``complete`` (submission) also requires the required questions; a draft may leave anything empty.
    Keys that are not questions of the form are dropped.
    """
    if not isinstance(answers, dict):
        return {}, {"answers": _("Answers must be an object of question keys.")}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        key = question["key"]
        value = answers.get(key)
        if is_empty(value):
            if complete and question.get("required"):
                errors[key] = _("This question needs an answer.")
            continue
        try:
            clean[key] = _clean_value(question, value, file_ids or set())
        except ValueError as exc:
            errors[key] = str(exc)
    return clean, errors


def _clean_value(question: dict[str, Any], value: Any, file_ids: set[int]) -> Any:
    cleaner = _CLEANERS.get(question["type"])
    if cleaner is None:
        raise ValueError(_("Not a valid choice."))
    return cleaner(question, value, file_ids)


def _text(question: dict[str, Any], value: Any, _files: set[int]) -> str:
    if not isinstance(value, str):
        raise ValueError(_("Give a text."))
    value = value.strip()
    limit = SHORT_TEXT_MAX if question["type"] == "short_text" else question.get("max_length", LONG_TEXT_DEFAULT_MAX)
    if len(value) > limit:
        raise ValueError(_("At most %(n)d characters (this has %(m)d).", n=limit, m=len(value)))
    return value


def _number(_question: dict[str, Any], value: Any, _files: set[int]) -> int | float:
    if isinstance(value, bool):
        raise ValueError(_("Give a number."))
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValueError(_("Give a number.")) from None
    if number != number or number in (float("inf"), float("-inf")) or abs(number) > 1e15:
        raise ValueError(_("Give a number."))
    return int(number) if number.is_integer() else number


def _single(question: dict[str, Any], value: Any, _files: set[int]) -> str:
    if not isinstance(value, str) or value not in {o["value"] for o in question.get("options", [])}:
        raise ValueError(_("Not a valid choice."))
    return value


def _multiple(question: dict[str, Any], value: Any, _files: set[int]) -> list[str]:
    allowed = [o["value"] for o in question.get("options", [])]
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v in allowed for v in values):
        raise ValueError(_("Not a valid choice."))
    return [v for v in allowed if v in values]


def _date(_question: dict[str, Any], value: Any, _files: set[int]) -> str:
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(_("Give a date as YYYY-MM-DD.")) from None


def _url(_question: dict[str, Any], value: Any, _files: set[int]) -> str:
    text = str(value).strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(text) > 500 or " " in text:
        raise ValueError(_("Give a web address starting with http:// or https://."))
    return text


def _file(_question: dict[str, Any], value: Any, file_ids: set[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in file_ids:
        raise ValueError(_("Upload a PDF file."))
    return value


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(_("Give a valid email address."))
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError(_("Give a valid email address.")) from None


def _team(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > TEAM_MAX:
        raise ValueError(_("Give at most %(n)d team members, each with a name and an email.", n=TEAM_MAX))
    members = []
    for index, member in enumerate(value, start=1):
        if not isinstance(member, dict):
            raise ValueError(_("Team member %(n)d needs a name and an email.", n=index))
        name, email = member.get("name"), member.get("email")
        role = member.get("role") or ""
        if is_empty(name) and is_empty(email) and is_empty(role):
            continue
        if not isinstance(name, str) or not name.strip() or not isinstance(role, str):
            raise ValueError(_("Team member %(n)d needs a name and an email.", n=index))
        try:
            email = _email(email)
        except ValueError:
            raise ValueError(_("Team member %(n)d needs a name and an email.", n=index)) from None
        members.append({"name": name.strip()[:120], "email": email, "role": role.strip()[:120]})
    return members


# How each question type's answer is checked and cleaned.
_CLEANERS: dict[str, Callable[[dict[str, Any], Any, set[int]], Any]] = {
    "short_text": _text, "long_text": _text, "number": _number, "single_choice": _single,
    "multiple_choice": _multiple, "date": _date, "url": _url, "file": _file,
    "email": lambda _q, value, _f: _email(value), "team_members": lambda _q, value, _f: _team(value),
}


def answers_from_form(questions: list[dict[str, Any]], formdata: Any) -> dict[str, Any]:
    """What an HTML form posted, shaped like API answers (files are handled by the upload)."""
    answers: dict[str, Any] = {}
    for question in questions:
        key, qtype = question["key"], question["type"]
        if qtype == "file":
            continue
        if qtype == "multiple_choice":
            answers[key] = formdata.getlist(key)
        elif qtype == "team_members":
            rows = []
            for index in range(TEAM_MAX):
                row = {f: formdata.get(f"{key}-{index}-{f}", "") for f in MEMBER_FIELDS}
                if any(v.strip() for v in row.values()):
                    rows.append(row)
            answers[key] = rows
        else:
            answers[key] = formdata.get(key, "")
    return answers

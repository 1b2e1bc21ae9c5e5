"""What every form page needs on a wrong submit: its problems in field order, each with the id of
the control its error-summary link leads to (templates/_macros.html renders them)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm


def control_id(field) -> str:
    """The id a summary link targets: the first option of a checkbox/radio group, else the field."""
    if field.type in ("SelectMultipleField", "RadioField") or hasattr(field, "option_widget"):
        return f"{field.id}-0"
    return field.id


def form_problems(form: FlaskForm, extra: Iterable[str] = ()) -> list[tuple[str | None, str]]:
    """(control id, "label: message") for each field error in the form's order, then form-wide
    messages (those have no field: their entry links nowhere)."""
    problems: list[tuple[str | None, str]] = []
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        label = field.label.text if field.label is not None else ""
        for message in field.errors:
            text = f"{label}: {message}" if label else str(message)
            problems.append((control_id(field), text))
    problems.extend((None, str(message)) for message in extra)
    return problems

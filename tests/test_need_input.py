"""``NeedInput`` is the one definition of a need's input: the API, the form's HTML limits and
the OpenAPI schema all read it, every problem comes back at once, and every message is in the
Babel catalogue in both languages, numbers written the language's way."""

from __future__ import annotations

import datetime as dt
import re

import pydantic
import pytest

from spacematch.domain.messages import CATALOGUE, Message, ValidationError
from spacematch.domain.need_input import (
    FIELDS,
    NeedContext,
    NeedInput,
    field_schema,
    limits,
    validate_need,
)

TODAY = dt.date(2027, 1, 1)


def good(**changes) -> dict:
    need = {
        "initiative": "Buurtkeuken", "legal_form": "stichting", "sector": "voedsel",
        "contact_name": "Ada", "contact_email": "ada@example.org", "min_area_m2": 50,
        "max_area_m2": 90, "max_rent_eur_month": 900, "uses": ["horeca"], "areas": ["AE02"],
        "needed_from": "2027-02-01",
    }  # fmt: skip
    return {**need, **changes}


def check(area_index, data: dict, **kwargs) -> dict[str, Message]:
    with pytest.raises(ValidationError) as caught:
        validate_need(data, areas=area_index, today=TODAY, **kwargs)
    return caught.value.errors


def test_the_model_validates_on_its_own_with_the_rules_across_fields(area_index):
    context = NeedContext(areas=area_index, today=TODAY)
    need = NeedInput.model_validate(good(point="4.9,52.37", areas=[]), context=context)
    assert need.max_distance_m == 1000 and need.x is not None and need.areas == ()
    with pytest.raises(pydantic.ValidationError):
        NeedInput.model_validate(good(min_area_m2=100), context=context)  # above max_area_m2


def test_every_problem_at_once_with_the_rules_across_fields(area_index):
    errors = check(area_index, good(min_area_m2=100, areas=[], initiative="", colour="red"))
    assert {k: m.code for k, m in errors.items()} == {
        "initiative": "required", "min_area_m2": "min_above_max", "areas": "no_place",
        "colour": "unknown_field",
    }  # fmt: skip
    # a rule across fields waits for its fields: no min/max comparison when max is bad
    errors = check(area_index, good(min_area_m2=100, max_area_m2="veel"))
    assert {k: m.code for k, m in errors.items()} == {"max_area_m2": "number"}


def test_a_past_date_may_stay_only_when_allowed(area_index):
    assert check(area_index, good(needed_from="2026-12-31"))["needed_from"].code == "past_date"
    validate_need(good(needed_from="2026-12-31"), areas=area_index, today=TODAY, allow_past=True)


def test_messages_in_both_languages_with_the_languages_numbers(area_index):
    message = check(area_index, good(max_area_m2=2_000_000))["max_area_m2"]
    assert message.text("nl") == "Moet tussen 0 en 1.000.000 liggen."
    assert message.text("en") == "Must be between 0 and 1,000,000."
    for code in CATALOGUE:
        params = {"max": 1, "min": 0, "choices": "a", "values": "b"}
        assert Message(code, params).text("en") != Message(code, params).text("nl"), code


def test_openapi_and_form_limits_are_the_models(client):
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["NeedInput"]
    # NeedInput's fields, plus the two mail settings the API reads beside it (jsonify sorts keys)
    assert set(schema["properties"]) == set(FIELDS) | {"alerts", "introductions"}
    for name in FIELDS:
        model = field_schema(name)
        for key in ("maxLength", "maximum", "enum", "minItems"):
            if key in model and name != "areas":
                assert schema["properties"][name][key] == model[key], (name, key)
    assert schema["properties"]["min_area_m2"]["exclusiveMinimum"] is True
    assert schema["properties"]["max_distance_m"]["nullable"] is True
    html = client.get("/needs/new").get_data(as_text=True)
    assert limits("initiative") == {"maxlength": 200}
    assert limits("min_area_m2") == {"min": 0, "max": 1_000_000}
    for name in ("initiative", "max_distance_m", "min_months", "min_area_m2"):
        attrs = limits(name)
        assert attrs, name
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        for attr, value in attrs.items():
            assert f'{attr}="{value:.15g}"' in tag, (name, tag)

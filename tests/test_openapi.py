"""The JSON API's OpenAPI description (``/api/openapi.json``): valid, complete, and true.

* valid OpenAPI 3.0 (openapi-spec-validator);
* every ``/api`` route of ``app.url_map`` is described, and every described operation is a route;
* schemathesis generates requests from it, schema-valid ones and schema-violating ones, sends them
  to the app through WSGI (logged in as an officer, so the officer-only operations are exercised
  too) and checks every response: no 5xx, a documented status and content type, a body that fits
  the documented schema, and schema-violating input refused. Bounded and derandomized.

Runs on SQLite, and again on PostgreSQL when SPACEMATCH_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from spacematch import get_store
from spacematch.models import Need

EXAMPLES = 25  # per operation and generation mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    """``/api/needs/<int:need_id>/matches`` -> ``/api/needs/{need_id}/matches``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_document_is_valid_openapi_3(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.0")
    need = doc["components"]["schemas"]["NeedInput"]
    from spacematch.domain.needs import FIELDS

    # The need's fields, and its mail settings (which the API takes off before validate_need).
    assert set(need["properties"]) == set(FIELDS) | {"alerts", "introductions"}
    assert need["additionalProperties"] is False
    assert "AE02" in need["properties"]["areas"]["items"]["enum"]
    errors = doc["components"]["schemas"]["Errors"]
    assert errors["properties"]["errors"]["additionalProperties"] == {"type": "string"}


def test_every_api_route_is_described_and_nothing_else(app, client):
    doc = client.get("/api/openapi.json").get_json()
    routes = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - IGNORED_METHODS
    }
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == described


@pytest.fixture
def officer_cookie(seeded_app, client, login) -> str:
    login("officer")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    ops = [result.ok() for result in schema.get_all_operations()]
    # Every operation but the document itself, which schemathesis leaves out.
    assert len(ops) == 17, [op.label for op in ops]
    return ops


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis(seeded_app, officer_cookie, mode):
    """Every operation, with generated input of one kind; a failure names the request (curl)."""
    store = get_store(seeded_app)
    checks = CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]

    for operation in _operations(seeded_app):

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            with store.sessions() as session:
                before = session.scalar(select(func.count()).select_from(Need))
            response = case.call(cookies={"session": officer_cookie})
            case.validate_response(response, checks=checks)
            with store.sessions() as session:
                after = session.scalar(select(func.count()).select_from(Need))
            assert after == before + (response.status_code == 201)

        run()

"""The OpenAPI document the API serves is a valid OpenAPI 3 document (openapi-spec-validator)."""

from __future__ import annotations

from openapi_spec_validator import validate


def test_the_openapi_document_validates(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on any violation of the OpenAPI 3 schema


def test_the_document_rejects_what_the_validator_should_catch(client):
    """The check can fail: a response without its required description is refused."""
    import pytest
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    spec = client.get("/api/v1/openapi.json").get_json()
    path, operations = next(iter(spec["paths"].items()))
    method = next(m for m in operations if m in ("get", "post", "put", "patch", "delete"))
    next(iter(operations[method]["responses"].values())).pop("description", None)
    with pytest.raises(OpenAPIValidationError):
        validate(spec)

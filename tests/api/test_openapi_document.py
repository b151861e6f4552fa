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


METHODS = ("get", "post", "put", "patch", "delete")


def _integers_without_bound(spec: dict) -> list[str]:
    """Every integer a caller may send (query, header or body) that the document leaves unbounded."""
    components = spec.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(schema: dict, where: str) -> None:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
            walk(sub, where)
        types = schema.get("type")
        if (types == "integer" or isinstance(types, list) and "integer" in types) and not (
                "maximum" in schema or "enum" in schema):
            found.append(where)
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}[]")

    for path, operations in spec["paths"].items():
        for method, operation in ((m, o) for m, o in operations.items() if m in METHODS):
            for parameter in operation.get("parameters", []):
                # ``page`` is capped where it is used (api.paging.api_page): a page beyond any table is empty.
                if parameter.get("in") in ("query", "header") and parameter["name"] != "page":
                    walk(parameter.get("schema", {}), f"{method.upper()} {path} ?{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content.get("schema", {}), f"{method.upper()} {path} body")
    return found


def test_every_integer_a_caller_sends_is_bounded(client):
    """An unbounded id reached PostgreSQL as "integer out of range", a 500: each one has a maximum."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert _integers_without_bound(spec) == []
    # The check can fail: an integer without a maximum is reported.
    spec["paths"]["/x"] = {"get": {"parameters": [{"in": "query", "name": "n", "schema": {"type": "integer"}}]}}
    assert _integers_without_bound(spec) == ["GET /x ?n"]

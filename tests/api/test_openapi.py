"""The OpenAPI description at /api/v1/openapi.json is generated and covers every route."""

import re

import pytest

SPEC_URL = "/api/v1/openapi.json"
RESOURCES = ("patients", "providers", "programs", "enrollments")


@pytest.fixture
def spec(client):
    response = client.get(SPEC_URL)
    assert response.status_code == 200
    return response.json


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/v1/") and rule.rule != SPEC_URL]


def test_every_api_route_is_described_with_its_methods(app, spec):
    rules = api_rules(app)
    assert {r.rule.split("/")[3] for r in rules} >= set(RESOURCES)
    for rule in rules:
        path = openapi_path(rule.rule)
        assert path in spec["paths"], path
        methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
        assert methods <= set(spec["paths"][path]), (path, methods)


def test_operations_carry_their_request_and_response_schemas(app, spec):
    for rule in api_rules(app):
        operations = spec["paths"][openapi_path(rule.rule)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = operations[method.lower()]
            success = next(code for code in operation["responses"] if code.startswith("2"))
            content = resolve(spec, operation["responses"][success])["content"]
            if "application/json" not in content:  # not JSON (the HL7 ACK): typed all the same
                assert all(media.get("schema") for media in content.values()), rule.rule
                assert all(media.get("schema") for media in
                           operation["requestBody"]["content"].values()), rule.rule
                continue
            schema = resolve(spec, content["application/json"]["schema"])
            assert schema.get("properties"), (rule.rule, method)
            if method in ("POST", "PATCH"):
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert resolve(spec, body).get("properties"), (rule.rule, method)


def test_lists_are_described_as_pages(spec):
    for resource in RESOURCES:
        operation = spec["paths"][f"/api/v1/{resource}"]["get"]
        page = resolve(spec, resolve(spec, operation["responses"]["200"])["content"][
            "application/json"]["schema"])
        assert set(page["properties"]) == {"items", "total", "page", "per_page"}
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["per_page"]["schema"]["maximum"] == 500


def test_errors_and_conditional_updates_are_described(spec):
    for resource, key in (("patients", "patient_id"), ("providers", "provider_id")):
        patch = spec["paths"][f"/api/v1/{resource}/{{{key}}}"]["patch"]
        assert {"404", "412", "422", "428"} <= set(patch["responses"])
        assert [p["name"] for p in patch["parameters"] if p["in"] == "header"] == ["If-Match"]
        errors = resolve(spec, patch["responses"]["422"]["content"]["application/json"]["schema"])
        assert "errors" in errors["properties"]
        get = spec["paths"][f"/api/v1/{resource}/{{{key}}}"]["get"]
        assert "ETag" in get["responses"]["200"]["headers"]
    assert "409" in spec["paths"]["/api/v1/patients"]["post"]["responses"]


def test_schemas_come_from_marshmallow(spec):
    patient = spec["components"]["schemas"]["Patient"]["properties"]
    assert patient["birth_date"]["format"] == "date"
    assert "nir" in patient and "territory_code" in patient
    create = spec["components"]["schemas"]["PatientCreate"]
    assert {"birth_name", "birth_date", "sex", "territory_code"} <= set(create["required"])


def test_enrollment_history_is_described_as_not_updatable(spec):
    tag = next(t for t in spec["tags"] if t["name"] == "api_enrollments")
    assert "cannot be updated" in tag["description"]
    assert set(spec["paths"]["/api/v1/enrollments/{enrollment_id}"]) - {"parameters"} == {"get"}

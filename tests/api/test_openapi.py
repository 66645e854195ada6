"""The OpenAPI description at /api/v1/openapi.json is generated and covers every route."""

import re

import pytest

from tests.factories import make_patient

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


def _nodes(node, path=""):
    """Every object of the description, with where it is."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{path}/{index}")


def test_a_field_that_takes_null_lists_null_among_its_values(spec):
    """OpenAPI 3.0: `nullable` does not widen an `enum`; without null in it, the description
    refused the null the API takes and answers (schemathesis: `agreement_method: null` on
    POST /careplans, "schema-violating request accepted")."""
    wrong = [path for path, node in _nodes(spec)
             if node.get("nullable") and "enum" in node and None not in node["enum"]]
    assert wrong == []
    method = spec["components"]["schemas"]["CarePlanCreate"]["properties"]["agreement_method"]
    assert method["nullable"] and method["enum"][-1] is None
    assert None not in spec["components"]["schemas"]["Patient"]["properties"]["sex"]["enum"]


def test_the_answers_link_to_what_a_client_does_next(spec):
    """A record's ETag (from its creation, its read, its last change) is what its PATCH wants in
    If-Match, a queued print's id where to poll it: the description says so with links (which
    schemathesis' stateful tests follow)."""
    linked = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, answer in operation["responses"].items():
                for name, link in answer.get("links", {}).items():
                    linked[(method, path, status, name)] = link
                    _, _, pointer, target = link["operationRef"].split("/")
                    target_path = pointer.replace("~1", "/").replace("~0", "~")
                    assert target in spec["paths"][target_path], link  # it leads somewhere
                    if "header.If-Match" in link["parameters"]:
                        assert target == "patch"
                        assert link["parameters"]["header.If-Match"] == "$response.header.ETag"
                        assert "ETag" in answer["headers"]
    assert linked[("get", "/api/v1/patients/{patient_id}", "200", "update")]["parameters"] == {
        "path.patient_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"}
    assert ("post", "/api/v1/careplans", "201", "update") in linked
    assert ("patch", "/api/v1/providers/{provider_id}", "200", "update") in linked
    assert ("get", "/api/v1/appointments/{appointment_id}", "200", "status") in linked
    assert not any(path == "/api/v1/appointments/{appointment_id}/status"
                   for _method, path, _status, _name in linked)
    # a print queued in the background (202) links to its progress and its PDF
    assert {name for method, path, status, name in linked
            if path == "/api/v1/careplans/{plan_id}/pdf" and status == "202"} == {"progress",
                                                                                 "pdf"}


def test_following_the_link_changes_the_record(api, case_manager, session):
    patient = make_patient(case_manager=case_manager)
    session.commit()
    caller = api(case_manager)
    read = caller.get(f"/api/v1/patients/{patient.id}")
    assert read.status_code == 200
    changed = caller.patch(f"/api/v1/patients/{read.json['id']}", json={"city": "Douai"},
                           headers={"If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["city"] == "Douai"

"""Every route declares who may use it."""

import re

from werkzeug.routing.converters import NumberConverter

from coordinator.permissions import PUBLIC, policy_of

EXEMPT = {"static", "auth.login", "home.healthz"}


def test_every_endpoint_declares_a_policy(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT or rule.endpoint.endswith(".static"):
            continue
        if policy_of(app.view_functions[rule.endpoint]) is None:
            missing.append(f"{rule.endpoint} ({rule.rule})")
    assert missing == [], "routes without a permission rule: " + ", ".join(missing)


def _example_url(rule) -> str:
    """The rule's path with a value for each argument (the policy is checked before the
    record is looked up, so any value will do)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if isinstance(converter, NumberConverter) else "x"
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def test_anonymous_users_reach_only_public_routes(app, client):
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        view = app.view_functions[rule.endpoint]
        if policy_of(view) is PUBLIC or rule.endpoint in EXEMPT:
            continue
        url = _example_url(rule)
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, (url, response.status_code)
            assert response.json["errors"]["authorization"], url
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response.headers["Location"].startswith("/login?next="), url
        checked.append(url)
    # Pages and API resources with and without arguments were all reached.
    assert {"/", "/patients/", "/patients/1", "/careplans/1", "/api/v1/patients",
            "/api/v1/patients/1", "/calendar/provider/1"} <= set(checked), checked

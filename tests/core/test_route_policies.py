"""Every route declares who may use it."""

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


def test_anonymous_users_reach_only_public_routes(app, client):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint.endswith("static"):
            continue
        view = app.view_functions[rule.endpoint]
        if policy_of(view) is PUBLIC or rule.endpoint in EXEMPT:
            continue
        response = client.get(rule.rule)
        assert response.status_code in (302, 401), (rule.rule, response.status_code)

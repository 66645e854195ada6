"""/api/v1/providers: the directory for every signed-in user; changes by staff."""

import pytest

from coordinator.providers.models import Provider
from tests.api.conftest import assert_page_shape, audit_entries
from tests.factories import make_provider

URL = "/api/v1/providers"


def body(**overrides):
    values = {"kind": "dietitian", "name": "Sophie Leroy", "territory_code": "DOUAISIS",
              "rpps": "10003456789", "city": "Douai"}
    values.update(overrides)
    return values


def test_everyone_signed_in_reads_the_directory(api, gp, council, case_manager):
    provider = make_provider(kind="nurse", name="Anne Caron")
    for user in (gp, council, case_manager):
        caller = api(user)
        listed = caller.get(URL).json
        assert provider.id in [row["id"] for row in listed["items"]]
        response = caller.get(f"{URL}/{provider.id}")
        assert response.status_code == 200
        assert response.json["territory_code"] == "DOUAISIS"
        assert response.headers["ETag"] == f'"{provider.id}-{provider.version}"'


def test_anonymous_callers_get_401(client):
    assert client.get(URL).status_code == 401


def test_list_filters_and_pages(api, gp):
    wanted = make_provider(kind="dietitian", name="Sophie Leroy")
    make_provider(kind="dietitian", territory_code="CORNOUAILLE")
    make_provider(kind="nurse")
    retired = make_provider(kind="dietitian", name="Paul Lenoir", is_active=False)
    caller = api(gp)

    douaisis = {"kind": "dietitian", "territory": "DOUAISIS"}
    body_ = caller.get(URL, query_string=douaisis).json
    assert_page_shape(body_, total=2)
    assert caller.get(URL, query_string={**douaisis, "active": "true"}).json["items"][0][
        "id"] == wanted.id
    assert [r["id"] for r in caller.get(URL, query_string={**douaisis, "active": "false"}
                                        ).json["items"]] == [retired.id]
    assert [r["id"] for r in caller.get(URL, query_string={"q": "sophie"}).json["items"]] == [
        wanted.id]
    page = caller.get(URL, query_string={"per_page": 1, "page": 3}).json
    assert_page_shape(page, total=4, page=3, per_page=1)
    assert len(page["items"]) == 1


@pytest.mark.parametrize("query,field", [
    ({"kind": "wizard"}, "kind"), ({"territory": "ATLANTIS"}, "territory"),
    ({"per_page": 1000}, "per_page"), ({"active": "maybe"}, "active"),
])
def test_bad_filters_answer_422_naming_the_parameter(api, gp, query, field):
    response = api(gp).get(URL, query_string=query)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_unknown_provider_is_404(api, gp):
    assert api(gp).get(f"{URL}/424242").status_code == 404


def test_create_answers_201_and_is_audited(api, case_manager):
    response = api(case_manager).post(URL, json=body())
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "dietitian"
    assert response.json["is_active"] is True
    assert response.headers["ETag"] == f'"{response.json["id"]}-1"'
    assert [e.action for e in audit_entries(entity_type="provider",
                                            entity_id=str(response.json["id"]))] == ["create"]


def test_create_inactive(api, admin):
    response = api(admin).post(URL, json=body(is_active=False))
    assert response.status_code == 201
    assert response.json["is_active"] is False


@pytest.mark.parametrize("overrides,field", [
    ({"rpps": "123"}, "rpps"), ({"finess": "960000013"}, "finess"), ({"kind": "wizard"}, "kind"),
    ({"territory_code": "ATLANTIS"}, "territory_code"), ({"name": "  "}, "name"),
    ({"name": None}, "name"), ({"phone": "0" * 41}, "phone"),
])
def test_create_validation_errors_name_the_api_field(api, admin, overrides, field):
    response = api(admin).post(URL, json=body(**overrides))
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field], response.json


def test_gp_and_council_cannot_write(api, gp, council):
    provider = make_provider()
    for user in (gp, council):
        caller = api(user)
        assert caller.post(URL, json=body()).status_code == 403
        assert caller.patch(f"{URL}/{provider.id}", json={"phone": "1"},
                            headers={"If-Match": f'"{provider.id}-1"'}).status_code == 403


def test_case_managers_manage_their_own_territory_only(api, case_manager):
    caller = api(case_manager)
    response = caller.post(URL, json=body(territory_code="CORNOUAILLE"))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["territory_code"]
    elsewhere = make_provider(territory_code="CORNOUAILLE")
    response = caller.patch(f"{URL}/{elsewhere.id}", json={"phone": "0320000000"},
                            headers={"If-Match": f'"{elsewhere.id}-{elsewhere.version}"'})
    assert response.status_code == 403
    mine = make_provider()
    response = caller.patch(f"{URL}/{mine.id}", json={"territory_code": "CORNOUAILLE"},
                            headers={"If-Match": f'"{mine.id}-{mine.version}"'})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["territory_code"]


def test_patch_with_etags(api, case_manager, session):
    provider = make_provider(kind="nurse", phone="0100000000")
    caller = api(case_manager)
    url = f"{URL}/{provider.id}"
    assert caller.patch(url, json={"phone": "0320000000"}).status_code == 428
    etag = caller.get(url).headers["ETag"]
    response = caller.patch(url, json={"phone": "0320000000", "is_active": False},
                            headers={"If-Match": etag})
    assert response.status_code == 200, response.json
    assert (response.json["phone"], response.json["is_active"]) == ("0320000000", False)
    assert response.headers["ETag"] != etag
    assert response.json["version"] > 1
    stale = caller.patch(url, json={"phone": "0400000000"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    session.expire_all()
    assert session.get(Provider, provider.id).phone == "0320000000"
    actions = [e.summary for e in audit_entries(entity_type="provider",
                                                entity_id=str(provider.id))]
    assert "deactivated" in actions


def test_patch_validation_error_writes_nothing(api, admin, session):
    provider = make_provider(kind="nurse")
    response = api(admin).patch(f"{URL}/{provider.id}", json={"rpps": "12", "city": "Lens"},
                                headers={"If-Match": f'"{provider.id}-{provider.version}"'})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["rpps"]
    session.expire_all()
    assert session.get(Provider, provider.id).city is None

"""The provider directory: formats, search by kind and territory, deactivation."""

import pytest
from sqlalchemy import select

from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.providers import services
from coordinator.providers.models import Provider
from tests.factories import make_patient, make_provider, territory

ACTOR = Actor.system("test")


def values(**overrides):
    data = {"kind": "dietitian", "name": "Sophie Leroy", "territory_id": territory("DOUAISIS").id}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field,value", [
    ("rpps", "1000345678"), ("rpps", "1000345678A"), ("finess", "960000013"),
    ("finess", "59000001"), ("kind", "wizard"), ("territory_id", 424242),
])
def test_formats_are_checked_and_name_the_field(session, field, value):
    with pytest.raises(ValidationError) as error:
        services.create_provider(session, ACTOR, values(**{field: value}))
    assert field in error.value.messages()


@pytest.mark.parametrize("finess", ["590000013", "2A0000013", "2B0000013", "970000013"])
def test_valid_finess_numbers(session, finess):
    assert services.create_provider(session, ACTOR, values(finess=finess)).finess == finess


def test_which_dietitians_in_douaisis(session):
    wanted = make_provider(kind="dietitian", name="Sophie Leroy")
    # Fixed names: a random one could also contain "Leroy".
    make_provider(kind="dietitian", territory_code="CORNOUAILLE", name="Anne Kervella")
    make_provider(kind="nurse", name="Jean Dubois")
    make_provider(kind="dietitian", is_active=False, name="Marc Petit")
    criteria = services.ProviderSearch(kind="dietitian", territory_id=territory("DOUAISIS").id)
    assert session.scalars(services.search_query(criteria)).all() == [wanted]
    by_name = services.ProviderSearch(text="leroy")
    assert session.scalars(services.search_query(by_name)).all() == [wanted]


def test_stale_update_is_a_conflict(session):
    provider = services.create_provider(session, ACTOR, values())
    with pytest.raises(ConflictError):
        services.update_provider(session, ACTOR, provider, {"phone": "1"}, expected_version=99)


def test_referenced_provider_is_deactivated_not_deleted(session):
    gp = make_provider(kind="gp")
    make_patient(gp_id=gp.id)
    with pytest.raises(ValidationError):
        services.delete_provider(session, ACTOR, gp)
    services.set_active(session, ACTOR, gp, False)
    assert session.get(Provider, gp.id).is_active is False
    lone = make_provider(kind="nurse")
    services.delete_provider(session, ACTOR, lone)
    assert session.get(Provider, lone.id) is None


def test_directory_pages(client, logged_in, case_manager, make_user, session):
    make_provider(kind="dietitian", name="Sophie Leroy")
    logged_in(make_user(role="gp"))
    body = client.get("/providers/?kind=dietitian").get_data(as_text=True)
    assert "Sophie Leroy" in body
    assert client.get("/providers/new").status_code == 403
    client.post("/logout", data={"csrf_token": client.csrf_token("/")})
    logged_in(case_manager)
    response = client.post("/providers/new", data={
        "csrf_token": client.csrf_token("/providers/new"), "kind": "nurse", "name": "Jean Dubois",
        "rpps": "123", "territory_id": territory("DOUAISIS").id})
    assert response.status_code == 400
    assert 'id="rpps-error"' in response.get_data(as_text=True)
    response = client.post("/providers/new", data={
        "csrf_token": client.csrf_token("/providers/new"), "kind": "nurse", "name": "Jean Dubois",
        "rpps": "10003456790", "territory_id": territory("DOUAISIS").id})
    assert response.status_code == 302
    assert session.scalar(select(Provider).where(Provider.name == "Jean Dubois"))


def test_case_manager_cannot_edit_another_territorys_provider(client, logged_in, case_manager):
    other = make_provider(territory_code="CORNOUAILLE")
    logged_in(case_manager)
    assert client.get(f"/providers/{other.id}/edit").status_code == 403


def test_concurrent_edit_gets_a_conflict_page_and_loses_nothing(client, logged_in,
                                                                case_manager, session):
    provider = make_provider(kind="nurse", name="Jean Dubois")
    logged_in(case_manager)
    stale_version = provider.version
    provider.phone = "0102030405"  # someone else saves first
    session.commit()
    response = client.post(f"/providers/{provider.id}/edit", data={
        "csrf_token": client.csrf_token(f"/providers/{provider.id}/edit"), "kind": "nurse",
        "name": "Jean Dubois", "city": "Douai", "territory_id": territory("DOUAISIS").id,
        "version": str(stale_version)})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Quelqu’un a enregistré cette ressource" in body and "Douai" in body
    assert f'value="{session.get(Provider, provider.id).version}"' in body
    assert session.get(Provider, provider.id).city is None


def test_deleting_a_referenced_provider_is_refused_with_its_reason(client, logged_in,
                                                                   case_manager, session):
    gp = make_provider(kind="gp")
    make_patient(gp_id=gp.id)
    logged_in(case_manager)
    response = client.post(f"/providers/{gp.id}/delete",
                           data={"csrf_token": client.csrf_token(f"/providers/{gp.id}")},
                           follow_redirects=True)
    assert "référencée dans des dossiers patients" in response.get_data(as_text=True)
    assert session.get(Provider, gp.id) is not None

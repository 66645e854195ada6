"""Targets per territory, program and indicator (issue 14, item 3): the program's target by
default, the territory's own when its council set one, the history of each change; the page
and the API, who may set them (403 for another territory, GPs), and bad targets (a form error
or a 422 naming the field, nothing written)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from coordinator.core.context import Actor
from coordinator.core.errors import ValidationError
from coordinator.metrics import services
from coordinator.metrics import targets as service
from coordinator.metrics.models import TerritoryTarget, TerritoryTargetChange
from tests.api.conftest import audit_entries
from tests.factories import territory
from tests.htmlform import form_fields

FLU = "flu_vaccination_65"
PAGE = "/metrics/targets/DOUAISIS"
API = "/api/v1/metrics/targets"
PERIOD = "from=2026-01-01&to=2026-06-30"


def _row(rows, program="HF", indicator=FLU):
    return next(r for r in rows if (r.program_code, r.indicator_code) == (program, indicator))


def _set(session, user, value, code="DOUAISIS", program="HF", indicator=FLU):
    changed = service.set_targets(session, Actor.for_user(user), territory(code),
                                  [service.TargetChange(program, indicator, value)])
    session.commit()
    return changed


def _changes(session) -> int:
    return session.scalar(select(func.count()).select_from(TerritoryTargetChange))


def _flu(result):
    return next(i for i in result.indicators if i.code == FLU)


# -- The rule: the territory's own target, else the program's --------------------------------------

def test_without_a_target_of_its_own_a_territory_has_the_program_s(session):
    rows = service.target_rows(session, territory("DOUAISIS").id)
    flu = _row(rows)
    assert (flu.program_percent, flu.territory_percent, flu.effective_percent) == (
        Decimal("75.00"), None, Decimal("75.00"))
    assert not flu.is_own
    # Every program's indicators are listed, each once.
    assert {r.program_code for r in rows} >= {"HF", "DIAB"}
    assert len({(r.program_code, r.indicator_code) for r in rows}) == len(rows)


def test_a_territory_s_own_target_overrides_the_program_s_there_only(session, council):
    assert _set(session, council, "80") == 1
    douaisis = _row(service.target_rows(session, territory("DOUAISIS").id))
    cornouaille = _row(service.target_rows(session, territory("CORNOUAILLE").id))
    assert (douaisis.effective_percent, douaisis.is_own) == (Decimal("80.00"), True)
    assert (cornouaille.effective_percent, cornouaille.is_own) == (Decimal("75.00"), False)
    # The program's own target is unchanged.
    assert douaisis.program_percent == Decimal("75.00")


def test_a_blank_target_goes_back_to_the_program_s(session, council):
    _set(session, council, "80")
    assert _set(session, council, "") == 1
    flu = _row(service.target_rows(session, territory("DOUAISIS").id))
    assert (flu.territory_percent, flu.effective_percent) == (None, Decimal("75.00"))
    assert session.scalar(select(func.count()).select_from(TerritoryTarget)) == 0


def test_the_same_target_again_changes_nothing(session, council):
    _set(session, council, "80")
    assert _set(session, council, "80,00") == 0
    assert _changes(session) == 1


def test_each_change_is_kept_with_who_when_old_and_new(session, council, admin):
    _set(session, council, "80")
    _set(session, admin, "82.5")
    _set(session, council, None)
    history = service.history(session, territory("DOUAISIS").id)
    assert [(h.changed_by, h.old_percent, h.new_percent) for h in history] == [
        (council.email, Decimal("82.50"), None),
        (admin.email, Decimal("80.00"), Decimal("82.50")),
        (council.email, None, Decimal("80.00")),
    ]
    assert all(h.changed_at is not None and (h.program_code, h.indicator_code) == ("HF", FLU)
               for h in history)
    # Another territory's history is its own.
    assert service.history(session, territory("CORNOUAILLE").id) == []
    entries = audit_entries(entity_type="territory_target")
    assert len(entries) == 3 and entries[0].details["targets"][0]["new"] == "80.00"


@pytest.mark.parametrize("value", ["100.01", "-1", "abc", "NaN", "Infinity", True])
def test_a_target_outside_0_to_100_is_refused_naming_the_field(session, council, value):
    with pytest.raises(ValidationError) as refused:
        service.set_targets(session, Actor.for_user(council), territory("DOUAISIS"), [
            service.TargetChange("HF", FLU, "70"), service.TargetChange("DIAB", FLU, value)])
    assert set(refused.value.messages()) == {"targets-1-target_percent"}
    session.rollback()
    assert _changes(session) == 0  # all or nothing: the valid row is not written either


def test_an_unknown_indicator_is_refused_naming_the_row(session, council):
    with pytest.raises(ValidationError) as refused:
        service.set_targets(session, Actor.for_user(council), territory("DOUAISIS"),
                            [service.TargetChange("HF", "nothing", "70")])
    assert set(refused.value.messages()) == {"targets-0-indicator"}


def test_a_concurrent_first_save_of_the_same_target_is_told_to_read_again(session, council):
    """Someone else's first target for the same indicator lands between the read and the
    write: the unique constraint refuses ours, the service says so (no 500), nothing kept."""
    from sqlalchemy import event, insert

    from coordinator.core.time import utcnow

    indicator_id = _row(service.target_rows(session, territory("DOUAISIS").id)).indicator_id

    def someone_else(flushing, context, instances):
        flushing.connection().execute(insert(TerritoryTarget.__table__).values(
            territory_id=territory("DOUAISIS").id, indicator_id=indicator_id,
            target_percent=50, updated_at=utcnow()))

    event.listen(session(), "before_flush", someone_else, once=True)
    with pytest.raises(ValidationError) as refused:
        service.set_targets(session, Actor.for_user(council), territory("DOUAISIS"),
                            [service.TargetChange("HF", FLU, "70")])
    assert set(refused.value.messages()) == {"targets"}
    session.rollback()
    assert _changes(session) == 0


@pytest.mark.parametrize("value", ["0", "100"])
def test_the_bounds_themselves_are_targets(session, council, value):
    _set(session, council, value)
    assert _row(service.target_rows(session, territory("DOUAISIS").id)).effective_percent == \
        Decimal(value)


# -- The figures carry the effective target -------------------------------------------------------

def _figures(session, **codes):
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), **codes)
    return services.registry_metrics(session, selection, exact=True)


def test_the_figures_of_a_territory_carry_its_effective_target(session, council):
    assert _flu(_figures(session, territory="DOUAISIS", program="HF")).target == 0.75
    _set(session, council, "90")
    assert _flu(_figures(session, territory="DOUAISIS", program="HF")).target == 0.9
    assert _flu(_figures(session, territory="CORNOUAILLE", program="HF")).target == 0.75
    assert _flu(_figures(session, program="HF")).target == 0.75  # the registry: the program's


def test_the_comparison_gives_each_territory_its_own_target(session, council):
    _set(session, council, "90")
    selection = services.select_figures(session, first=date(2026, 1, 1),
                                        last=date(2026, 6, 30), program="HF")
    found = {r.territory: _flu(r).target
             for r in services.compare_territories(session, selection, exact=False)}
    assert found["DOUAISIS"] == 0.9 and found["CORNOUAILLE"] == 0.75


def test_the_api_figures_carry_the_effective_target_in_the_same_shape(api, session, council):
    before = api(council).get(f"/api/v1/metrics?{PERIOD}&program=HF").json
    _set(session, council, "90")
    after = api(council).get(f"/api/v1/metrics?{PERIOD}&program=HF").json
    [flu] = [i for i in after["indicators"] if i["code"] == FLU]
    assert flu["target"] == 0.9
    assert set(after) == set(before) and set(flu) == set(before["indicators"][0])
    territories = api(council).get(f"/api/v1/metrics/territories?{PERIOD}&program=HF").json
    targets = {t["territory"]: t["indicators"][0]["target"] for t in territories["territories"]}
    assert targets["DOUAISIS"] == 0.9 and targets["CORNOUAILLE"] == 0.75


# -- The page -------------------------------------------------------------------------------------

def _form(client, url=PAGE):
    response = client.get(url)
    assert response.status_code == 200
    return form_fields(response.get_data(as_text=True), "targets-form")


def _index_of(fields, program="HF", indicator=FLU) -> int:
    for key, value in fields.items():
        if key.endswith("-program") and value == program:
            index = key.split("-")[1]
            if fields[f"targets-{index}-indicator"] == indicator:
                return int(index)
    raise AssertionError("row not found")


def test_a_council_sets_its_territory_s_targets_on_the_page(logged_in, council, session):
    client = logged_in(council)
    fields = _form(client)
    index = _index_of(fields)
    fields[f"targets-{index}-target_percent"] = "80,5"
    response = client.post(PAGE, data=fields)
    assert response.status_code == 302
    assert _row(service.target_rows(session, territory("DOUAISIS").id)).territory_percent == \
        Decimal("80.50")
    page = client.get(PAGE).get_data(as_text=True)
    assert council.email in page  # the history names who changed it
    assert "80,5" in page


def test_the_page_opens_the_reader_s_own_territory(logged_in, council):
    response = logged_in(council).get("/metrics/targets/")
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)


def test_a_target_over_100_on_the_page_is_an_error_on_its_field(logged_in, council, session):
    client = logged_in(council)
    fields = _form(client)
    index = _index_of(fields)
    fields[f"targets-{index}-target_percent"] = "120"
    response = client.post(PAGE, data=fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="targets-{index}-target_percent-error"' in html
    assert "entre 0 et 100" in html  # the message, in the default language (French)
    assert _changes(session) == 0


def test_a_council_may_not_touch_another_territory_s_targets(logged_in, council, session):
    client = logged_in(council)
    fields = _form(client)
    assert client.get("/metrics/targets/CORNOUAILLE").status_code == 403
    assert client.post("/metrics/targets/CORNOUAILLE", data=fields).status_code == 403
    assert _changes(session) == 0


def test_an_administrator_sets_any_territory_s_targets(logged_in, admin, session):
    client = logged_in(admin)
    assert client.get("/metrics/targets/").status_code == 200  # chooses a territory
    fields = _form(client, "/metrics/targets/CORNOUAILLE")
    fields[f"targets-{_index_of(fields)}-target_percent"] = "60"
    assert client.post("/metrics/targets/CORNOUAILLE", data=fields).status_code == 302
    assert _row(service.target_rows(session, territory("CORNOUAILLE").id)).effective_percent \
        == Decimal("60.00")


def test_a_case_manager_reads_the_targets_but_does_not_set_them(logged_in, case_manager,
                                                                session):
    client = logged_in(case_manager)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert 'name="targets-0-target_percent"' not in response.get_data(as_text=True)
    fields = {"csrf_token": client.csrf_token(PAGE), "targets-0-program": "HF",
              "targets-0-indicator": FLU, "targets-0-target_percent": "10"}
    assert client.post(PAGE, data=fields).status_code == 403
    assert _changes(session) == 0


def test_a_gp_is_refused_the_targets(logged_in, make_user):
    client = logged_in(make_user(role="gp"))
    assert client.get(PAGE).status_code == 403
    assert client.get("/metrics/targets/").status_code == 403


def test_the_page_needs_its_csrf_token(logged_in, council, session):
    client = logged_in(council)
    fields = _form(client)
    fields.pop("csrf_token")
    fields[f"targets-{_index_of(fields)}-target_percent"] = "80"
    assert client.post(PAGE, data=fields).status_code == 400
    assert _changes(session) == 0


def test_an_unknown_territory_is_not_found(logged_in, admin):
    assert logged_in(admin).get("/metrics/targets/NOWHERE").status_code == 404


# -- The API --------------------------------------------------------------------------------------

def _api_flu(body, program="HF"):
    return next(t for t in body["targets"]
                if (t["program"], t["indicator"]) == (program, FLU))


def test_the_api_reads_the_reader_s_territory_by_default(api, session, council):
    _set(session, council, "80")
    response = api(council).get(API)
    assert response.status_code == 200
    body = response.json
    assert body["territory"] == "DOUAISIS"
    assert _api_flu(body) | {"updated_at": None} == {
        "program": "HF", "indicator": FLU, "label": _api_flu(body)["label"], "is_builtin": True,
        "program_target_percent": 75.0, "territory_target_percent": 80.0,
        "target_percent": 80.0, "updated_at": None}
    assert _api_flu(body, "DIAB")["territory_target_percent"] is None
    assert [(c["old_percent"], c["new_percent"], c["changed_by"]) for c in body["history"]] == \
        [(None, 80.0, council.email)]


def test_a_council_patches_its_territory_s_targets(api, session, council):
    response = api(council).patch(API, json={"targets": [
        {"program": "HF", "indicator": FLU, "target_percent": 85}]})
    assert response.status_code == 200, response.json
    assert _api_flu(response.json)["target_percent"] == 85.0
    back = api(council).patch(API, json={"targets": [
        {"program": "HF", "indicator": FLU, "target_percent": None}]})
    assert _api_flu(back.json)["target_percent"] == 75.0
    assert _changes(session) == 2


@pytest.mark.parametrize("value", [100.5, -0.01])
def test_the_api_refuses_a_target_outside_0_to_100_naming_the_field(api, session, council,
                                                                    value):
    response = api(council).patch(API, json={"targets": [
        {"program": "HF", "indicator": FLU, "target_percent": 50},
        {"program": "DIAB", "indicator": FLU, "target_percent": value}]})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"targets.1.target_percent"}
    assert _changes(session) == 0


def test_the_api_names_an_unknown_indicator(api, session, council):
    response = api(council).patch(API, json={"targets": [
        {"program": "HF", "indicator": "nothing", "target_percent": 50}]})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"targets.0.indicator"}


def test_the_api_refuses_another_territory_s_targets_to_a_council(api, session, council):
    body = {"targets": [{"program": "HF", "indicator": FLU, "target_percent": 50}]}
    assert api(council).get(f"{API}?territory=CORNOUAILLE").status_code == 403
    response = api(council).patch(f"{API}?territory=CORNOUAILLE", json=body)
    assert response.status_code == 403 and "territory" in response.json["errors"]
    assert _changes(session) == 0


def test_an_administrator_patches_any_territory_and_must_name_one(api, session, admin):
    body = {"targets": [{"program": "HF", "indicator": FLU, "target_percent": 50}]}
    assert set(api(admin).get(API).json["errors"]) == {"territory"}
    assert api(admin).get(f"{API}?territory=NOWHERE").status_code == 422
    response = api(admin).patch(f"{API}?territory=CORNOUAILLE", json=body)
    assert response.status_code == 200 and response.json["territory"] == "CORNOUAILLE"


@pytest.mark.parametrize("who", ["gp", "case_manager"])
def test_only_councils_and_administrators_patch(request, api, session, who):
    user = request.getfixturevalue(who)
    body = {"targets": [{"program": "HF", "indicator": FLU, "target_percent": 50}]}
    assert api(user).patch(API, json=body).status_code == 403
    assert _changes(session) == 0


@pytest.fixture
def gp(make_user):
    return make_user(role="gp")


def test_a_gp_does_not_read_the_targets(api, gp):
    assert api(gp).get(f"{API}?territory=DOUAISIS").status_code == 403


def test_the_page_s_queries_do_not_grow_with_its_history(logged_in, council, session,
                                                        count_queries):
    from coordinator.auth.models import User

    client, council_id = logged_in(council), council.id
    _set(session, council, "80")
    with count_queries() as few:
        assert client.get(PAGE).status_code == 200
    for value in ("81", "82", "83", "84", "85"):
        _set(session, session.get(User, council_id), value)
        _set(session, session.get(User, council_id), value, program="DIAB")
    with count_queries() as more:
        assert client.get(PAGE).status_code == 200
    assert more.count == few.count, more.report()

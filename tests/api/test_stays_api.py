"""/api/v1/stays and /api/v1/events: lists with their filters and the readers' scope, read,
create and update with If-Match, exactly the item fields of the issue, the same rules as the
other ways in (422 naming the field), audit."""

from datetime import date, datetime

import pytest

from coordinator.extensions import db
from coordinator.stays import services
from coordinator.stays.models import Stay, StaySource
from tests.api.conftest import assert_page_shape, audit_entries
from tests.factories import make_patient, make_provider
from tests.stays.conftest import ACTOR, record

URL = "/api/v1/stays"
EVENTS = "/api/v1/events"
EN = {"Accept-Language": "en"}
ITEM_FIELDS = {"id", "external_id", "patient_id", "facility_name", "facility_finess",
               "admitted_at", "admission_mode", "discharged_at", "discharge_destination",
               "main_diagnosis", "diagnoses", "is_index_stay", "readmission_of",
               "readmitted_by", "lace"}


def body(patient, **overrides) -> dict:
    values = {"patient_id": patient.id, "facility_name": "Centre hospitalier de Douai",
              "facility_finess": "590000021", "admitted_at": "2026-03-05T22:10",
              "admission_mode": "emergency", "discharged_at": "2026-03-12T11:00",
              "discharge_destination": "home", "main_diagnosis": "I509",
              "diagnoses": ["E11.9"]}
    values.update(overrides)
    return values


def if_match(response) -> dict:
    return {"If-Match": response.headers["ETag"], **EN}


def ids(response) -> list[int]:
    return [row["id"] for row in response.json["items"]]


@pytest.fixture
def patient():
    return make_patient(birth_date=date(1948, 3, 14))


@pytest.fixture
def gp_user(make_user):
    provider = make_provider("gp")
    return make_user(role="gp", provider_id=provider.id)


# -- Reading -----------------------------------------------------------------------------------

def test_a_stay_reads_with_exactly_the_item_fields(api, case_manager, patient):
    index = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    readmission = record(patient, admitted_at=datetime(2026, 3, 20, 8), discharged_at=None,
                         discharge_destination=None, diagnoses=["N18", "E11"])
    caller = api(case_manager)
    response = caller.get(f"{URL}/{index.id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{index.id}-{index.version}"'
    item = response.json
    assert set(item) == ITEM_FIELDS
    assert (item["admitted_at"], item["discharged_at"], item["admission_mode"],
            item["main_diagnosis"], item["is_index_stay"], item["readmission_of"],
            item["readmitted_by"]) == ("2026-02-28T23:00:00+00:00", "2026-03-02T23:00:00+00:00",
                                       "emergency", "I50.9", True, None, readmission.id)
    assert set(item["lace"]) == {"score", "length", "acuity", "comorbidity",
                                 "emergency_visits"}
    assert item["lace"]["length"] == 2 and item["lace"]["acuity"] == 3
    open_item = caller.get(f"{URL}/{readmission.id}").json
    assert (open_item["lace"], open_item["discharged_at"], open_item["readmission_of"],
            open_item["diagnoses"]) == (None, None, index.id, ["N18", "E11"])
    reads = audit_entries(entity_type="stay", action="read")
    assert [(e.entity_id, e.patient_id) for e in reads] == [(str(index.id), patient.id),
                                                           (str(readmission.id), patient.id)]


def test_lists_filter_by_patient_period_and_open(api, admin, patient):
    other = make_patient()
    march = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    april = record(patient, admitted_at=datetime(2026, 4, 10), discharged_at=None,
                   discharge_destination=None)
    theirs = record(other, admitted_at=datetime(2026, 3, 2, 23, 30),
                    discharged_at=datetime(2026, 3, 4))
    gone = record(other, admitted_at=datetime(2026, 5, 1), discharged_at=None,
                  discharge_destination=None, facility_name="Clinique", facility_finess=None)
    services.cancel_admission(db.session, gone, actor=ACTOR, source=StaySource.FORM)
    db.session.commit()
    caller = api(admin)
    listed = caller.get(URL)
    assert_page_shape(listed.json, total=3)
    assert ids(listed) == [march.id, theirs.id, april.id]  # by admission, cancelled left out
    assert ids(caller.get(URL, query_string={"patient": patient.id})) == [march.id, april.id]
    assert ids(caller.get(URL, query_string={"open": "true"})) == [april.id]
    assert ids(caller.get(URL, query_string={"open": "false"})) == [march.id, theirs.id]
    # In hospital at some time of the period (Paris days): theirs was admitted on the 2nd.
    assert ids(caller.get(URL, query_string={"from": "2026-03-04", "to": "2026-03-31"})) == [
        theirs.id]
    assert ids(caller.get(URL, query_string={"to": "2026-03-01"})) == [march.id]
    assert ids(caller.get(URL, query_string={"from": "2026-06-01"})) == [april.id]
    assert caller.get(URL, query_string={"from": "2026-02-30"}, headers=EN).status_code == 422
    assert caller.get(f"{URL}/{gone.id}").status_code == 404
    search = audit_entries(entity_type="stay_search")[0]
    assert search.summary == "3 result(s)" and search.details == {"criteria": {}}
    assert len(audit_entries(entity_type="stay", action="read")) == 3 + 2 + 1 + 2 + 1 + 1 + 1


def test_who_reads_which_stays(api, case_manager, other_case_manager, council, gp_user,
                               make_user):
    mine = make_patient(gp_id=gp_user.provider_id, consent_share=True)
    no_consent = make_patient(gp_id=gp_user.provider_id, consent_share=False)
    elsewhere = make_patient(territory_code="CORNOUAILLE", gp_id=gp_user.provider_id,
                             consent_share=True)
    stays = {name: record(p) for name, p in (("mine", mine), ("no_consent", no_consent),
                                             ("elsewhere", elsewhere))}
    # A case manager: the patients of their territory.
    caller = api(case_manager)
    assert set(ids(caller.get(URL))) == {stays["mine"].id, stays["no_consent"].id}
    assert caller.get(f"{URL}/{stays['elsewhere'].id}").status_code == 404
    assert set(ids(api(other_case_manager).get(URL))) == {stays["elsewhere"].id}
    # A GP: their own patients who consented, in any territory; no writes.
    doctor = api(gp_user)
    assert set(ids(doctor.get(URL))) == {stays["mine"].id, stays["elsewhere"].id}
    assert doctor.get(f"{URL}/{stays['mine'].id}").status_code == 200
    assert doctor.get(f"{URL}/{stays['no_consent'].id}").status_code == 404
    assert doctor.post(URL, json=body(mine)).status_code == 403
    # Councils and care-team professionals never.
    assert api(council).get(URL).status_code == 403
    assert api(council).get(f"{URL}/{stays['mine'].id}").status_code == 403
    professional = make_user(role="professional")
    assert api(professional).get(URL).status_code == 403


# -- Writing -----------------------------------------------------------------------------------

def test_a_stay_is_created_with_its_flags_and_lace(api, case_manager, patient):
    caller = api(case_manager)
    response = caller.post(URL, json=body(patient, external_id="V-1"), headers=EN)
    assert response.status_code == 201, response.json
    item = response.json
    assert set(item) == ITEM_FIELDS
    assert response.headers["Location"].endswith(f"{URL}/{item['id']}")
    assert response.headers["ETag"] == f'"{item["id"]}-1"'
    assert (item["external_id"], item["main_diagnosis"], item["diagnoses"],
            item["admitted_at"]) == ("V-1", "I50.9", ["E11.9"], "2026-03-05T21:10:00+00:00")
    assert item["lace"]["score"] == 5 + 3 + 2 + 0  # 7 days, emergency, heart failure+diabetes
    stay = db.session.get(Stay, item["id"])
    assert (stay.source, stay.created_by) == ("api", case_manager.email)
    assert audit_entries(entity_type="stay", action="create")[0].patient_id == patient.id
    again = caller.post(URL, json=body(patient, external_id="V-1"), headers=EN)
    assert again.status_code == 422 and list(again.json["errors"]) == ["external_id"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"discharged_at": "2026-03-05T10:00"}, "discharged_at", "before the admission"),
    ({"main_diagnosis": "150.9"}, "main_diagnosis", "not an ICD-10 code"),
    ({"diagnoses": ["E11", "I5"]}, "diagnoses", "“I5”"),
    ({"admitted_at": "1948-03-13T10:00", "discharged_at": None, "discharge_destination": None},
     "admitted_at", "born on 1948-03-14"),
    ({"admitted_at": "1899-12-31T10:00"}, "admitted_at", "between 1900-01-01 and 2100-12-31"),
    ({"discharged_at": "2101-01-01T10:00"}, "discharged_at", "between"),
    ({"facility_finess": "12345"}, "facility_finess", "FINESS"),
    ({"facility_name": " "}, "facility_name", "name of the facility"),
    ({"admission_mode": "walk_in"}, "admission_mode", "emergency, planned or transfer"),
    ({"discharged_at": None}, "discharge_destination", "goes with a discharge"),
    ({"lace": 3}, "lace", "Unknown field"),
    ({"diagnoses": ["E11"] * 51}, "diagnoses", "At most 50"),
])
def test_bad_stays_are_refused_naming_the_field(api, case_manager, patient, changes, field,
                                                words):
    response = api(case_manager).post(URL, json=body(patient, **changes), headers=EN)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [field], response.json
    assert words in " ".join(response.json["errors"][field])
    assert db.session.query(Stay).count() == 0


def test_an_overlap_and_a_stay_after_death_are_refused(api, case_manager, patient):
    stored = record(patient)
    caller = api(case_manager)
    response = caller.post(URL, json=body(patient, admitted_at="2026-03-10T08:00",
                                          discharged_at=None, discharge_destination=None),
                           headers=EN)
    assert response.status_code == 422
    assert f"stay #{stored.id}" in response.json["errors"]["admitted_at"][0]
    patient.deceased_date = date(2026, 4, 1)
    db.session.commit()
    response = caller.post(URL, json=body(patient, admitted_at="2026-04-02T08:00",
                                          discharged_at=None, discharge_destination=None),
                           headers=EN)
    assert response.status_code == 422
    assert "died on 2026-04-01" in response.json["errors"]["admitted_at"][0]


def test_an_overlap_is_named_with_the_stays_other_problems(api, case_manager, patient):
    """Issue #16: every problem in one 422 (the overlap was named only once the rest was
    right)."""
    stored = record(patient)
    response = api(case_manager).post(URL, json=body(
        patient, admitted_at="2026-03-10T08:00", discharged_at=None, discharge_destination=None,
        main_diagnosis="150.9"), headers=EN)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"admitted_at", "main_diagnosis"}
    assert f"stay #{stored.id}" in errors["admitted_at"][0]


def test_a_patient_the_caller_may_not_open_is_not_found(api, other_case_manager, patient):
    caller = api(other_case_manager)
    assert caller.post(URL, json=body(patient)).status_code == 404
    assert caller.post(URL, json=body(patient, patient_id=2_000_000_000)).status_code == 404


def test_an_update_needs_the_etag_and_recomputes_the_flags(api, case_manager, patient):
    index = record(patient, admitted_at=datetime(2026, 3, 1), discharged_at=datetime(2026, 3, 3))
    caller = api(case_manager)
    created = caller.post(URL, json=body(patient, admitted_at="2026-03-20T08:00",
                                         discharged_at=None, discharge_destination=None))
    url = f"{URL}/{created.json['id']}"
    change = {"discharged_at": "2026-03-27T10:00", "discharge_destination": "nursing_home"}
    assert caller.patch(url, json=change, headers=EN).status_code == 428
    stale = caller.patch(url, json=change, headers={"If-Match": f'"{created.json["id"]}-9"'})
    assert stale.status_code == 412
    response = caller.patch(url, json=change, headers=if_match(created))
    assert response.status_code == 200, response.json
    item = response.json
    assert (item["discharge_destination"], item["is_index_stay"], item["readmission_of"],
            item["facility_name"]) == ("nursing_home", True, index.id,
                                       "Centre hospitalier de Douai")
    assert item["lace"]["length"] == 5 and response.headers["ETag"].endswith('-2"')
    bad = caller.patch(url, json={"discharged_at": "2026-03-19T10:00"},
                       headers=if_match(response))
    assert bad.status_code == 422 and list(bad.json["errors"]) == ["discharged_at"]
    reopened = caller.patch(url, json={"discharged_at": None}, headers=if_match(response))
    assert (reopened.json["discharged_at"], reopened.json["discharge_destination"],
            reopened.json["lace"]) == (None, None, None)
    assert audit_entries(entity_type="stay", action="update")


# -- Events ------------------------------------------------------------------------------------

def test_events_are_listed_read_created_and_changed(api, case_manager, gp_user, patient):
    stay = record(patient, main_diagnosis=None)
    caller = api(case_manager)
    created = caller.post(EVENTS, json={"patient_id": patient.id, "event_type": "diagnosis",
                                        "code": "i500", "occurred_on": "2025-09-01",
                                        "label": "insuffisance cardiaque",
                                        "external_id": "EVT-9"}, headers=EN)
    assert created.status_code == 201, created.json
    assert set(created.json) == {"id", "external_id", "patient_id", "event_type", "code",
                                 "occurred_on", "value", "label"}
    assert (created.json["code"], created.json["value"]) == ("I50.0", None)
    db.session.refresh(stay)
    assert stay.lace_comorbidity == 1  # the diagnosis counts in LACE
    lab = caller.post(EVENTS, json={"patient_id": patient.id, "event_type": "lab_result",
                                    "code": "hba1c", "occurred_on": "2026-01-04", "value": 8.9})
    assert lab.status_code == 201 and lab.json["value"] == 8.9
    listed = caller.get(EVENTS, query_string={"patient": patient.id, "event_type": "lab_result"})
    assert ids(listed) == [lab.json["id"]]
    assert ids(caller.get(EVENTS, query_string={"to": "2025-12-31"})) == [created.json["id"]]
    url = f"{EVENTS}/{lab.json['id']}"
    assert caller.get(url).headers["ETag"] == f'"{lab.json["id"]}-1"'
    changed = caller.patch(url, json={"value": 7.25}, headers=if_match(lab))
    assert changed.status_code == 200 and changed.json["value"] == 7.25
    assert caller.patch(url, json={"value": 7}, headers=EN).status_code == 428
    refused = caller.patch(url, json={"event_type": "ed_visit"}, headers=if_match(changed))
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"code", "value"}
    again = caller.post(EVENTS, json={"patient_id": patient.id, "event_type": "ed_visit",
                                      "code": "ed", "occurred_on": "2026-01-05",
                                      "external_id": "EVT-9"}, headers=EN)
    assert again.status_code == 422 and list(again.json["errors"]) == ["external_id"]
    assert api(gp_user).get(url).status_code == 404  # not their patient
    assert len(audit_entries(entity_type="clinical_event_search")) == 2


def test_bad_events_are_refused_naming_the_field(api, case_manager, patient):
    caller = api(case_manager)
    base = {"patient_id": patient.id, "event_type": "immunization", "code": "influenza",
            "occurred_on": "2025-10-15"}
    for changes, field in (({"code": "flu"}, "code"), ({"value": 3}, "value"),
                           ({"occurred_on": "1948-03-13"}, "occurred_on"),
                           ({"occurred_on": "2101-01-01"}, "occurred_on"),
                           ({"event_type": "visit"}, "event_type"),
                           ({"value": 1e12, "event_type": "lab_result", "code": "x"}, "value")):
        response = caller.post(EVENTS, json={**base, **changes}, headers=EN)
        assert response.status_code == 422, (changes, response.json)
        assert list(response.json["errors"]) == [field], (changes, response.json)


@pytest.mark.parametrize("spelled", ["EVT\x1c 7", " EVT\t\t7 ", "EVT\u20037"])
def test_an_external_id_taken_in_another_spelling_is_refused_not_a_server_error(
        api, case_manager, patient, spelled):
    """Found by the fuzzer on PostgreSQL: a separator inside the id (stored as one space) slipped
    past the lookup by the raw text, and the unique constraint answered 500."""
    caller = api(case_manager)
    event = {"patient_id": patient.id, "event_type": "ed_visit", "code": "ed",
             "occurred_on": "2026-01-05"}
    first = caller.post(EVENTS, json={**event, "external_id": "EVT 7"}, headers=EN)
    assert first.status_code == 201 and first.json["external_id"] == "EVT 7"
    again = caller.post(EVENTS, json={**event, "external_id": spelled}, headers=EN)
    assert again.status_code == 422 and list(again.json["errors"]) == ["external_id"]
    stay = caller.post(URL, json=body(patient, external_id="STY 7"), headers=EN)
    assert stay.status_code == 201, stay.json
    other = body(patient, external_id=spelled.replace("EVT", "STY"),
                 admitted_at="2026-05-05T10:00", discharged_at="2026-05-06T10:00")
    refused = caller.post(URL, json=other, headers=EN)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["external_id"]


# -- OpenAPI -----------------------------------------------------------------------------------

def test_the_openapi_description_says_exactly_what_is_answered(client):
    from tests.api.test_openapi import resolve

    spec = client.get("/api/v1/openapi.json").json
    stay = spec["components"]["schemas"]["Stay"]
    assert set(stay["properties"]) == ITEM_FIELDS == set(stay["required"])
    assert stay["additionalProperties"] is False
    lace = stay["properties"]["lace"]["anyOf"]
    assert {"type": "object", "nullable": True} in lace
    assert set(spec["components"]["schemas"]["Lace"]["required"]) == {
        "score", "length", "acuity", "comorbidity", "emergency_visits"}
    for nullable in ("discharged_at", "discharge_destination", "readmission_of",
                     "readmitted_by", "main_diagnosis", "external_id", "facility_finess"):
        assert stay["properties"][nullable]["nullable"] is True, nullable
    for path, key in (("stays", "stay_id"), ("events", "event_id")):
        listed = spec["paths"][f"/api/v1/{path}"]["get"]
        page = resolve(spec, resolve(spec, listed["responses"]["200"])["content"][
            "application/json"]["schema"])
        assert set(page["properties"]) == {"items", "total", "page", "per_page"}
        assert {"patient", "from", "to"} <= {p["name"] for p in listed["parameters"]}
        patch = spec["paths"][f"/api/v1/{path}/{{{key}}}"]["patch"]
        assert {"404", "412", "422", "428"} <= set(patch["responses"])
        assert "ETag" in spec["paths"][f"/api/v1/{path}/{{{key}}}"]["get"]["responses"][
            "200"]["headers"]
    assert "open" in {p["name"] for p in spec["paths"]["/api/v1/stays"]["get"]["parameters"]}


def test_a_list_runs_as_many_queries_for_50_stays_as_for_5(api, admin, count_queries):
    caller = api(admin)

    def add(number: int) -> None:
        for _n in range(number):
            record(make_patient(), diagnoses=["E11", "N18"])

    add(5)
    caller.get(URL)
    with count_queries() as few:
        assert len(caller.get(URL).json["items"]) == 5
    add(45)
    with count_queries() as many:
        assert len(caller.get(URL).json["items"]) == 50
    assert many.count == few.count, many.report()
    with count_queries() as few_events:
        caller.get(EVENTS)
    assert few_events.count <= few.count

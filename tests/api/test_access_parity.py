"""The API and the imports accept only what the forms offer (#15, finding 3): a patient's GP,
the professionals of a care plan and the providers booked for a patient work in the patient's
territory (`permissions.provider_serves`), whatever the path; 422 naming the field otherwise."""

from __future__ import annotations

from sqlalchemy import func, select

from coordinator.careplans.models import CarePlanMember
from coordinator.extensions import db
from coordinator.scheduling.models import Appointment
from tests.api.test_appointments_api import body as appointment_body
from tests.api.test_careplans_api import plan_body
from tests.factories import make_care_plan, make_patient, make_provider

EN = {"Accept-Language": "en"}


def test_the_api_refuses_another_territorys_gp_for_a_patient(api, case_manager):
    patient = make_patient()
    elsewhere = make_provider("gp", territory_code="AUBE-SEZ")
    own = make_provider("gp")
    caller = api(case_manager)
    response = caller.patch(f"/api/v1/patients/{patient.id}", json={"gp_id": elsewhere.id},
                            headers={"If-Match": f'"{patient.id}-{patient.version}"', **EN})
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["gp_id"]
    assert "another territory" in response.json["errors"]["gp_id"][0]
    db.session.expire_all()
    assert db.session.get(type(patient), patient.id).gp_id is None
    response = caller.patch(f"/api/v1/patients/{patient.id}", json={"gp_id": own.id},
                            headers={"If-Match": f'"{patient.id}-{patient.version}"'})
    assert response.status_code == 200, response.json


def test_the_api_refuses_another_territorys_professional_in_a_care_team(api, case_manager):
    patient = make_patient()
    elsewhere = make_provider("nurse", territory_code="CORNOUAILLE")
    caller = api(case_manager)
    sent = plan_body(patient, team=[{"provider_id": elsewhere.id, "role": "IDE"}])
    response = caller.post("/api/v1/careplans", json=sent, headers=EN)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["team.0.provider_id"]
    goals = [{"description": "Stabiliser le poids", "domain": "health",
              "actions": [{"description": "Pansement", "responsible": "provider",
                           "provider_id": elsewhere.id}]}]
    response = caller.post("/api/v1/careplans", json=plan_body(patient, goals=goals),
                           headers=EN)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["goals.0.actions.0.provider_id"]
    assert db.session.scalar(select(func.count()).select_from(CarePlanMember).where(
        CarePlanMember.provider_id == elsewhere.id)) == 0



def test_a_professional_already_in_a_team_stays_when_the_plan_is_saved(api, case_manager):
    """A link made before the rule is kept until someone changes it (no plan locked)."""
    elsewhere = make_provider("nurse", territory_code="CORNOUAILLE")
    plan = make_care_plan(make_patient())
    db.session.add(CarePlanMember(plan_id=plan.id, provider_id=elsewhere.id, role="IDE"))
    db.session.commit()
    caller = api(case_manager)
    tag = caller.get(f"/api/v1/careplans/{plan.id}").headers["ETag"]
    response = caller.patch(f"/api/v1/careplans/{plan.id}", headers={"If-Match": tag},
                            json={"team": [{"provider_id": elsewhere.id, "role": "IDE"}]})
    assert response.status_code == 200, response.json


def test_the_api_refuses_to_book_another_territorys_provider(api, case_manager):
    patient = make_patient()
    elsewhere = make_provider("nurse", territory_code="AUBE-SEZ")
    sent = appointment_body(patient, elsewhere, starts_at="2027-07-01T09:00")
    response = api(case_manager).post("/api/v1/appointments", json=sent, headers=EN)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["provider_id"]
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_the_api_refuses_an_e_mail_the_form_refuses(api, case_manager):
    """#15, finding 5: an address with CR/LF was created (201) and broke the reminders."""
    from tests.api.conftest import patient_body

    caller = api(case_manager)
    for bad in ("x@example.test\r\nBcc: all@example.test", "not an address", "a@b@c"):
        response = caller.post("/api/v1/patients", json=patient_body(email=bad), headers=EN)
        assert response.status_code == 422, (bad, response.json)
        assert list(response.json["errors"]) == ["email"], response.json
    response = caller.post("/api/v1/patients", json=patient_body(email="odile@example.org"))
    assert response.status_code == 201, response.json

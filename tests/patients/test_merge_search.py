"""The merge page: the administrator finds the two records by name or by NIR (posted, never in
an address), picks them, compares and confirms."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.patients.models import Patient
from tests.factories import make_nir, make_patient

MERGE = "/patients/merge"


def links(body: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', body)]


def pick_links(body: str, label: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in
            re.findall(r'href="([^"]+)">' + re.escape(label) + "<", body)]


def test_records_found_by_name_are_picked_then_merged(client, logged_in, admin, session):
    keep = make_patient(birth_name="Vandersteen", first_names="Odile")
    dup = make_patient(birth_name="Vandersteen", first_names="Odile Marie")
    other = make_patient(birth_name="Unrelated")
    logged_in(admin)
    response = client.get(MERGE, query_string={"name": "vandersteen"},
                          headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"#{keep.id}" in body and f"#{dup.id}" in body and f"#{other.id}" not in body
    keep_link = next(h for h in pick_links(body, "Keep this record")
                     if f"keep_id={keep.id}" in h)
    body = client.get(keep_link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-testid="merge-picked"' in body and "Not chosen yet" in body
    dup_link = next(h for h in pick_links(body, "This is the duplicate")
                    if f"merged_id={dup.id}" in h)
    assert f"keep_id={keep.id}" in dup_link  # the first pick is kept
    body = client.get(dup_link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="confirm"' in body  # the existing confirmation follows
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    response = client.post(MERGE, data={"csrf_token": token, "keep_id": keep.id,
                                        "merged_id": dup.id, "confirm": "y"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Patient, dup.id).merged_into_id == keep.id


def test_a_search_by_nir_is_posted_and_finds_the_record(client, logged_in, admin, session):
    birth = date(1947, 3, 2)
    nir = make_nir("F", birth, order=417)
    keep = make_patient(birth_name="Kept")
    found = make_patient(birth_name="Byniir", sex="F", birth_date=birth, nir=nir)
    logged_in(admin)
    page = client.get(MERGE, query_string={"keep_id": keep.id}).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/patients/merge/nir".*?</form>', page, re.S)
    assert form, "the NIR search is a posted form"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.group(0)).group(1)
    assert f'name="keep_id" type="hidden" value="{keep.id}"' in form.group(0)
    response = client.post("/patients/merge/nir", data={"csrf_token": token, "nir": nir,
                                                        "keep_id": str(keep.id),
                                                        "merged_id": ""},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"#{found.id}" in body
    picks = pick_links(body, "This is the duplicate")
    assert picks and all(nir not in href for href in links(body))
    assert any(f"keep_id={keep.id}" in h and f"merged_id={found.id}" in h for h in picks)
    search = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == found.id)
                             .order_by(AuditEntry.id.desc())).first()
    assert search is not None  # the identity shown is audited


def test_a_search_without_its_csrf_token_is_refused(client, logged_in, admin):
    make_patient(birth_name="Tokenless", nir=None)
    logged_in(admin)
    response = client.post("/patients/merge/nir", data={"nir": "2470359178417"})
    assert response.status_code == 400


def test_an_empty_name_search_names_its_field(client, logged_in, admin):
    logged_in(admin)
    response = client.get(MERGE, query_string={"name": ""})
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)


def test_the_name_search_is_audited_per_patient_shown(client, logged_in, admin, session):
    shown = make_patient(birth_name="Auditedsearch")
    logged_in(admin)
    client.get(MERGE, query_string={"name": "auditedsearch"})
    entries = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == shown.id)).all()
    assert entries


def test_a_merged_away_record_is_not_offered(client, logged_in, admin, session):
    keep = make_patient(birth_name="Alreadymerged")
    gone = make_patient(birth_name="Alreadymerged")
    gone.merged_into_id = keep.id
    session.commit()
    logged_in(admin)
    body = client.get(MERGE, query_string={"name": "alreadymerged"}).get_data(as_text=True)
    assert f"#{keep.id}" in body and f"#{gone.id}" not in body


def test_non_administrators_get_403(client, logged_in, case_manager):
    logged_in(case_manager)
    token = client.csrf_token("/patients/")
    assert client.get(MERGE, query_string={"name": "x"}).status_code == 403
    assert client.post("/patients/merge/nir", data={"csrf_token": token,
                                                    "nir": "1"}).status_code == 403


def test_the_results_query_count_does_not_grow(client, logged_in, admin, count_queries):
    logged_in(admin)
    make_patient(birth_name="Countedname")
    client.get(MERGE, query_string={"name": "countedname"})
    with count_queries() as few:
        client.get(MERGE, query_string={"name": "countedname"})
    for _i in range(6):
        make_patient(birth_name="Countedname", territory_code="CORNOUAILLE")
    with count_queries() as more:
        body = client.get(MERGE, query_string={"name": "countedname"}).get_data(as_text=True)
    assert body.count("Keep this record") >= 7 or body.count("Conserver ce dossier") >= 7
    assert more.count == few.count, more.report()

"""The readable diff between two plan documents (documents.compare)."""

import copy

import pytest
from flask_babel import refresh
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coordinator.careplans import documents
from tests.factories import make_care_plan, make_provider

LONG_BEFORE = "Rester à domicile le plus longtemps possible avec l'aide de sa fille et du SSIAD"
LONG_AFTER = "Rester à domicile le plus longtemps possible avec l'aide de son fils et du SSIAD"


@pytest.fixture(autouse=True)
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        yield


def plan_document(**overrides) -> dict:
    doc = {"plan_date": "2025-03-01", "review_date": "2025-09-01", "priorities": "Marcher",
           "expectations": LONG_BEFORE, "legal_protection": "none", "sharing_agreed": False,
           "goals": [{"id": 11, "description": "Stabiliser le poids", "status": "open",
                      "actions": [{"id": 21, "description": "Pesée quotidienne",
                                   "responsible": "patient", "status": "planned"}]}],
           "team": [{"provider_id": 1, "provider_name": "Dr Lemaire", "role": "Médecin"},
                    {"provider_id": 2, "provider_name": "Infirmière Roux", "role": ""}]}
    return doc | overrides


def where(change) -> tuple[str, ...]:
    return tuple(str(part) for part in change.where)


def test_a_changed_long_text_gives_deleted_and_inserted_words():
    [change] = documents.compare(plan_document(), plan_document(expectations=LONG_AFTER))
    assert where(change) == ("Expectations",)
    assert change.kind == "changed"
    assert change.pieces == (
        ("same", "Rester à domicile le plus longtemps possible avec l'aide de"),
        ("del", "sa fille"), ("ins", "son fils"), ("same", "et du SSIAD"))


def test_a_changed_short_text_has_no_word_pieces():
    [change] = documents.compare(plan_document(), plan_document(priorities="Courir"))
    assert (change.before, change.after, change.pieces) == ("Marcher", "Courir", ())


def test_an_added_goal_shows_as_added():
    before = plan_document()
    after = plan_document(goals=[*before["goals"],
                                 {"description": "Sortir chaque jour", "actions": []}])
    changes = documents.compare(before, after)
    assert changes and all(change.kind == "added" for change in changes)
    assert {where(change)[0] for change in changes} == {"Goal 2"}
    assert ("Goal 2", "Description") in {where(change) for change in changes}
    assert [c.after for c in changes if where(c) == ("Goal 2", "Description")] == [
        "Sortir chaque jour"]


def test_a_removed_team_member_shows_as_removed():
    before = plan_document()
    [change] = documents.compare(before, plan_document(team=before["team"][:1]))
    assert change.kind == "removed"
    assert where(change) == ("Care team", "Infirmière Roux")


def test_a_changed_date_shows_before_and_after():
    [change] = documents.compare(plan_document(), plan_document(review_date="2025-12-01"))
    assert where(change) == ("Review date",)
    assert (change.kind, change.before, change.after) == ("changed", "01/09/2025", "01/12/2025")


def test_a_saved_plan_compared_with_itself_has_no_change(session):
    nurse = make_provider(kind="nurse")
    plan = make_care_plan(goals=[{"description": "Surveiller", "actions": [
        {"description": "Visite", "provider_id": nurse.id, "interval_days": 7,
         "occurrences": 3}]}])
    doc = documents.document(session, plan)
    assert documents.compare(doc, copy.deepcopy(doc)) == []


SCALAR_VALUES = st.one_of(st.none(), st.booleans(), st.text(max_size=120))
DATE_VALUES = st.one_of(st.none(), st.dates().map(lambda day: day.isoformat()))
FREE_TEXTS = tuple(name for name in (*documents.SCALARS, *documents.STATE)
                   if name not in (*documents.DATES, *documents.ENUMERATIONS))
SCALAR_DOCUMENTS = st.fixed_dictionaries(
    dict.fromkeys(FREE_TEXTS, SCALAR_VALUES) | dict.fromkeys(documents.DATES[:5], DATE_VALUES))
NO_FIXTURE_CHECK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
                            deadline=None)


@NO_FIXTURE_CHECK
@given(doc=SCALAR_DOCUMENTS)
def test_a_document_compared_with_itself_has_no_change(doc):
    assert documents.compare(doc, copy.deepcopy(doc)) == []


@NO_FIXTURE_CHECK
@given(name=st.sampled_from(FREE_TEXTS), old=st.text(min_size=1, max_size=120),
       new=st.text(min_size=1, max_size=120))
def test_one_changed_field_gives_one_change_with_its_values(name, old, new):
    assume(old != new)
    [change] = documents.compare({name: old}, {name: new})
    assert (where(change), change.before, change.after) == ((str(documents.LABELS[name]),),
                                                            old, new)

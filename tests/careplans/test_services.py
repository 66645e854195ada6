"""Care plan rules a case manager relies on: suggestions, saving with revisions, checks, the
care team, the lifecycle, consent, append-only revisions, comments and the audit trail."""

from datetime import timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import exc, func, select, text

from coordinator.audit.models import AuditEntry
from coordinator.careplans import documents, services
from coordinator.careplans.models import CarePlan, CarePlanRevision, RevisionImmutableError
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.core.time import local_today
from coordinator.patients.models import ConsentEvent
from coordinator.patients.services import record_consent
from tests.factories import case_plan_actor, make_care_plan, make_patient, make_provider, stratum


@pytest.fixture(autouse=True)
def english(app):
    """Labels and messages in English, as a user whose browser asks for English reads them."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        yield


@pytest.fixture
def actor(case_manager):
    return case_plan_actor(case_manager)


@pytest.fixture
def gp():
    return make_provider(kind="gp")


@pytest.fixture
def patient(gp):
    return make_patient(gp_id=gp.id)


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.messages()


def goals_of(plan) -> list[dict]:
    """The plan's goals as the edit form sends them back when nothing was touched."""
    return [{"id": goal.id, **{name: getattr(goal, name) for name in documents.GOAL_FIELDS},
             "actions": [{"id": action.id,
                          **{name: getattr(action, name) for name in documents.ACTION_FIELDS}}
                         for action in goal.actions]}
            for goal in plan.goals]


def team_of(plan) -> list[dict]:
    return [{"provider_id": member.provider_id, "role": member.role} for member in plan.team]


def one_goal(**fields) -> list[dict]:
    return [{"description": "Stabiliser le poids", **fields}]


def revision_events(session, plan) -> list[tuple[int, str]]:
    return [(r.number, r.event) for r in services.revisions(session, plan)]


# -- Suggestions -------------------------------------------------------------------------------

def test_suggestions_turn_the_stratum_goals_into_goals_each_in_its_domain(session, patient):
    goals = services.suggestions(session, patient, stratum("HF-3"))["goals"]
    assert [(goal["domain"], goal["description"]) for goal in goals[:-1]] == [
        ("health", "Control the symptoms"), ("health", "Reduce readmissions"),
        ("psychological", "End-of-life wishes")]
    assert all(goal["actions"] == [] for goal in goals[:-1])


def test_suggestions_are_in_french_for_a_french_reader(app, session, patient):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        refresh()
        goals = services.suggestions(session, patient, stratum("HF-3"))["goals"]
    assert [(goal["domain"], goal["description"]) for goal in goals[:-1]] == [
        ("health", "Contrôler les symptômes"), ("health", "Réduire les réhospitalisations"),
        ("psychological", "Projet de fin de vie")]
    assert goals[-1]["actions"][0]["description"] == "Visite infirmière à domicile"


def test_suggestions_follow_up_goal_holds_the_template_with_gp_visits_for_the_gp(
        session, patient, gp):
    hf3 = stratum("HF-3")
    follow_up = services.suggestions(session, patient, hf3)["goals"][-1]
    assert [(a["description"], a["provider_kind"], a["interval_days"], a["occurrences"])
            for a in follow_up["actions"]] == [
        (item.label_en, item.provider_kind, item.interval_days, item.occurrences)
        for item in hf3.followup_items]
    assert follow_up["actions"][0]["description"] == "Nurse home visit"
    assert len(follow_up["actions"]) == 4
    assert {a["provider_kind"]: a["provider_id"] for a in follow_up["actions"]} == {
        "nurse": None, "gp": gp.id, "dietitian": None, "social_worker": None}


def test_create_plan_from_suggestions_is_a_draft_with_revision_1(session, actor, patient, gp):
    hf3 = stratum("HF-3")
    plan = services.create_plan(session, actor, patient,
                                services.suggestions(session, patient, hf3))
    assert (plan.status, plan.plan_number, plan.version, plan.stratum_id) == ("draft", 1, 1,
                                                                              hf3.id)
    assert len(plan.goals) == 4
    assert [a.provider_id for a in plan.goals[-1].actions] == [None, gp.id, None, None]
    assert revision_events(session, plan) == [(1, "created")]


# -- Saving ----------------------------------------------------------------------------------

def test_save_writes_one_revision_numbered_by_version_naming_the_change(
        session, actor, case_manager, patient):
    plan = make_care_plan(patient)
    revision = services.save_plan(session, actor, plan, {"priorities": "Éviter l'hôpital"},
                                  plan.version)
    assert plan.version == 2
    assert (revision.number, revision.event, revision.changed) == (2, "edited", ["Priorities"])
    assert (revision.author_user_id, revision.author_label) == (case_manager.id,
                                                                case_manager.email)
    assert revision_events(session, plan) == [(2, "edited"), (1, "created")]


def test_save_names_a_changed_goal_field(session, actor, patient):
    plan = make_care_plan(patient)
    goals = goals_of(plan)
    goals[0]["measure"] = "Poids stable à 2 kg près"
    revision = services.save_plan(session, actor, plan, {"goals": goals}, plan.version)
    assert revision.changed == ["Goal 1 \u203a Measure"]


def test_saving_identical_content_writes_no_revision_and_keeps_the_version(
        session, actor, patient):
    nurse = make_provider(kind="nurse")
    plan = make_care_plan(patient, goals=one_goal(actions=[
        {"description": "Visite", "provider_id": nurse.id, "interval_days": 7,
         "occurrences": 4}]))
    data = {"priorities": plan.priorities, "review_date": plan.review_date,
            "goals": goals_of(plan), "team": team_of(plan)}
    assert services.save_plan(session, actor, plan, data, plan.version) is None
    session.flush()
    assert plan.version == 1
    assert revision_events(session, plan) == [(1, "created")]


def test_keys_absent_from_a_save_keep_their_value(session, actor, patient, gp):
    plan = make_care_plan(patient, expectations="Rester chez moi")
    services.save_plan(session, actor, plan, {"priorities": "Marcher"}, plan.version)
    assert (plan.expectations, plan.priorities) == ("Rester chez moi", "Marcher")
    assert [goal.description for goal in plan.goals] == ["Stabiliser le poids"]
    assert [goal.actions[0].description for goal in plan.goals] == ["Pesée quotidienne"]
    assert [member.provider_id for member in plan.team] == [gp.id]


# -- Bad input -------------------------------------------------------------------------------

def test_goal_target_date_before_the_plan_date_is_refused_on_its_row(session, actor, patient):
    today = local_today()
    goals = [{"description": "Marcher"},
             {"description": "Maigrir", "target_date": today - timedelta(days=1)}]
    errors = errors_of(lambda: services.create_plan(session, actor, patient,
                                                    {"plan_date": today, "goals": goals}))
    assert list(errors) == ["goals-1-target_date"]


def test_review_date_before_the_plan_date_is_refused(session, actor, patient):
    plan = make_care_plan(patient)
    errors = errors_of(lambda: services.save_plan(
        session, actor, plan, {"review_date": plan.plan_date - timedelta(days=1)},
        plan.version))
    assert list(errors) == ["review_date"]


def test_action_with_an_inactive_provider_is_refused(session, actor, patient):
    plan = make_care_plan(patient)
    nurse = make_provider(kind="nurse", is_active=False)
    goals = one_goal(actions=[{"description": "Visite", "provider_id": nurse.id}])
    errors = errors_of(lambda: services.save_plan(session, actor, plan, {"goals": goals},
                                                  plan.version))
    assert list(errors) == ["goals-0-actions-0-provider_id"]


def test_action_whose_provider_became_inactive_can_be_saved_unchanged(session, actor, patient):
    nurse = make_provider(kind="nurse")
    plan = make_care_plan(patient, goals=one_goal(actions=[
        {"description": "Visite", "provider_id": nurse.id}]))
    nurse.is_active = False
    session.flush()
    data = {"priorities": "Marcher", "goals": goals_of(plan), "team": team_of(plan)}
    revision = services.save_plan(session, actor, plan, data, plan.version)
    assert revision.changed == ["Priorities"]
    assert plan.goals[0].actions[0].provider_id == nurse.id


def test_abandoned_goal_needs_a_reason(session, actor, patient):
    errors = errors_of(lambda: services.create_plan(
        session, actor, patient, {"goals": one_goal(status="abandoned")}))
    assert list(errors) == ["goals-0-status_reason"]


def test_interval_without_occurrences_is_refused(session, actor, patient):
    goals = one_goal(actions=[{"description": "Pesée", "responsible": "patient",
                               "interval_days": 7}])
    errors = errors_of(lambda: services.create_plan(session, actor, patient, {"goals": goals}))
    assert list(errors) == ["goals-0-actions-0-occurrences"]


def test_goal_of_another_plan_is_refused(session, actor, patient):
    plan = make_care_plan(patient)
    other = make_care_plan()
    goals = one_goal(id=other.goals[0].id)
    errors = errors_of(lambda: services.save_plan(session, actor, plan, {"goals": goals},
                                                  plan.version))
    assert list(errors) == ["goals-0-id"]
    assert other.goals[0].plan_id == other.id


def test_stale_expected_version_is_a_conflict_and_changes_nothing(session, actor, patient):
    plan = make_care_plan(patient)
    services.save_plan(session, actor, plan, {"priorities": "Marcher"}, 1)
    with pytest.raises(ConflictError) as caught:
        services.save_plan(session, actor, plan, {"priorities": "Courir"}, 1)
    assert caught.value.current_version == 2
    assert (plan.priorities, plan.version) == ("Marcher", 2)
    assert len(services.revisions(session, plan)) == 2


# -- Care team -------------------------------------------------------------------------------

def test_patients_gp_stays_on_the_care_team_even_when_left_out(session, actor, patient, gp):
    plan = make_care_plan(patient)
    services.save_plan(session, actor, plan, {"team": []}, plan.version)
    assert [member.provider_id for member in plan.team] == [gp.id]


def test_every_action_provider_joins_the_care_team(session, actor, patient, gp):
    plan = make_care_plan(patient)
    nurse = make_provider(kind="nurse")
    goals = one_goal(actions=[{"description": "Visite", "provider_id": nurse.id}])
    services.save_plan(session, actor, plan, {"goals": goals}, plan.version)
    assert {member.provider_id for member in plan.team} == {gp.id, nurse.id}


# -- Lifecycle -------------------------------------------------------------------------------

def test_activation_needs_the_agreement_date_and_method(session, actor, patient):
    plan = make_care_plan(patient)
    errors = errors_of(lambda: services.activate_plan(session, actor, plan, plan.version))
    assert set(errors) == {"agreement_on", "agreement_method"}
    assert plan.status == "draft"


def test_activation_with_the_agreement_makes_the_plan_active(session, actor, patient):
    plan = make_care_plan(patient, agreement_on=local_today(), agreement_method="oral")
    services.activate_plan(session, actor, plan, plan.version)
    assert (plan.status, plan.activated_on) == ("active", local_today())
    assert revision_events(session, plan)[0] == (plan.version, "activated")


def test_a_second_active_plan_for_the_patient_is_refused(session, actor, patient):
    make_care_plan(patient, status="active")
    second = make_care_plan(patient, agreement_on=local_today(), agreement_method="oral")
    errors = errors_of(lambda: services.activate_plan(session, actor, second, second.version))
    assert list(errors) == ["status"]
    assert second.status == "draft"


def test_revise_as_new_version_starts_a_draft_with_the_same_goals(session, actor, patient):
    active = make_care_plan(patient, status="active")
    draft = services.revise_as_new_version(session, actor, active)
    assert (draft.status, draft.plan_number, draft.supersedes_id) == ("draft", 2, active.id)
    assert [(g.description, [a.description for a in g.actions]) for g in draft.goals] == [
        ("Stabiliser le poids", ["Pesée quotidienne"])]
    assert draft.agreement_on is None
    assert active.status == "active"


@pytest.mark.parametrize("review_in_days, review_kept", [(-1, False), (0, True)])
def test_a_new_version_keeps_the_content_and_asks_the_agreement_again(
        session, actor, gp, review_in_days, review_kept):
    """What a new version takes from the plan it revises: its stratum, assessment, care team
    and goals; the patient's consent of today; a review date or goal target date that has
    passed is dropped (one of today stays); the agreement is asked again."""
    patient = make_patient(gp_id=gp.id, consent_share=True)
    nurse = make_provider(kind="nurse")
    today = local_today()
    hf3 = stratum("HF-3")
    active = make_care_plan(
        patient, status="active", stratum_id=hf3.id,
        assessment={"social": {"summary": "Vit seule", "needs": "Portage des repas"}},
        team=[{"provider_id": nurse.id, "role": "Infirmière référente"}],
        goals=[{"description": "Marcher", "domain": "autonomy",
                "target_date": today + timedelta(days=30)},
               {"description": "Peser", "domain": "health",
                "target_date": today + timedelta(days=30)}])
    # Time passed: the review date and the first goal's target date have come.
    active.plan_date = today - timedelta(days=90)
    active.review_date = today + timedelta(days=review_in_days)
    active.goals[0].target_date = today - timedelta(days=1)
    active.goals[1].target_date = today
    session.flush()
    record_consent(session, actor, patient, False, expressed_as="oral")  # after the agreement

    draft = services.revise_as_new_version(session, actor, active)

    assert (draft.stratum_id, draft.plan_date) == (hf3.id, today)
    assert (draft.assessment("social").summary, draft.assessment("social").needs) == (
        "Vit seule", "Portage des repas")
    assert (nurse.id, "Infirmière référente") in {(m.provider_id, m.role) for m in draft.team}
    assert (draft.agreement_on, draft.agreement_method) == (None, None)
    assert draft.sharing_agreed is False
    assert draft.review_date == (today if review_kept else None)
    assert [(g.description, g.target_date) for g in draft.goals] == [
        ("Marcher", None), ("Peser", today)]


def test_activating_the_new_version_closes_the_previous_in_the_same_transaction(
        session, actor, patient):
    previous = make_care_plan(patient, status="active")
    draft = services.revise_as_new_version(session, actor, previous)
    services.save_plan(session, actor, draft, {"agreement_on": local_today(),
                                               "agreement_method": "written"}, draft.version)
    session.commit()
    services.activate_plan(session, actor, draft, draft.version)
    assert (draft.status, previous.status) == ("active", "closed")
    assert "2" in previous.close_reason
    assert revision_events(session, previous)[0][1] == "closed"
    session.rollback()  # one unit of work: undone together
    assert (draft.status, previous.status) == ("draft", "active")


def test_the_database_refuses_two_active_plans_for_a_patient(session, patient):
    make_care_plan(patient, status="active")

    def insert(number: int, status: str) -> None:
        session.add(CarePlan(patient_id=patient.id, plan_number=number, status=status,
                             plan_date=local_today()))
        session.flush()

    with session.begin_nested():
        insert(2, "closed")  # only active plans are unique
    with pytest.raises(exc.IntegrityError), session.begin_nested():
        insert(3, "active")


def test_closing_needs_a_reason(session, actor, patient):
    plan = make_care_plan(patient, status="active")
    errors = errors_of(lambda: services.close_plan(session, actor, plan, "  ", plan.version))
    assert list(errors) == ["close_reason"]
    assert plan.status == "active"


def test_closing_records_its_day_and_its_changes_and_happens_once(session, actor, patient):
    plan = make_care_plan(patient, status="active")
    with pytest.raises(ConflictError):
        services.close_plan(session, actor, plan, "Fin de prise en charge", plan.version - 1)
    services.close_plan(session, actor, plan, " Fin de prise en charge ", plan.version)
    assert (plan.status, plan.closed_on, plan.close_reason) == (
        "closed", local_today(), "Fin de prise en charge")
    closing = services.revisions(session, plan)[0]
    assert closing.event == "closed"
    assert {"Status", "Closed on", "Reason for closing"} <= set(closing.changed)
    again = errors_of(lambda: services.close_plan(session, actor, plan, "Encore", plan.version))
    assert list(again) == ["status"]


def test_a_closed_plan_cannot_be_saved(session, actor, patient):
    plan = make_care_plan(patient, status="closed")
    errors = errors_of(lambda: services.save_plan(session, actor, plan, {"priorities": "x"},
                                                  plan.version))
    assert list(errors) == ["status"]


def test_a_deceased_patient_gets_no_new_plan(session, actor):
    patient = make_patient(deceased_date=local_today() - timedelta(days=2))
    errors = errors_of(lambda: services.create_plan(session, actor, patient,
                                                    {"goals": one_goal()}))
    assert list(errors) == ["patient"]


def test_only_one_draft_at_a_time_per_patient(session, actor, patient):
    make_care_plan(patient)
    errors = errors_of(lambda: services.create_plan(session, actor, patient,
                                                    {"goals": one_goal()}))
    assert list(errors) == ["patient"]
    assert len(services.plans_of(session, patient)) == 1


# -- Consent ---------------------------------------------------------------------------------

def test_sharing_agreed_on_activation_records_the_patients_consent(session, actor, patient):
    assert patient.consent_share is False
    plan = make_care_plan(patient, sharing_agreed=True, agreement_on=local_today(),
                          agreement_method="signed")
    services.activate_plan(session, actor, plan, plan.version)
    assert patient.consent_share is True
    event = session.scalars(select(ConsentEvent)
                            .where(ConsentEvent.patient_id == patient.id)).one()
    assert (event.consent_share, event.effective_date) == (True, local_today())


def test_activation_without_sharing_agreed_leaves_consent_alone(session, actor, patient):
    plan = make_care_plan(patient, status="active")
    assert plan.status == "active"
    assert patient.consent_share is False
    assert session.scalar(select(func.count(ConsentEvent.id))
                          .where(ConsentEvent.patient_id == patient.id)) == 0


# -- Revisions are append-only ---------------------------------------------------------------

def test_a_revision_cannot_be_updated_through_the_orm(session, patient):
    revision = services.revisions(session, make_care_plan(patient))[0]
    with pytest.raises(RevisionImmutableError), session.begin_nested():
        revision.event = "tampered"
        session.flush()


def test_a_revision_cannot_be_deleted_through_the_orm(session, patient):
    revision = services.revisions(session, make_care_plan(patient))[0]
    with pytest.raises(RevisionImmutableError), session.begin_nested():
        session.delete(revision)
        session.flush()


@pytest.mark.parametrize("statement", [
    "UPDATE care_plan_revision SET event = 'tampered' WHERE plan_id = :plan_id",
    "DELETE FROM care_plan_revision WHERE plan_id = :plan_id",
])
def test_the_database_refuses_to_change_a_revision(session, patient, statement):
    plan = make_care_plan(patient)
    with pytest.raises(exc.DBAPIError), session.begin_nested():
        session.execute(text(statement), {"plan_id": plan.id})
    assert session.scalars(select(CarePlanRevision.event)
                           .where(CarePlanRevision.plan_id == plan.id)).all() == ["created"]


# -- Comments --------------------------------------------------------------------------------

def test_an_empty_comment_is_refused(session, actor, patient):
    plan = make_care_plan(patient, status="active")
    errors = errors_of(lambda: services.add_comment(session, actor, plan, "  \n "))
    assert list(errors) == ["body"]
    assert services.comments(session, plan) == []


def test_a_comment_is_neither_missing_nor_longer_than_its_maximum(session, actor, patient):
    plan = make_care_plan(patient, status="active")
    for body in (None, ""):
        assert list(errors_of(
            lambda body=body: services.add_comment(session, actor, plan, body))) == ["body"]
    too_long = "x" * (services.MAX_COMMENT + 1)
    assert "body" in errors_of(lambda: services.add_comment(session, actor, plan, too_long))
    longest = services.add_comment(session, actor, plan, "x" * services.MAX_COMMENT)
    assert services.comments(session, plan) == [longest]


def test_a_comment_is_stored_with_its_author_and_date_and_audited(
        session, make_user, patient, gp):
    plan = make_care_plan(patient, status="active")
    gp_user = make_user(role="gp", provider_id=gp.id, territory_code=None)
    comment = services.add_comment(session, case_plan_actor(gp_user), plan, " Poids en hausse ")
    assert services.comments(session, plan) == [comment]
    assert (comment.body, comment.author_user_id, comment.author_label) == (
        "Poids en hausse", gp_user.id, gp_user.email)
    assert comment.created_at is not None
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "care_plan_comment",
        AuditEntry.entity_id == str(comment.id))).one()
    assert (entry.action, entry.patient_id, entry.actor_user_id) == ("create", patient.id,
                                                                     gp_user.id)


# -- Audit -----------------------------------------------------------------------------------

def audit_of(session, plan) -> list[tuple[str, int | None, int | None]]:
    return [(e.action, e.actor_user_id, e.patient_id) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "care_plan",
                                 AuditEntry.entity_id == str(plan.id))
        .order_by(AuditEntry.id))]


def test_reading_a_plan_is_audited(session, actor, case_manager, patient):
    plan = make_care_plan(patient)
    services.read_plan(session, actor, plan)
    assert audit_of(session, plan)[-1] == ("read", case_manager.id, patient.id)


def test_creating_and_saving_a_plan_are_audited(session, actor, case_manager, patient):
    plan = services.create_plan(session, actor, patient, {"goals": one_goal()})
    services.save_plan(session, actor, plan, {"priorities": "Marcher"}, plan.version)
    assert audit_of(session, plan) == [("create", case_manager.id, patient.id),
                                       ("update", case_manager.id, patient.id)]


# -- Changes the readable diff must see, or they would be saved without a revision ---------

def test_reordering_goals_writes_a_revision(session, actor, patient):
    plan = make_care_plan(patient, goals=[{"description": "Marcher"},
                                          {"description": "Dormir"}])
    services.save_plan(session, actor, plan, {"goals": goals_of(plan)[::-1]}, plan.version)
    session.flush()
    session.expire_all()
    assert [goal.description for goal in plan.goals] == ["Dormir", "Marcher"]
    assert revision_events(session, plan)[0] == (2, "edited")


def test_moving_an_action_to_a_namesake_provider_writes_a_revision(session, actor, patient):
    first, second = (make_provider(kind="nurse", name="Cabinet infirmier") for _ in range(2))
    plan = make_care_plan(patient, team=[{"provider_id": second.id}], goals=one_goal(
        actions=[{"description": "Visite", "provider_id": first.id}]))
    goals = goals_of(plan)
    goals[0]["actions"][0]["provider_id"] = second.id
    services.save_plan(session, actor, plan, {"goals": goals}, plan.version)
    session.flush()
    session.expire_all()
    assert plan.goals[0].actions[0].provider_id == second.id
    assert revision_events(session, plan)[0] == (2, "edited")


def test_reordering_the_care_team_writes_a_revision(session, actor, patient, gp):
    nurse = make_provider(kind="nurse")
    plan = make_care_plan(patient, team=[{"provider_id": nurse.id}])
    services.save_plan(session, actor, plan, {"team": team_of(plan)[::-1]}, plan.version)
    session.flush()
    session.expire_all()
    assert [member.provider_id for member in plan.team] == [gp.id, nurse.id]  # saved...
    assert revision_events(session, plan)[0] == (2, "edited")  # ...but no revision


def test_a_new_version_keeps_a_provider_gone_inactive_since(session, actor, patient):
    nurse = make_provider(kind="nurse")
    plan = make_care_plan(patient, status="active", goals=[{"description": "Surveiller",
                          "actions": [{"description": "Visite", "provider_id": nurse.id}]}])
    nurse.is_active = False
    session.commit()
    draft = services.revise_as_new_version(session, actor, plan)
    assert draft.goals[0].actions[0].provider_id == nurse.id


def test_activation_does_not_override_a_withdrawal_made_after_the_agreement(
        session, actor, patient):
    from datetime import timedelta

    from coordinator.core.time import local_today
    from coordinator.patients import services as patient_services

    agreed = local_today() - timedelta(days=3)
    plan = make_care_plan(patient, plan_date=agreed, agreement_on=agreed,
                          agreement_method="oral", sharing_agreed=True)
    patient_services.record_consent(session, actor, patient, False, local_today(), "oral")
    services.activate_plan(session, actor, plan, plan.version)
    assert plan.status == "active"
    assert patient.consent_share is False


def test_merging_records_moves_the_plans_and_keeps_one_active(session, actor, patient, admin):
    from coordinator.patients.merge import merge_patients

    kept_plan = make_care_plan(patient, status="active")
    duplicate = make_patient(gp_id=patient.gp_id)
    moved_plan = make_care_plan(duplicate, status="active")
    merge_patients(session, case_plan_actor(admin), patient, duplicate)
    session.flush()
    assert moved_plan.patient_id == patient.id and moved_plan.plan_number == 2
    assert (kept_plan.status, moved_plan.status) == ("active", "closed")


def test_a_plan_cannot_close_in_the_future_nor_repeat_a_goal(session, actor, patient):
    from datetime import timedelta

    from coordinator.core.time import local_today

    plan = make_care_plan(patient)  # a draft: its content may change
    assert "closed_on" in errors_of(lambda: services.close_plan(
        session, actor, plan, "Fin", plan.version, local_today() + timedelta(days=1)))
    goal = goals_of(plan)[0]
    assert "goals-1-id" in errors_of(lambda: services.save_plan(
        session, actor, plan, {"goals": [goal, dict(goal)]}, plan.version))

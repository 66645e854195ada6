"""Editing programs, strata, follow-up templates and indicators: the rules of the services."""

from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from coordinator.audit.models import AuditEntry
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.strata import services
from coordinator.strata.models import FollowUpTemplateItem, Program
from tests.factories import program, stratum


@pytest.fixture
def actor(admin):
    return Actor.for_user(admin, "10.0.0.1")


def problems(call, *args, **kwargs) -> dict[str, list[str]]:
    """The field errors a service raises, in the source language."""
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    with force_locale("en"):
        return caught.value.messages()


def audit_entries(session, entity_type, entity_id):
    return session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)).all()


def item(kind="nurse", label="Visite", interval=14, count=6, label_en=None):
    return {"provider_kind": kind, "label": label, "label_en": label_en, "interval_days": interval,
            "occurrences": count}


# --- programs ---

def test_create_program_with_the_builtin_indicator_and_an_audit_entry(session, actor):
    created = services.create_program(session, actor, {
        "code": " ckd-2 ", "name": "Maladie rénale chronique", "name_en": "Chronic kidney disease",
        "description": "", "inclusion_criteria": "DFG < 60"})
    assert created.code == "CKD-2" and created.version == 1
    assert created.name_en == "Chronic kidney disease" and created.description_en is None
    assert [(i.code, i.is_builtin, i.target_percent) for i in created.indicators] == [
        ("flu_vaccination_65", True, 75)]
    entry, = audit_entries(session, "program", created.id)
    assert (entry.action, entry.summary, entry.patient_id, entry.actor_label) == (
        "create", "CKD-2", None, actor.label)


@pytest.mark.parametrize("code,message", [
    ("", "The code is required."),
    ("HF 2", "Use upper-case letters, digits and hyphens (at most 32 characters)."),
    ("-HF", "Use upper-case letters, digits and hyphens (at most 32 characters)."),
    ("HÉ", "Use upper-case letters, digits and hyphens (at most 32 characters)."),
    ("A" * 33, "Use upper-case letters, digits and hyphens (at most 32 characters)."),
    ("hf", "Code HF is already used."),
])
def test_program_code_rules(session, actor, code, message):
    assert problems(services.create_program, session, actor, {"code": code, "name": "X"}) == {
        "code": [message]}


def test_program_name_is_required_and_bounded(session, actor):
    assert problems(services.create_program, session, actor, {
        "code": "NEW", "name": "  ", "name_en": "x" * 201}) == {
        "name": ["The name is required."], "name_en": ["At most 200 characters."]}
    assert program("NEW") is None


def test_update_program_changes_texts_and_version(session, actor):
    hf = program("HF")
    version = hf.version
    services.update_program(session, actor, hf, {
        "name": "Insuffisance cardiaque chronique", "name_en": "Chronic heart failure",
        "description": hf.description, "description_en": hf.description_en,
        "inclusion_criteria": "FEVG < 40 % ou hospitalisation pour IC"},
        expected_version=version)
    assert hf.version == version + 1
    assert hf.inclusion_criteria == "FEVG < 40 % ou hospitalisation pour IC"
    entry, = audit_entries(session, "program", hf.id)
    assert entry.action == "update" and entry.patient_id is None
    assert entry.details == {"fields": ["inclusion_criteria", "name", "name_en"]}


def test_update_program_without_change_writes_nothing(session, actor):
    hf = program("HF")
    services.update_program(session, actor, hf, {"name": hf.name}, expected_version=hf.version)
    assert hf.version == 1 and audit_entries(session, "program", hf.id) == []


def test_stale_program_version_is_a_conflict_and_nothing_changes(session, actor):
    hf = program("HF")
    services.update_program(session, actor, hf, {"name": "Premier"}, expected_version=1)
    with pytest.raises(ConflictError) as caught:
        services.update_program(session, actor, hf, {"name": "Second"}, expected_version=1)
    assert caught.value.current_version == 2
    assert hf.name == "Premier"


def test_a_save_by_another_transaction_meanwhile_is_a_conflict(session, actor):
    hf = program("HF")
    session.execute(text("UPDATE program SET version = version + 1 WHERE id = :id"),
                    {"id": hf.id})
    with pytest.raises(ConflictError):
        services.update_program(session, actor, hf, {"name": "Lost"}, expected_version=1)
    session.rollback()
    assert program("HF").name == "Insuffisance cardiaque"


def test_update_program_checks_the_name(session, actor):
    hf = program("HF")
    assert problems(services.update_program, session, actor, hf, {"name": ""},
                    expected_version=hf.version) == {"name": ["The name is required."]}


# --- strata ---

def test_add_stratum_defaults_its_code_to_program_and_level(session, actor):
    hf = program("HF")
    added = services.add_stratum(session, actor, hf, {
        "level": 4, "name": "Fin de vie", "boundary_criteria": "Pronostic < 1 an",
        "goals": [{"domain": "psychological", "description": "Directives anticipées",
                   "description_en": "Advance directives"}], "requires_care_plan": True})
    assert added.code == "HF-4" and added.program is hf and added.requires_care_plan
    assert [(g.position, g.domain, g.description, g.description_en) for g in added.goals] == [
        (0, "psychological", "Directives anticipées", "Advance directives")]
    assert [s.level for s in hf.strata] == [1, 2, 3, 4]
    entry, = audit_entries(session, "stratum", added.id)
    assert (entry.action, entry.summary) == ("create", "HF: HF-4")


@pytest.mark.parametrize("data,errors", [
    ({"level": 2, "code": "HF-2B", "name": "X"},
     {"level": ["This program already has a stratum of level 2."]}),
    ({"level": 0, "code": "HF-0", "name": "X"},
     {"level": ["The level is a whole number from 1 to 10."]}),
    ({"level": 11, "code": "HF-11", "name": "X"},
     {"level": ["The level is a whole number from 1 to 10."]}),
    ({"level": "deux", "code": "HF-X", "name": "X"},
     {"level": ["The level is a whole number from 1 to 10."]}),
    ({"level": 4, "code": "DIAB-1", "name": "X"}, {"code": ["Code DIAB-1 is already used."]}),
    ({"level": 4, "code": "HF/4", "name": "X"},
     {"code": ["Use upper-case letters, digits and hyphens (at most 32 characters)."]}),
    ({"level": 4, "code": "HF-4", "name": ""}, {"name": ["The name is required."]}),
])
def test_stratum_rules(session, actor, data, errors):
    assert problems(services.add_stratum, session, actor, program("HF"), data) == errors


def test_update_stratum_keeps_its_own_level_and_code(session, actor):
    hf3 = stratum("HF-3")
    services.update_stratum(session, actor, hf3, {
        "level": 3, "code": "HF-3", "name": hf3.name, "requires_care_plan": True,
        "boundary_criteria_en": " NYHA III-IV "}, expected_version=1)
    assert hf3.version == 2 and hf3.boundary_criteria_en == "NYHA III-IV"
    entry, = audit_entries(session, "stratum", hf3.id)
    assert entry.details == {"fields": ["boundary_criteria_en"]}


def test_update_stratum_refuses_the_level_of_another_stratum(session, actor):
    hf3 = stratum("HF-3")
    assert problems(services.update_stratum, session, actor, hf3, {"level": 1},
                    expected_version=1) == {
        "level": ["This program already has a stratum of level 1."]}
    services.update_stratum(session, actor, hf3, {"level": 5}, expected_version=1)
    assert [s.level for s in program("HF").strata] == [1, 2, 5]


def test_stale_stratum_version_is_a_conflict(session, actor):
    hf1 = stratum("HF-1")
    services.update_stratum(session, actor, hf1, {"name": "Risque"}, expected_version=1)
    with pytest.raises(ConflictError):
        services.update_stratum(session, actor, hf1, {"name": "Autre"}, expected_version=1)
    assert hf1.name == "Risque"


# --- follow-up templates ---

def test_set_followup_template_replaces_the_list_in_order(session, actor):
    hf2 = stratum("HF-2")
    services.set_followup_template(session, actor, hf2, [
        item("physiotherapist", "Réadaptation", 7, 12), item("gp", "Consultation", 90, 4)],
        expected_version=1)
    session.expire_all()
    rows = session.scalars(select(FollowUpTemplateItem).where(
        FollowUpTemplateItem.stratum_id == hf2.id).order_by(FollowUpTemplateItem.position))
    assert [(r.position, r.provider_kind, r.label, r.interval_days, r.occurrences)
            for r in rows] == [(0, "physiotherapist", "Réadaptation", 7, 12),
                               (1, "gp", "Consultation", 90, 4)]
    assert hf2.version == 2  # the template is part of the stratum
    entry, = audit_entries(session, "stratum", hf2.id)
    assert entry.action == "update" and entry.patient_id is None
    assert entry.details["followup_template"][0]["provider_kind"] == "physiotherapist"


def test_an_empty_template_is_allowed(session, actor):
    hf1 = stratum("HF-1")
    services.set_followup_template(session, actor, hf1, [])
    assert hf1.followup_items == []


def test_an_unchanged_template_writes_nothing(session, actor):
    hf1 = stratum("HF-1")
    same = [item(i.provider_kind, i.label, i.interval_days, i.occurrences, i.label_en)
            for i in hf1.followup_items]
    services.set_followup_template(session, actor, hf1, same)
    assert hf1.version == 1 and audit_entries(session, "stratum", hf1.id) == []


@pytest.mark.parametrize("row,field,message", [
    (item(kind="plumber"), "provider_kind", "Choose a kind of provider."),
    (item(kind=None), "provider_kind", "Choose a kind of provider."),
    (item(label="  "), "label", "The label is required."),
    (item(label="x" * 201), "label", "At most 200 characters."),
    (item(interval=0), "interval_days",
     "The interval is a whole number of days from 1 to 365."),
    (item(interval=366), "interval_days",
     "The interval is a whole number of days from 1 to 365."),
    (item(interval=None), "interval_days",
     "The interval is a whole number of days from 1 to 365."),
    (item(count=0), "occurrences", "The number of occurrences is a whole number from 1 to 52."),
    (item(count=53), "occurrences", "The number of occurrences is a whole number from 1 to 52."),
])
def test_template_errors_name_the_row_and_the_field(session, actor, row, field, message):
    assert problems(services.set_followup_template, session, actor, stratum("HF-3"),
                    [item(), item(), row]) == {f"items-2-{field}": [message]}


def test_template_bounds_are_accepted(session, actor):
    hf3 = stratum("HF-3")
    services.set_followup_template(session, actor, hf3, [item(interval=1, count=1),
                                                        item(interval=365, count=52)])
    assert [(i.interval_days, i.occurrences) for i in hf3.followup_items] == [(1, 1), (365, 52)]


def test_template_replacement_is_all_or_nothing(session, actor):
    hf3 = stratum("HF-3")
    before = [(i.id, i.label) for i in hf3.followup_items]
    errors = problems(services.set_followup_template, session, actor, hf3,
                      [item(label="Nouvelle"), item(interval=0, count=99)])
    assert set(errors) == {"items-1-interval_days", "items-1-occurrences"}
    session.expire_all()
    assert [(i.id, i.label) for i in hf3.followup_items] == before
    assert hf3.version == 1 and audit_entries(session, "stratum", hf3.id) == []


def test_too_many_template_lines(session, actor):
    assert problems(services.set_followup_template, session, actor, stratum("HF-3"),
                    [item()] * 31) == {"items": ["At most 30 lines."]}


def test_stale_template_is_a_conflict(session, actor):
    hf3 = stratum("HF-3")
    services.set_followup_template(session, actor, hf3, [item()], expected_version=1)
    with pytest.raises(ConflictError):
        services.set_followup_template(session, actor, hf3, [item(), item()],
                                       expected_version=1)
    assert len(hf3.followup_items) == 1


# --- indicators ---

def flu(code="HF"):
    return next(i for i in program(code).indicators if i.code == "flu_vaccination_65")


def test_builtin_target_is_editable_and_audited(session, actor):
    indicator = flu()
    services.set_indicator_target(session, actor, indicator, "80,5")
    session.expire_all()
    assert flu().target_percent == Decimal("80.50") and flu("DIAB").target_percent == 75
    entry, = audit_entries(session, "program_indicator", indicator.id)
    assert entry.details == {"target_percent": ["75.00", "80.50"]} and entry.patient_id is None


@pytest.mark.parametrize("target", [-1, "100.01", "beaucoup", None, "NaN", True])
def test_target_is_a_percentage(session, actor, target):
    assert problems(services.set_indicator_target, session, actor, flu(), target) == {
        "target_percent": ["The target is a percentage from 0 to 100."]}


@pytest.mark.parametrize("target", [0, 100, Decimal("33.33")])
def test_target_bounds(session, actor, target):
    assert services.set_indicator_target(session, actor, flu(), target).target_percent == target


def test_builtin_indicator_cannot_be_deleted(session, actor):
    indicator = flu()
    assert problems(services.delete_indicator, session, actor, indicator) == {
        "indicator": ["A built-in indicator cannot be deleted; change its target instead."]}
    session.expire_all()
    assert flu() is not None


def test_add_and_delete_an_indicator(session, actor):
    hf = program("HF")
    added = services.add_indicator(session, actor, hf, "Readmission_30d",
                                   "Réhospitalisations à 30 jours", 15)
    assert (added.code, added.is_builtin, added.target_percent) == ("readmission_30d", False, 15)
    assert [i.code for i in hf.indicators] == ["flu_vaccination_65", "readmission_30d"]
    indicator_id = added.id
    services.delete_indicator(session, actor, added)
    assert [i.code for i in program("HF").indicators] == ["flu_vaccination_65"]
    assert [e.action for e in audit_entries(session, "program_indicator", indicator_id)] == [
        "create", "delete"]


@pytest.mark.parametrize("code,label,target,errors", [
    ("", "X", 10, {"code": ["The code is required."]}),
    ("30d", "X", 10, {"code": ["Use lower-case letters, digits and underscores, starting "
                               "with a letter (at most 64 characters)."]}),
    ("flu_vaccination_65", "X", 10, {"code": ["Code flu_vaccination_65 is already used."]}),
    ("ok", "", 10, {"label": ["The label is required."]}),
    ("ok", "X", 101, {"target_percent": ["The target is a percentage from 0 to 100."]}),
])
def test_indicator_rules(session, actor, code, label, target, errors):
    assert problems(services.add_indicator, session, actor, program("HF"), code, label,
                    target) == errors


def test_several_targets_at_once_are_all_or_nothing(session, actor):
    hf = program("HF")
    services.add_indicator(session, actor, hf, "hba1c", "HbA1c", 50)
    errors = problems(services.set_indicator_targets, session, actor, hf,
                      [("flu_vaccination_65", 90), ("hba1c", 150), ("nope", 1)])
    assert errors == {"indicators-1-target_percent": ["The target is a percentage from 0 to 100."],
                      "indicators-2-code": ["Unknown indicator nope."]}
    assert flu().target_percent == 75
    services.set_indicator_targets(session, actor, hf, [("flu_vaccination_65", 90),
                                                        ("hba1c", "60")])
    assert {i.code: i.target_percent for i in hf.indicators} == {
        "flu_vaccination_65": 90, "hba1c": 60}


def test_reference_load_keeps_edited_programs(session, actor):
    hf = program("HF")
    services.update_program(session, actor, hf, {"name": "IC"}, expected_version=1)
    services.set_indicator_target(session, actor, flu(), 60)
    loaded = services.load_reference_data(session)
    assert (loaded.programs, loaded.strata) == (0, 0)
    assert program("HF").name == "IC" and flu().target_percent == 60
    assert session.scalar(select(Program).where(Program.code == "HF")).version == 2

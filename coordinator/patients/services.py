"""Registry rules on patients: create, update, consent, read, search, duplicates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.auth.roles import Role
from coordinator.core import extending
from coordinator.core.bounds import date_problem
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, DuplicateSuspected, raise_problems
from coordinator.core.normalize import fold, prefix_upper_bound
from coordinator.core.time import local_today
from coordinator.patients.assignments import in_current_stratum
from coordinator.patients.models import (
    CONSENT_EXPRESSIONS,
    ConsentEvent,
    IdentityStatus,
    Patient,
)
from coordinator.patients.validation import (
    check_email,
    check_gp,
    check_identity,
    check_identity_status,
    check_language,
    check_nir,
    clean_nir,
)
from coordinator.permissions import can_view_patient, patient_scope
from coordinator.providers.models import Provider
from coordinator.strata.models import Territory

EDITABLE_FIELDS = (
    "external_id", "nir", "identity_status", "birth_name", "used_name", "first_names",
    "birth_date", "sex", "birth_place_insee", "phone", "email", "address", "postal_code", "city",
    "territory_id", "gp_id", "case_manager_id", "trusted_person_name", "trusted_person_relation",
    "trusted_person_phone", "advance_directives", "advance_directives_date", "deceased_date",
    "language",
)
OPTIONAL_TEXT = (
    "external_id", "used_name", "birth_place_insee", "phone", "email", "address", "postal_code",
    "city", "trusted_person_name", "trusted_person_relation", "trusted_person_phone",
)


def _clean(data: dict) -> dict:
    values = {key: data[key] for key in EDITABLE_FIELDS if key in data}
    for key in OPTIONAL_TEXT:
        if key in values:
            values[key] = (values[key] or "").strip() or None
    for key in ("birth_name", "first_names"):
        if key in values:
            values[key] = " ".join((values[key] or "").split())
    if "nir" in values:
        values["nir"] = clean_nir(values["nir"])
    if not values.get("language", True):  # none given: the model's default, or unchanged
        del values["language"]
    if values.get("birth_place_insee"):
        values["birth_place_insee"] = values["birth_place_insee"].upper()
    return values


def _check_links(session: Session, values: dict,
                 current_gp_id: int | None = None) -> list[tuple[str, object]]:
    problems: list[tuple[str, object]] = []
    territory_id = values.get("territory_id")
    if territory_id is None or session.get(Territory, territory_id) is None:
        problems.append(("territory_id", _l("Choose a known territory.")))
    if values.get("gp_id") is not None:
        gp = session.get(Provider, values["gp_id"])
        if gp is None:
            problems.append(("gp_id", _l("The GP must be a provider of kind GP.")))
        else:
            problems += check_gp(gp, territory_id, newly_chosen=values["gp_id"] != current_gp_id)
    if values.get("case_manager_id") is not None:
        manager = session.get(User, values["case_manager_id"])
        if manager is None or manager.role != Role.CASE_MANAGER or not manager.is_active:
            problems.append(("case_manager_id", _l("Choose an active case manager.")))
        elif manager.territory_id != territory_id:
            problems.append(("case_manager_id",
                             _l("The case manager works in another territory.")))
    return problems


def _check_scope(session: Session, actor: Actor | None, values: dict,
                 patient_id: int | None) -> list[tuple[str, object]]:
    """A case manager keeps patients in their own territory; an external id names one record."""
    problems: list[tuple[str, object]] = []
    if actor is not None and actor.role == Role.CASE_MANAGER and \
            values.get("territory_id") is not None:
        user = session.get(User, actor.user_id)
        if user is None or user.territory_id != values.get("territory_id"):
            problems.append(("territory_id",
                             _l("Case managers register patients of their own territory only.")))
    if values.get("external_id"):
        query = select(Patient.id).where(Patient.external_id == values["external_id"])
        if patient_id is not None:
            query = query.where(Patient.id != patient_id)
        if session.scalar(query.limit(1)) is not None:
            problems.append(("external_id",
                             _l("This external id is already used by another patient.")))
    return problems


def _validate(session: Session, values: dict, actor: Actor | None = None,
              patient: Patient | None = None, data: dict | None = None) -> None:
    """Every problem of a record at once: identity, links, scope and, when `data` changes the
    consent, the consent's date and manner."""
    problems = check_identity(
        birth_name=values.get("birth_name"), first_names=values.get("first_names"),
        birth_date=values.get("birth_date"), sex=values.get("sex"),
        birth_place_insee=values.get("birth_place_insee"),
        deceased_date=values.get("deceased_date"), today=local_today(),
    )
    problems += check_nir(values.get("nir"), values.get("sex"), values.get("birth_date"))
    problems += check_identity_status(values.get("identity_status"), values.get("nir"))
    problems += check_email(values.get("email"))
    problems += check_language(values.get("language"), current_app.config["LANGUAGES"])
    if values.get("advance_directives_date") and not values.get("advance_directives"):
        problems.append(("advance_directives_date",
                         _l("Give a date only when advance directives are on file.")))
    problems += _check_links(session, values, patient.gp_id if patient else None)
    problems += _check_scope(session, actor, values, patient.id if patient else None)
    if data is not None and _consent_changes(data, patient):
        problems += consent_problems(bool(data["consent_share"]), data.get("consent_date"),
                                     data.get("consent_expressed_as"), RECORD_CONSENT_FIELDS)
    raise_problems(problems)


RECORD_CONSENT_FIELDS = {"effective_date": "consent_date", "expressed_as": "consent_expressed_as"}


def _consent_changes(data: dict, patient: Patient | None) -> bool:
    """The record's form changes the consent (a new record: when it gives it)."""
    if patient is None:
        return bool(data.get("consent_share"))
    return "consent_share" in data and bool(data["consent_share"]) != patient.consent_share


def check_patient(session: Session, actor: Actor, patient: Patient | None, data: dict) -> None:
    """The problems `create_patient` (no `patient`) or `update_patient` would find in `data`,
    all in one ValidationError; nothing written (a form shows them beside its own errors)."""
    values = _clean(data)
    if patient is None:
        values.setdefault("identity_status", IdentityStatus.PROVISIONAL)
        _validate(session, values, actor, data=data)
        return
    merged = {key: getattr(patient, key) for key in EDITABLE_FIELDS} | values
    _validate(session, merged, actor, patient, data)


def _fold_names(patient: Patient) -> None:
    patient.birth_name_folded = fold(patient.birth_name)
    patient.used_name_folded = fold(patient.used_name) or None
    patient.first_name_folded = (fold(patient.first_names).split() or [""])[0]


def find_duplicates(session: Session, *, nir: str | None, birth_name: str, first_names: str,
                    birth_date: date | None, exclude_id: int | None = None) -> list[Patient]:
    """Likely duplicates: the same NIR, or the same folded birth name, first first-name and
    birth date."""
    first = (fold(first_names).split() or [""])[0]
    conditions = []
    if nir:
        conditions.append(Patient.nir == nir)
    if birth_date is not None and birth_name:
        conditions.append(and_(Patient.birth_name_folded == fold(birth_name),
                               Patient.birth_date == birth_date,
                               Patient.first_name_folded == first))
    if not conditions:
        return []
    query = select(Patient).where(or_(*conditions), Patient.merged_into_id.is_(None))
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    return list(session.scalars(query.order_by(Patient.id).limit(10)))


CONSENT_FIELDS = {"effective_date": "effective_date", "expressed_as": "expressed_as"}


def consent_problems(consent: bool, effective_date: date | None, expressed_as: str | None,
                     fields: dict[str, str] = CONSENT_FIELDS) -> list:
    """The problems of a consent given or withdrawn (see `record_consent`), keyed by `fields`."""
    problems: list = []
    effective_date = effective_date or local_today()
    if date_problem(effective_date):
        problems.append((fields["effective_date"], date_problem(effective_date)))
    elif effective_date > local_today():
        problems.append((fields["effective_date"],
                         _l("The date of the consent or of its withdrawal cannot be in the "
                            "future.")))
    expressed_as = expressed_as or None
    if expressed_as is not None and expressed_as not in CONSENT_EXPRESSIONS:
        problems.append((fields["expressed_as"],
                         _l("Choose how it was expressed: oral, written, by e-mail or a "
                            "message, through a representative, or other.")))
    elif expressed_as is None and not consent:
        problems.append((fields["expressed_as"],
                         _l("Say how the patient expressed the withdrawal (oral, written, by "
                            "e-mail or a message, through a representative, or other).")))
    return problems


def record_consent(session: Session, actor: Actor, patient: Patient, consent: bool,
                   effective_date: date | None = None, expressed_as: str | None = None, *,
                   fields: dict[str, str] = CONSENT_FIELDS) -> None:
    """Grant or withdraw the consent to share the plan; it takes effect at once and the
    change is kept in the consent history. Its date (default today) is not in the future; a
    withdrawal says how the patient expressed it (`CONSENT_EXPRESSIONS`: oral, written...).
    Raises ValidationError on `fields` (the caller's names of the date and of the manner)."""
    if patient.consent_share == consent and patient.consent_date is not None:
        return
    raise_problems(consent_problems(consent, effective_date, expressed_as, fields))
    effective_date = effective_date or local_today()
    expressed_as = expressed_as or None
    patient.consent_share = consent
    patient.consent_date = effective_date
    session.add(ConsentEvent(patient_id=patient.id, consent_share=consent,
                             effective_date=effective_date, actor_label=actor.label,
                             expressed_as=expressed_as))
    audit.record(session, actor, AuditAction.UPDATE, "patient", patient.id,
                 patient_id=patient.id,
                 summary="consent granted" if consent else "consent withdrawn",
                 details={"effective_date": effective_date.isoformat(),
                          "expressed_as": expressed_as})


@dataclass(frozen=True)
class Disclosed:
    """What a likely-duplicate answer shows its reader: the records they may open, and of the
    others only that one exists elsewhere (no id, no name, no territory)."""

    visible: list[Patient]
    elsewhere: bool


def disclose_duplicates(session: Session, actor: Actor, user: User,
                        candidates: list[Patient]) -> Disclosed:
    """The likely duplicates `user` may be shown (#15, finding 7). A match that the user may
    not open is said to exist, nothing more, and the attempt is audited on that record (who
    looked for whom shows in its access log). The caller commits."""
    visible = [candidate for candidate in candidates if can_view_patient(user, candidate)]
    for hidden in (candidate for candidate in candidates if candidate not in visible):
        audit.record(session, actor, AuditAction.READ, "patient", hidden.id,
                     patient_id=hidden.id,
                     summary="likely duplicate in another territory: its existence was told",
                     details={"disclosed": "existence only"})
    if visible:  # their identities are shown beside the refused form: a list of patients
        audit.record_shown(session, actor, "patient_duplicates",
                           [candidate.id for candidate in visible],
                           summary=f"{len(visible)} likely duplicate(s) shown")
    return Disclosed(visible, len(visible) < len(candidates))


def create_patient(session: Session, actor: Actor, data: dict, *,
                   confirm_duplicate: bool = False) -> Patient:
    """Register a patient; likely duplicates stop the creation unless the user confirmed."""
    values = _clean(data)
    values.setdefault("identity_status", IdentityStatus.PROVISIONAL)
    _validate(session, values, actor, data=data)
    if not confirm_duplicate:
        candidates = find_duplicates(session, nir=values.get("nir"),
                                     birth_name=values["birth_name"],
                                     first_names=values["first_names"],
                                     birth_date=values["birth_date"])
        if candidates:
            raise DuplicateSuspected(candidates)
    patient = Patient(**values)
    _fold_names(patient)
    session.add(patient)
    session.flush()
    if data.get("consent_share"):
        record_consent(session, actor, patient, True, data.get("consent_date"),
                       data.get("consent_expressed_as"),
                       fields={"effective_date": "consent_date",
                               "expressed_as": "consent_expressed_as"})
    audit.record(session, actor, AuditAction.CREATE, "patient", patient.id, patient_id=patient.id,
                 details={"duplicate_confirmed": True} if confirm_duplicate else None)
    return patient


def update_patient(session: Session, actor: Actor, patient: Patient, data: dict,
                   expected_version: int) -> Patient:
    """Change a patient's record; a stale `expected_version` is a conflict, nothing is saved."""
    if patient.version != expected_version:
        raise ConflictError(patient.version)
    values = _clean(data)
    merged = {key: getattr(patient, key) for key in EDITABLE_FIELDS} | values
    _validate(session, merged, actor, patient, data)
    changed = sorted(key for key, value in values.items() if getattr(patient, key) != value)
    for key in changed:
        setattr(patient, key, values[key])
    _fold_names(patient)
    if "consent_share" in data and bool(data["consent_share"]) != patient.consent_share:
        record_consent(session, actor, patient, bool(data["consent_share"]),
                       data.get("consent_date"), data.get("consent_expressed_as"),
                       fields={"effective_date": "consent_date",
                               "expressed_as": "consent_expressed_as"})
        changed.append("consent_share")
    if changed:
        session.flush()
        audit.record(session, actor, AuditAction.UPDATE, "patient", patient.id,
                     patient_id=patient.id, details={"fields": changed})
    return patient


def read_patient(session: Session, actor: Actor, patient: Patient) -> Patient:
    """Opening a patient's record is audited."""
    audit.record(session, actor, AuditAction.READ, "patient", patient.id, patient_id=patient.id)
    return patient


def consent_history(session: Session, patient: Patient) -> list[ConsentEvent]:
    return list(session.scalars(
        select(ConsentEvent).where(ConsentEvent.patient_id == patient.id)
        .order_by(ConsentEvent.recorded_at.desc(), ConsentEvent.id.desc())))


@dataclass(frozen=True)
class PatientSearch:
    name: str | None = None
    birth_date: date | None = None
    nir: str | None = None
    territory_id: int | None = None
    program_id: int | None = None
    stratum_id: int | None = None
    case_manager_id: int | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in self.__dict__.items() if v not in (None, "")}


def search_query(user: User, criteria: PatientSearch) -> Select:
    """Patients the user may see that match the criteria, by name, with the territory and case
    manager the lists show (joined: no query per row).

    Names match as accent- and case-insensitive prefixes of the birth or used name (an index
    range on the folded names); further words must start one of the first names.
    """
    query = (select(Patient).where(patient_scope(user))
             .options(joinedload(Patient.territory), joinedload(Patient.case_manager)))
    words = fold(criteria.name).split() if criteria.name else []
    if words:
        low = words[0]
        high = prefix_upper_bound(low)
        query = query.where(or_(
            and_(Patient.birth_name_folded >= low, Patient.birth_name_folded < high),
            and_(Patient.used_name_folded >= low, Patient.used_name_folded < high),
        ))
        for word in words[1:]:
            query = query.where(Patient.first_name_folded.startswith(word))
    if criteria.birth_date:
        query = query.where(Patient.birth_date == criteria.birth_date)
    if criteria.nir:
        query = query.where(Patient.nir == clean_nir(criteria.nir))
    if criteria.territory_id:
        query = query.where(Patient.territory_id == criteria.territory_id)
    if criteria.case_manager_id:
        query = query.where(Patient.case_manager_id == criteria.case_manager_id)
    if criteria.program_id or criteria.stratum_id:
        query = query.where(in_current_stratum(criteria.program_id, criteria.stratum_id))
    return query.order_by(Patient.birth_name_folded, Patient.first_name_folded, Patient.id)


def audit_search(session: Session, actor: Actor, criteria: PatientSearch, total: int,
                 shown: Iterable[Patient]) -> None:
    """A search shows patient identities: one entry per patient shown (the page), each with the
    criteria and the result count."""
    audit.record_shown(session, actor, "patient_search", [patient.id for patient in shown],
                       summary=f"{total} result(s)", details={"criteria": criteria.as_dict()})


# -- What higher layers add to the record page (extension points, wired in coordinator/web.py) --

RECORD_PAGE = "patient.record_page"  # providers: f(session, patient) -> template context
# Sections a higher domain adds to the record, after the care plans, in the order provided:
# providers f(session, patient) -> {"template": "<domain>/<file>.html", ...its context} or None
# (hospital stays and clinical events). The section's template reads `section`.
RECORD_SECTIONS = "patient.record_sections"


def record_sections(session: Session, patient: Patient) -> list[dict]:
    return [section for function in extending.providers(RECORD_SECTIONS)
            if (section := function(session=session, patient=patient))]

"""The provider directory's rules: create, update, deactivate, search."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, literal, or_, select
from sqlalchemy.orm import Session, joinedload

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.core.context import Actor
from coordinator.core.errors import ConflictError, raise_problems
from coordinator.core.normalize import fold, prefix_upper_bound, sql_fold
from coordinator.core.references import is_row_referenced
from coordinator.providers.models import Provider
from coordinator.providers.validation import check_provider
from coordinator.strata.models import Territory
from coordinator.strata.vocabulary import PROVIDER_KIND_LABELS, PROVIDER_KINDS

FIELDS = ("external_id", "kind", "name", "rpps", "finess", "organisation", "territory_id",
          "phone", "email", "address", "postal_code", "city")


def _clean(data: dict) -> dict:
    values = {key: data[key] for key in FIELDS if key in data}
    for key, value in list(values.items()):
        if isinstance(value, str):
            values[key] = value.strip() or None
    if values.get("finess"):
        values["finess"] = values["finess"].upper()
    return values


def _check_scope(session: Session, actor: Actor | None, values: dict,
                 provider: Provider | None) -> list[tuple[str, object]]:
    """Case managers keep the directory of their own territory; an external id names one
    provider."""
    problems: list[tuple[str, object]] = []
    if actor is not None and values.get("territory_id") is not None:
        territories = {values["territory_id"]} | ({provider.territory_id} if provider else set())
        if not permissions.may_manage_providers_of(actor, territories):
            problems.append(("territory_id", _l("Case managers manage the providers of their "
                                                "own territory only.")))
    if values.get("external_id"):
        query = select(Provider.id).where(Provider.external_id == values["external_id"])
        if provider is not None:
            query = query.where(Provider.id != provider.id)
        if session.scalar(query.limit(1)) is not None:
            problems.append(("external_id",
                             _l("This external id is already used by another provider.")))
    return problems


def _validate(session: Session, values: dict, actor: Actor | None = None,
              provider: Provider | None = None) -> None:
    problems = check_provider(kind=values.get("kind"), name=values.get("name"),
                              rpps=values.get("rpps"), finess=values.get("finess"))
    territory_id = values.get("territory_id")
    if territory_id is None or session.get(Territory, territory_id) is None:
        problems.append(("territory_id", _l("Choose a known territory.")))
    problems += _check_scope(session, actor, values, provider)
    raise_problems(problems)


def create_provider(session: Session, actor: Actor, data: dict) -> Provider:
    values = _clean(data)
    _validate(session, values, actor)
    provider = Provider(**values, name_folded=fold(values["name"]))
    session.add(provider)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "provider", provider.id,
                 summary=provider.name)
    return provider


def update_provider(session: Session, actor: Actor, provider: Provider, data: dict,
                    expected_version: int) -> Provider:
    if provider.version != expected_version:
        raise ConflictError(provider.version)
    values = _clean(data)
    _validate(session, {key: getattr(provider, key) for key in FIELDS} | values, actor, provider)
    changed = sorted(key for key, value in values.items() if getattr(provider, key) != value)
    for key in changed:
        setattr(provider, key, values[key])
    provider.name_folded = fold(provider.name)
    if changed:
        session.flush()
        audit.record(session, actor, AuditAction.UPDATE, "provider", provider.id,
                     summary=provider.name, details={"fields": changed})
    return provider


def set_active(session: Session, actor: Actor, provider: Provider, active: bool) -> None:
    """Providers are deactivated, never deleted: plans and appointments keep referring to them."""
    if provider.is_active == active:
        return
    provider.is_active = active
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "provider", provider.id,
                 summary="activated" if active else "deactivated")


@dataclass(frozen=True)
class ProviderSearch:
    text: str | None = None
    kind: str | None = None
    territory_id: int | None = None
    active_only: bool = True


def search_query(criteria: ProviderSearch) -> Select:
    """'Which dietitians in DOUAISIS': by kind, territory, and name or organisation prefix."""
    query = select(Provider)
    if criteria.kind:
        query = query.where(Provider.kind == criteria.kind)
    if criteria.territory_id:
        query = query.where(Provider.territory_id == criteria.territory_id)
    if criteria.active_only:
        query = query.where(Provider.is_active.is_(True))
    text = criteria.text or ""
    words = fold(text).split()
    if words:
        low = " ".join(words)
        query = query.where(or_(
            and_(Provider.name_folded >= low, Provider.name_folded < prefix_upper_bound(low)),
            Provider.name_folded.contains(f" {low}"),
            Provider.organisation.ilike(f"%{text.strip()}%"),
        ))
    return query.order_by(Provider.territory_id, Provider.kind, Provider.name_folded)


def is_referenced(session: Session, provider: Provider) -> bool:
    """Whether any record (a patient, a care plan, an appointment, an account...) points to
    this provider."""
    return is_row_referenced(session, Provider.__table__, provider.id)


def delete_provider(session: Session, actor: Actor, provider: Provider) -> None:
    """Remove a provider entered by mistake; one that is referenced can only be deactivated."""
    if is_referenced(session, provider):
        raise_problems([("provider", _l("This provider is referenced by patient records: "
                                        "deactivate it instead."))])
    audit.record(session, actor, AuditAction.DELETE, "provider", provider.id,
                 summary=provider.name)
    session.delete(provider)
    session.flush()


def active_gps(session: Session, territory_id: int | None) -> list[Provider]:
    """The GPs a patient of this territory can be attached to."""
    query = select(Provider).where(Provider.kind == "gp", Provider.is_active.is_(True))
    if territory_id is not None:
        query = query.where(Provider.territory_id == territory_id)
    return list(session.scalars(query.order_by(Provider.name_folded)))


def active_providers(session: Session, territory_id: int | None,
                     include: set[int] | frozenset = frozenset()) -> list[Provider]:
    """The active providers of a territory (all territories when None), by kind then name,
    plus the providers `include` names (already chosen ones, even if inactive since)."""
    condition: ColumnElement[bool] = Provider.is_active.is_(True)
    if territory_id is not None:
        condition = condition & (Provider.territory_id == territory_id)
    if include:
        condition = condition | Provider.id.in_(include)
    return list(session.scalars(select(Provider).where(condition)
                                .order_by(Provider.kind, Provider.name_folded)))


# -- Choosing a provider by search (the provider boxes of the forms) ---------------------------

PICK_LIMIT = 20
PICK_TEXT_MAX = 200


def _kinds_named(word: str) -> set[str]:
    """The kinds whose label in the reader's language or code has a word starting with `word`
    ('infirm' names the nurses in French, 'nurse' in English, 'gp' the GPs in both)."""
    return {kind for kind in PROVIDER_KINDS
            if any(part.startswith(word)
                   for part in f"{fold(str(PROVIDER_KIND_LABELS[kind]))} {fold(kind)}".split())}


def pick_query(text: str | None, kind: str | None = None,
               territory_id: int | None = None, limit: int = PICK_LIMIT) -> Select:
    """The active providers a provider box proposes for what was typed: every word starts a
    word of the name, the organisation, the town or the kind, in any case and with or without
    accents ('saint am infirm' finds the nurses of Saint-Amand-les-Eaux); of one kind and one
    territory when given (those the form's select offers), by name, at most `limit`."""
    query = select(Provider).options(joinedload(Provider.territory)) \
        .where(Provider.is_active.is_(True))
    if kind:
        query = query.where(Provider.kind == kind)
    if territory_id is not None:
        query = query.where(Provider.territory_id == territory_id)
    name = literal(" ").concat(Provider.name_folded)
    organisation = literal(" ").concat(sql_fold(Provider.organisation))
    city = literal(" ").concat(sql_fold(Provider.city))
    for word in fold((text or "")[:PICK_TEXT_MAX]).split()[:8]:
        pattern = f"% {word}%"
        matches = [name.like(pattern), organisation.like(pattern), city.like(pattern)]
        kinds = _kinds_named(word)
        if kinds:
            matches.append(Provider.kind.in_(kinds))
        query = query.where(or_(*matches))
    return query.order_by(Provider.name_folded, Provider.id).limit(max(1, min(limit, PICK_LIMIT)))


def pick(session: Session, text: str | None, kind: str | None = None,
         territory_id: int | None = None) -> list[Provider]:
    return list(session.scalars(pick_query(text, kind, territory_id)))

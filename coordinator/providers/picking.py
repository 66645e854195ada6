"""The provider boxes of the forms. The server renders a real <select>, the providers grouped
by kind and labelled "Name — kind — town", so a form works without scripts; with them,
static/provider-picker.js turns every select carrying `data-provider-search` into a search box
(the vendored Tom Select) asking `GET /providers/search` (views.search) for what is typed. The
service that saves the form still checks the chosen provider (`permissions.provider_serves`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from flask import url_for
from flask_babel import gettext as _
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from coordinator.providers.models import Provider
from coordinator.strata.vocabulary import PROVIDER_KIND_LABELS, PROVIDER_KINDS

SEARCH_ATTRIBUTE = "data-provider-search"


def label(provider: Provider, with_territory: bool = False) -> str:
    """"Name — kind — town", "(inactive)" for a provider chosen before its deactivation, the
    territory's code where the list spans territories."""
    parts = [provider.name, str(PROVIDER_KIND_LABELS[provider.kind])]
    if provider.city:
        parts.append(provider.city)
    text = " — ".join(parts)
    if with_territory:
        text += f" ({provider.territory.code})"
    if not provider.is_active:
        text += " " + _("(inactive)")
    return text


def group(provider: Provider) -> str:
    return str(PROVIDER_KIND_LABELS[provider.kind])


def choices(providers: Iterable[Provider], first: Collection[int] = (),
            first_group: str | None = None, blank: str | None = "—",
            with_territory: bool = False) -> list[SelectChoice]:
    """The choices of a provider select: the blank one, then the providers `first` names (in
    its order, under `first_group`: the plan's care team when booking), then one group per kind
    in the directory's order, by name within it."""
    providers = list(providers)
    order = {kind: index for index, kind in enumerate(PROVIDER_KINDS)}
    ahead = [p for p in providers if p.id in first]
    ahead.sort(key=lambda p: list(first).index(p.id))
    rest = sorted((p for p in providers if p.id not in first),
                  key=lambda p: (order.get(p.kind, len(order)), p.name_folded, p.id))
    result = [SelectChoice("", blank)] if blank is not None else []
    result += [SelectChoice(p.id, label(p, with_territory), optgroup=first_group or group(p))
               for p in ahead]
    result += [SelectChoice(p.id, label(p, with_territory), optgroup=group(p)) for p in rest]
    return result


def searchable(field: Field, territory_id: int | None, kind: str | None = None) -> None:
    """Let the browser search the providers `field` offers: those of `territory_id` (every
    territory when None), of one kind when given."""
    field.render_kw = {**(field.render_kw or {}), **search_attributes(territory_id, kind)}


def search_attributes(territory_id: int | None, kind: str | None = None) -> dict[str, str]:
    """The attributes of a searchable select: where to search, the box's texts."""
    return {SEARCH_ATTRIBUTE: url_for("providers.search", territory=territory_id, kind=kind),
            "data-provider-placeholder": _("Type a name, a kind or a town"),
            "data-provider-none": _("No provider matches."),
            "data-provider-loading": _("Searching…"),
            "data-provider-clear": _("Remove the chosen provider")}

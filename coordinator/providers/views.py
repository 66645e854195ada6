"""Provider directory pages: search the territory's resources, create, edit, deactivate."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordinator.core.bounds import MAX_ID
from coordinator.core.pagination import paginate
from coordinator.core.unitofwork import conflict_page, unit_of_work
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.permissions import (
    AUTHENTICATED,
    PATIENT_STAFF,
    PROVIDER_PICKER,
    can_edit_provider,
    may_manage_providers_of,
    require,
)
from coordinator.providers import picking, services
from coordinator.providers.forms import KIND_LABELS, ProviderForm, ProviderSearchForm
from coordinator.providers.models import Provider
from coordinator.strata import services as strata_services
from coordinator.strata.vocabulary import PROVIDER_KINDS

bp = Blueprint("providers", __name__, url_prefix="/providers")


def can_edit(provider: Provider | None = None) -> bool:
    return can_edit_provider(current_user, provider)


def _editable(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id) or abort(404)
    if not can_edit(provider):
        abort(403)
    return provider


def _territory_choices(form) -> None:
    form.territory_id.choices = [
        (t.id, t.name) for t in strata_services.list_territories(db.session)
        if may_manage_providers_of(current_user, {t.id})]


@bp.get("/")
@require(AUTHENTICATED)
def index():
    form = ProviderSearchForm(request.args)
    form.territory_id.choices = [("", "—")] + [
        (t.id, t.name) for t in strata_services.list_territories(db.session)]
    if not request.args and current_user.territory_id:
        form.territory_id.data = current_user.territory_id
    form.validate()
    criteria = services.ProviderSearch(text=form.text.data, kind=form.kind.data or None,
                                       territory_id=form.territory_id.data,
                                       active_only=not form.inactive.data)
    page = paginate(db.session, services.search_query(criteria))
    return render_template("providers/index.html", form=form, page=page, kinds=KIND_LABELS,
                           can_edit=can_edit())


@bp.get("/search")
@require(PROVIDER_PICKER)
def search():
    """The providers a provider box proposes for what was typed (`q`), of a territory and a
    kind when given: `{"results": [{"id", "label", "group"}]}`, at most 20, by name. Directory
    data only (no patient's), like the directory's own pages: not audited."""
    kind = request.args.get("kind") or None
    territory = request.args.get("territory") or None
    errors = {}
    if kind is not None and kind not in PROVIDER_KINDS:
        errors["kind"] = [_("Unknown kind of provider.")]
    if territory is not None and not (territory.isdigit() and 1 <= int(territory) <= MAX_ID):
        errors["territory"] = [_("Give a territory by its number.")]
    if errors:
        return jsonify(errors=errors), 400
    territory_id = int(territory) if territory is not None else None
    found = services.pick(db.session, request.args.get("q", ""), kind, territory_id)
    return jsonify(results=[{"id": p.id, "label": picking.label(p, territory_id is None),
                             "group": picking.group(p)} for p in found])


@bp.get("/<int:provider_id>")
@require(AUTHENTICATED)
def show(provider_id: int):
    provider = db.session.get(Provider, provider_id) or abort(404)
    return render_template("providers/show.html", provider=provider, kinds=KIND_LABELS,
                           can_edit=can_edit(provider),
                           referenced=services.is_referenced(db.session, provider))


@bp.route("/new", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def create():
    form = ProviderForm()
    _territory_choices(form)
    if request.method == "GET" and current_user.territory_id:
        form.territory_id.data = current_user.territory_id
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            provider = services.create_provider(db.session, current_actor(), form.service_data())
        if work.ok:
            flash(_("%(name)s added to the directory.", name=provider.name), "success")
            return redirect(url_for("providers.show", provider_id=provider.id))
    status = 400 if request.method == "POST" else 200
    return render_template("providers/form.html", form=form, provider=None), status


@bp.route("/<int:provider_id>/edit", methods=["GET", "POST"])
@require(PATIENT_STAFF)
def edit(provider_id: int):
    provider = _editable(provider_id)
    form = ProviderForm(obj=provider if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = provider.version
    _territory_choices(form)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            services.update_provider(db.session, current_actor(), provider, form.service_data(),
                                     expected_version=int(form.version.data or 0))
        if work.conflict:
            return conflict_page(
                "providers/form.html", form, provider, provider=provider,
                message=_("Someone saved this provider while you were editing it: your changes "
                          "are below, the current values are on the provider's page."))
        if work.ok:
            flash(_("Provider saved."), "success")
            return redirect(url_for("providers.show", provider_id=provider.id))
    status = 400 if request.method == "POST" else 200
    return render_template("providers/form.html", form=form, provider=provider), status


@bp.post("/<int:provider_id>/active")
@require(PATIENT_STAFF)
def toggle_active(provider_id: int):
    provider = _editable(provider_id)  # the CSRF token is checked for every POST (core/hooks)
    services.set_active(db.session, current_actor(), provider, not provider.is_active)
    db.session.commit()
    flash(_("Provider reactivated.") if provider.is_active else _("Provider deactivated."),
          "success")
    return redirect(url_for("providers.show", provider_id=provider.id))


@bp.post("/<int:provider_id>/delete")
@require(PATIENT_STAFF)
def delete(provider_id: int):
    provider = _editable(provider_id)
    with unit_of_work() as work:
        services.delete_provider(db.session, current_actor(), provider)
    if not work.ok:
        return redirect(url_for("providers.show", provider_id=provider_id))
    flash(_("Provider deleted."), "success")
    return redirect(url_for("providers.index"))

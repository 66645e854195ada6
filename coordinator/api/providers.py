"""/api/v1/providers: the directory, read by every signed-in user."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from coordinator.api.common import (
    ETAG_HEADER,
    ApiBlueprint,
    ErrorsSchema,
    PageArgsSchema,
    by_code,
    conditional,
    expected_version,
    id_for_code,
    list_page,
    not_found,
    page_schema,
    service_errors,
    tagged,
)
from coordinator.core.viewhelpers import current_actor
from coordinator.extensions import db
from coordinator.permissions import (
    AUTHENTICATED,
    PATIENT_STAFF,
    can_edit_provider,
    require,
)
from coordinator.providers import services
from coordinator.providers.models import PROVIDER_KINDS, Provider
from coordinator.providers.schemas import (
    ProviderCreateSchema,
    ProviderSchema,
    ProviderUpdateSchema,
)
from coordinator.strata.models import Territory

blp = ApiBlueprint(
    "api_providers", __name__, url_prefix="/api/v1/providers",
    description="The provider directory. Every signed-in user reads it; administrators and "
                "case managers (in their territory) register and change providers. Providers "
                "are deactivated (is_active: false), never deleted through the API.")

RENAMES = {"territory_id": "territory_code"}

ProviderPageSchema = page_schema(ProviderSchema, "ProviderPage")


class ProviderListArgsSchema(PageArgsSchema):
    q = ma.fields.String(metadata={"description": "Start of the name, or part of the "
                                                  "organisation."})
    kind = ma.fields.String(validate=ma.validate.OneOf(
        PROVIDER_KINDS, error=_l("Unknown kind; use one of: {choices}.")),
        metadata={"enum": list(PROVIDER_KINDS)})
    territory = ma.fields.String(metadata={"description": "Territory code."})
    active = ma.fields.Boolean(metadata={"description": "true: active providers only; false: "
                                                        "deactivated ones only; absent: all."})


def _provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        not_found()
    return provider


def _editable(provider_id: int) -> Provider:
    """The provider, if the caller may change it (the directory pages' rule); 403 otherwise."""
    provider = _provider(provider_id)
    if not can_edit_provider(current_user, provider):
        abort(403)
    return provider


def _service_data(data: dict) -> dict:
    """The API's fields as the service's (the territory by code becomes its id)."""
    values = dict(data)
    values.pop("is_active", None)
    if "territory_code" in values:
        values["territory_id"] = id_for_code(Territory, values.pop("territory_code"))
    return values


@blp.route("")
class Providers(MethodView):

    @require(AUTHENTICATED)
    @blp.arguments(ProviderListArgsSchema, location="query")
    @blp.response(200, ProviderPageSchema)
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid filter or page.")
    def get(self, args):
        """Search the directory

        By kind, territory, name or organisation, and active state.
        """
        territory = by_code(Territory, args.get("territory"), "territory",
                            _l("Unknown territory code."))
        active = args.get("active")
        query = services.search_query(services.ProviderSearch(
            text=args.get("q"), kind=args.get("kind"),
            territory_id=territory.id if territory is not None else None,
            active_only=active is True))
        if active is False:
            query = query.where(Provider.is_active.is_(False))
        return list_page(query, args)

    @require(PATIENT_STAFF)
    @blp.arguments(ProviderCreateSchema)
    @blp.response(201, ProviderSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def post(self, data):
        """Register a provider

        Case managers register providers of their own territory.
        """
        actor = current_actor()
        with service_errors(renames=RENAMES):
            provider = services.create_provider(db.session, actor, _service_data(data))
            if data.get("is_active") is False:
                services.set_active(db.session, actor, provider, False)
            db.session.commit()
        return tagged(provider, 201,
                      {"Location": url_for(".ProviderItem", provider_id=provider.id)})


@blp.route("/<int:provider_id>")
class ProviderItem(MethodView):

    @require(AUTHENTICATED)
    @blp.response(200, ProviderSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description="No such provider.")
    def get(self, provider_id):
        """Read a provider"""
        return tagged(_provider(provider_id))

    @require(PATIENT_STAFF)
    @conditional(blp)
    @blp.arguments(ProviderUpdateSchema)
    @blp.response(200, ProviderSchema, headers={"ETag": ETAG_HEADER})
    @blp.alt_response(404, schema=ErrorsSchema, description="No such provider.")
    @blp.alt_response(422, schema=ErrorsSchema, description="Invalid data: nothing was written.")
    def patch(self, data, provider_id):
        """Change a provider

        Only the fields sent change; is_active false deactivates it. Send the ETag read in
        If-Match.
        """
        provider = _editable(provider_id)
        actor = current_actor()
        with service_errors(provider, RENAMES):
            services.update_provider(db.session, actor, provider, _service_data(data),
                                     expected_version(provider))
            if "is_active" in data:
                services.set_active(db.session, actor, provider, data["is_active"])
            db.session.commit()
        return tagged(provider)

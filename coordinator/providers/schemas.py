"""JSON views of the provider directory.

The directory is read by every signed-in user, so there is one reading schema. The write schemas
only parse and shape the input; the rules are checked by `coordinator.providers.services`.
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from coordinator.core import fields
from coordinator.providers.models import PROVIDER_KINDS

TOO_LONG = _l("At most {max} characters.")


def _text(max_length: int, *, allow_none: bool = True, **kwargs) -> ma.fields.String:
    return ma.fields.String(allow_none=allow_none,
                            validate=ma.validate.Length(max=max_length, error=TOO_LONG), **kwargs)


class ProviderSchema(ma.Schema):
    """A provider of the directory (a GP, a nurse, a home-care service...)."""

    id = ma.fields.Integer()
    external_id = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"enum": list(PROVIDER_KINDS)})
    name = ma.fields.String()
    rpps = ma.fields.String(allow_none=True)
    finess = ma.fields.String(allow_none=True)
    organisation = ma.fields.String(allow_none=True)
    territory_code = ma.fields.String(attribute="territory.code")
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    postal_code = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "Incremented by every change."})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class ProviderUpdateSchema(ma.Schema):
    """A change to a provider: only the fields sent are changed (null clears one)."""

    external_id = _text(64)
    kind = ma.fields.String(metadata={"enum": list(PROVIDER_KINDS)})
    name = _text(200, allow_none=False)
    rpps = ma.fields.String(allow_none=True, metadata={"description": "RPPS number, 11 digits."})
    finess = ma.fields.String(allow_none=True,
                              metadata={"description": "FINESS number, 9 characters."})
    organisation = _text(200)
    territory_code = ma.fields.String(metadata={"description": "Territory code, e.g. DOUAISIS."})
    phone = _text(40)
    email = _text(254)
    address = _text(300)
    postal_code = _text(10)
    city = _text(100)
    is_active = fields.Boolean(
        metadata={"description": "false deactivates the provider (providers are never "
                                 "deleted through the API)."})


class ProviderCreateSchema(ProviderUpdateSchema):
    """A new provider of the directory."""

    kind = ma.fields.String(required=True, metadata={"enum": list(PROVIDER_KINDS)})
    name = _text(200, allow_none=False, required=True)
    territory_code = ma.fields.String(required=True,
                                      metadata={"description": "Territory code, e.g. DOUAISIS."})

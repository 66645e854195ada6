"""JSON views of a user account."""

from __future__ import annotations

import marshmallow as ma


class TerritoryRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class CurrentUserSchema(ma.Schema):
    """What a user may read of their own account."""

    id = ma.fields.Integer()
    email = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    locale = ma.fields.String(allow_none=True)
    territory = ma.fields.Nested(TerritoryRefSchema, allow_none=True)

"""Flask extensions, created once here and bound to an application in `create_app`."""

from __future__ import annotations

import re

import marshmallow as ma
from apispec import BasePlugin
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names: Alembic can then drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class ApiErrorSchema(ma.Schema):
    """An error: the messages of each field at fault (`_request` when no field is)."""

    errors = ma.fields.Dict(keys=ma.fields.String(),
                            values=ma.fields.List(ma.fields.String()), required=True)


def nullable_enum(converter, field: ma.fields.Field, ret: dict, **kwargs) -> dict:
    """A field that takes null and lists its values (`metadata={"enum": [...]}`) lists null
    among them: in OpenAPI 3.0 `nullable` does not widen an `enum`, so the description would
    refuse the null the field accepts (and sends). apispec adds it only for `OneOf` choices.
    (An apispec attribute function: bound to the field converter, run after its own.)"""
    enum = ret.get("enum")
    if field.allow_none and enum is not None and None not in enum:
        return {"enum": [*enum, None]}
    return {}


class UpdateLinksPlugin(BasePlugin):
    """OpenAPI links from the answers that carry a record's ETag (the POST creating it at
    `/things`, its GET and PATCH at `/things/{id}`) to every PATCH of that record that wants
    If-Match (`/things/{id}`, `/things/{id}/status`), giving the id and the ETag read: what a
    client does to change a record, written where tools read it (schemathesis' stateful tests
    follow the links)."""

    def __init__(self) -> None:
        self.targets: dict[str, dict[str, dict]] = {}  # collection -> link name -> link
        self.sources: dict[str, list[dict]] = {}  # collection -> answers carrying an ETag

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        path, operations = path or "", operations or {}
        names = re.findall(r"{(\w+)}", path)
        if len(names) > 1:
            return
        if names:
            record = path[:path.index("}") + 1]
            collection = record.rsplit("/", 1)[0]
            answers = [("get", "200"), ("patch", "200")] if path == record else []
        else:
            collection, answers = path, [("post", "201")]
        patch = operations.get("patch")
        if names and patch is not None and any(isinstance(parameter, dict)
                                               and parameter.get("name") == "If-Match"
                                               for parameter in patch.get("parameters", ())):
            pointer = path.replace("~", "~0").replace("/", "~1")
            name = "update" if path == record else path.rsplit("/", 1)[-1]
            link = {"operationRef": f"#/paths/{pointer}/patch",
                    "parameters": {f"path.{names[0]}": "$response.body#/id",
                                   "header.If-Match": "$response.header.ETag"},
                    "description": "Change the record, from the version this answer holds."}
            self.targets.setdefault(collection, {})[name] = link
            for response in self.sources.get(collection, ()):
                response.setdefault("links", {})[name] = link
        for method, status in answers:
            for code, response in (operations.get(method) or {}).get("responses", {}).items():
                if str(code) == status and "ETag" in (response.get("headers") or {}):
                    # Kept: a PATCH documented later (another view) is linked from it too.
                    self.sources.setdefault(collection, []).append(response)
                    response.setdefault("links", {}).update(self.targets.get(collection, {}))
                    if not response["links"]:
                        del response["links"]


class CoordinatorApi(Api):
    """flask-smorest, documenting our one error shape; errors are answered by
    coordinator/core/errorpages.py for pages and API alike."""

    ERROR_SCHEMA = ApiErrorSchema

    def _init_spec(self, **kwargs):
        kwargs["extra_plugins"] = [*(kwargs.get("extra_plugins") or ()), UpdateLinksPlugin()]
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(nullable_enum)

    def _register_error_handlers(self):
        pass


api = CoordinatorApi()

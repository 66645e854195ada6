"""Flask extensions, created once here and bound to an application in `create_app`."""

from __future__ import annotations

import marshmallow as ma
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


class CoordinatorApi(Api):
    """flask-smorest, documenting our one error shape; errors are answered by
    coordinator/core/errorpages.py for pages and API alike."""

    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self):
        pass


api = CoordinatorApi()

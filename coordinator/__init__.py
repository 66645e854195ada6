"""Coordinator: case-management coordination platform with a patient registry."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

import config as config_module
from config import Config, ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


def _load_config(app: Flask, config: type[Config] | str | Mapping | None) -> None:
    if config is None or isinstance(config, str):
        config_class = config_module.select_config(config)
        overrides: Mapping = {}
    elif isinstance(config, Mapping):
        config_class = config_module.select_config(config.get("ENV_NAME"))
        overrides = config
    else:
        config_class, overrides = config, {}
    app.config.from_object(config_class)
    app.config.update(config_module.env_overrides())
    if config_class.ENV_NAME == "test" and os.environ.get("TEST_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["TEST_DATABASE_URL"]
    app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        if config_class.ENV_NAME == "production":
            pass  # refused below with the other missing settings
        else:
            Path(app.instance_path).mkdir(parents=True, exist_ok=True)
            db_path = Path(app.instance_path) / "coordinator.sqlite3"
            app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    missing = [
        name for name in getattr(config_class, "REQUIRED", ())
        if not app.config.get(name)
    ]
    if missing:
        env_names = {"SECRET_KEY": "SECRET_KEY", "SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
        raise ConfigurationError(
            "Production refuses to start without an explicit "
            + " and ".join(env_names[m] for m in missing)
            + ": set these environment variables (see README, 'Production')."
        )
    if not app.config.get("SECRET_KEY"):
        raise ConfigurationError("SECRET_KEY is not set.")


def create_app(config: type[Config] | str | Mapping | None = None) -> Flask:
    """Build the application. `config`: a Config class, its name, or a mapping of settings."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=os.environ.get("COORDINATOR_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    _load_config(app, config)
    from coordinator.core import logmask

    logmask.install()

    from coordinator import models, web  # noqa: F401 - models register their tables
    from coordinator.extensions import (
        api,
        babel,
        bootstrap,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )

    db.init_app(app)
    with app.app_context():
        web.configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True,
                     render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from coordinator.core.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)

    api.init_app(app)
    web.init_app(app)
    return app

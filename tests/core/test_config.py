import pytest
from sqlalchemy import text

import config
from coordinator import create_app
from coordinator.extensions import db


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(config.ConfigurationError) as error:
        create_app(config.ProductionConfig)
    assert "SECRET_KEY" in str(error.value)
    assert "DATABASE_URL" in str(error.value)


def test_production_starts_with_explicit_settings_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = create_app(config.ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_overrides_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("COORDINATOR_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("COORDINATOR_LANGUAGES", '["fr"]')
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app(config.DevelopmentConfig)
    assert app.config["SESSION_IDLE_MINUTES"] == 15
    assert app.config["LANGUAGES"] == ["fr"]
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")


def test_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("COORDINATOR_INSTANCE_PATH", str(tmp_path))
    app = create_app(config.DevelopmentConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'coordinator.sqlite3'}"


def test_unknown_configuration_name_is_refused():
    with pytest.raises(config.ConfigurationError, match="Unknown configuration"):
        create_app("staging")


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path):
    app = create_app({"ENV_NAME": "test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.engine.dispose()

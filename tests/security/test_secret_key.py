"""Issue #15, finding 1: no secret key in the code; each instance generates its own."""

import os
import stat
from pathlib import Path

import config
from coordinator import create_app


def test_no_configuration_outside_tests_carries_a_key():
    for name, config_class in config.CONFIGS.items():
        if name != "test":
            assert config_class.SECRET_KEY is None, name
    source = Path(config.__file__).read_text()
    assert "dev-only-secret-key" not in source


def test_a_development_instance_generates_its_own_private_key_once(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("COORDINATOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    first = create_app(config.DevelopmentConfig)
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = first.config["SECRET_KEY"]
    assert len(key) >= 43 and key == key_file.read_text().strip()
    assert create_app(config.DevelopmentConfig).config["SECRET_KEY"] == key  # kept

    other = tmp_path / "other"
    monkeypatch.setenv("COORDINATOR_INSTANCE_PATH", str(other))
    assert create_app(config.DevelopmentConfig).config["SECRET_KEY"] != key  # per instance


def test_an_explicit_key_wins_and_writes_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("COORDINATOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert create_app(config.DevelopmentConfig).config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "secret_key").exists()


def test_a_key_file_readable_by_others_is_made_private(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("COORDINATOR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    key_file = tmp_path / "secret_key"
    key_file.write_text("x" * 64)
    key_file.chmod(0o644)
    assert create_app(config.DevelopmentConfig).config["SECRET_KEY"] == "x" * 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

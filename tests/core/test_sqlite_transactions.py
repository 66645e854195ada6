"""SQLite's transactions (coordinator/core/database.py): a writing request's transaction takes
the write lock when it begins (`BEGIN IMMEDIATE`) and waits for it; any other transaction (a
GET's, a job's or a command's) reads without it and takes it at its first write; SAVEPOINTs
work in both."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from coordinator.core.database import is_read
from coordinator.extensions import db
from coordinator.providers.models import Provider
from tests import dbutil, factories


@pytest.mark.parametrize("statement", [
    "SELECT 1", "  select * from patient", "PRAGMA busy_timeout", "EXPLAIN SELECT 1",
    "WITH recent AS (SELECT id FROM appointment) SELECT count(*) FROM recent",
])
def test_reads(statement):
    assert is_read(statement)


@pytest.mark.parametrize("statement", [
    "INSERT INTO audit_entry VALUES (1)", "UPDATE api_token SET last_used_at = ?",
    "DELETE FROM outbox_message", "SAVEPOINT sa_savepoint_1", "RELEASE SAVEPOINT x",
    "WITH doomed AS (SELECT id FROM printed_document) DELETE FROM printed_document",
    "CREATE TABLE t (x)", "REPLACE INTO t VALUES (1)",
])
def test_writes(statement):
    assert not is_read(statement)


sqlite_only = pytest.mark.skipif(dbutil.is_postgres(), reason="SQLite's transactions")


@contextmanager
def other_writer(live):
    """Another process's connection, which does not wait for the lock."""
    connection = sqlite3.connect(make_url(live.url).database, isolation_level=None, timeout=0)
    try:
        yield connection
    finally:
        connection.close()


def lock_is_free(live) -> bool:
    with other_writer(live) as connection:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        connection.execute("ROLLBACK")
        return True


def add_provider(name: str) -> None:
    factories.make_provider(name=name)  # adds and commits


def provider_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Provider))


@pytest.mark.live_database
@sqlite_only
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_writing_requests_transaction_takes_the_lock_when_it_begins(live, method):
    with live.app.test_request_context(method=method):
        provider_count()  # only read so far
        assert not lock_is_free(live)
        db.session.rollback()
        assert lock_is_free(live)
        db.session.remove()


def contexts(live) -> dict:
    return {"GET": lambda: live.app.test_request_context(method="GET"),
            "HEAD": lambda: live.app.test_request_context(method="HEAD"),
            "no request (job, import, command)": live.app.app_context}


@pytest.mark.live_database
@sqlite_only
@pytest.mark.parametrize("context", ["GET", "HEAD", "no request (job, import, command)"])
def test_other_transactions_read_without_the_lock_and_take_it_at_their_first_write(live,
                                                                                   context):
    with contexts(live)[context]():
        before = provider_count()
        assert lock_is_free(live)  # readers never hold the writer's lock
        with other_writer(live) as connection:  # another process writes meanwhile
            connection.execute("INSERT INTO provider (kind, name, name_folded, territory_id, "
                               "is_active, version, created_at, updated_at) SELECT 'gp', "
                               "'Dr Other', 'dr other', id, 1, 1, '2026-01-01 00:00:00', "
                               "'2026-01-01 00:00:00' FROM territory LIMIT 1")
        # A deferred transaction would be refused here (its snapshot is older than that
        # commit); this one restarts as BEGIN IMMEDIATE before its first write.
        add_provider("Dr Mine")
        assert provider_count() == before + 2
        db.session.remove()


@pytest.mark.live_database
@sqlite_only
def test_savepoints_work_in_every_kind_of_transaction(live):
    for context in (live.app.test_request_context(method="GET"),
                    live.app.test_request_context(method="POST"), live.app.app_context()):
        with context:
            before = provider_count()
            with db.session.begin_nested():  # the SAVEPOINT takes the lock first
                db.session.add(Provider(kind="gp", name="Kept", name_folded="kept",
                                        territory=factories.territory("DOUAISIS")))
            assert not lock_is_free(live)
            nested = db.session.begin_nested()
            db.session.add(Provider(kind="gp", name="Dropped", name_folded="dropped",
                                    territory=factories.territory("DOUAISIS")))
            db.session.flush()
            nested.rollback()
            db.session.commit()
            assert lock_is_free(live)
            names = db.session.scalars(select(Provider.name)).all()
            assert provider_count() == before + 1 and "Dropped" not in names
            db.session.execute(text("DELETE FROM provider WHERE name = 'Kept'"))
            db.session.commit()
            db.session.remove()


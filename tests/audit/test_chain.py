"""The audit trail is a hash chain: every writer chains (single records, list bulk writes,
imports), `audit verify` names the first altered or deleted entry, the retention purge leaves a
chain that still verifies, and concurrent writers on PostgreSQL keep it whole."""

from __future__ import annotations

from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from coordinator import create_app
from coordinator.audit import chain
from coordinator.audit import services as audit
from coordinator.audit.jobs import purge_audit_entries
from coordinator.audit.models import AuditChainHead, AuditEntry
from coordinator.core.context import Actor
from coordinator.core.time import utcnow
from coordinator.extensions import db
from tests import dbutil
from tests.imports.conftest import run_example

ACTOR = Actor.system("test")


def tamper(session, statement: str, **params) -> None:
    """What someone with write access to the database could do: bypass the append-only
    triggers (dropped or disabled inside the test's transaction, which is rolled back)."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("DROP TRIGGER audit_entry_no_delete"))
    session.execute(text(statement), params)


def write_some(session, count: int = 3) -> list[AuditEntry]:
    made = [audit.record(session, ACTOR, "read", "patient", 40 + n, patient_id=40 + n,
                         summary=f"opened {n}", details={"n": n, "é": [1, 2.5, None]})
            for n in range(count)]
    session.commit()
    return made


def head(session) -> AuditChainHead:
    return session.get(AuditChainHead, chain.HEAD_ID, populate_existing=True)


def test_single_records_and_bulk_writes_take_consecutive_places(session):
    before = head(session).sequence
    single = write_some(session, 2)
    audit.record_each(session, ACTOR, "read", "patient", [(1, 1), (2, 2)])
    audit.record_shown(session, ACTOR, "patient_search", [3])  # the lists' access log
    session.commit()
    rows = session.execute(select(AuditEntry.sequence, AuditEntry.previous_hash,
                                  AuditEntry.entry_hash).where(AuditEntry.sequence > before)
                           .order_by(AuditEntry.sequence)).all()
    assert [row.sequence for row in rows] == list(range(before + 1, before + 6))
    assert [row.previous_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert single[0].sequence == before + 1
    assert (head(session).sequence, head(session).entry_hash) == (rows[-1].sequence,
                                                                   rows[-1].entry_hash)
    result = chain.verify(session.connection())
    assert result.ok and result.head_sequence == before + 5


def test_an_import_chains_its_bulk_entries(session):
    before = head(session).sequence
    report = run_example(session, "providers")
    assert report.status == "succeeded"
    written = session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.sequence > before))
    assert written >= report.created + 1  # one per provider created and the report's own
    assert head(session).sequence == before + written
    assert chain.verify(session.connection(), batch_size=2).ok


def test_verify_passes_then_names_an_altered_entry(session, app):
    entries = write_some(session, 4)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", "--batch-size", "3"])
    assert ok.exit_code == 0, ok.output
    assert "entries verified" in ok.output
    tamper(session, "UPDATE audit_entry SET summary = 'nothing to see' WHERE id = :id",
           id=entries[2].id)
    result = chain.verify(session.connection(), batch_size=3)
    assert (result.ok, result.reason, result.broken_id, result.broken_sequence) == (
        False, "altered", entries[2].id, entries[2].sequence)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"entry id {entries[2].id}, sequence {entries[2].sequence}: altered" in broken.output


def test_an_entry_rehashed_after_its_change_breaks_the_next_link(session):
    entries = write_some(session, 3)
    tamper(session, "UPDATE audit_entry SET summary = 'x', entry_hash = :h WHERE id = :id",
           h="f" * 64, id=entries[1].id)
    result = chain.verify(session.connection())
    # its own hash no longer matches its fields: named first
    assert (result.reason, result.broken_id) == ("altered", entries[1].id)


def test_verify_names_a_deleted_entry(session, app):
    entries = write_some(session, 4)
    tamper(session, "DELETE FROM audit_entry WHERE id = :id", id=entries[1].id)
    result = chain.verify(session.connection(), batch_size=2)
    assert (result.ok, result.reason, result.broken_id, result.broken_sequence) == (
        False, "missing", entries[2].id, entries[2].sequence)
    assert f"sequence {entries[1].sequence} missing" in result.detail
    output = app.test_cli_runner().invoke(args=["audit", "verify"]).output
    assert "missing" in output and str(entries[1].sequence) in output


def test_verify_notices_the_newest_entries_deleted(session):
    entries = write_some(session, 3)
    tamper(session, "DELETE FROM audit_entry WHERE sequence >= :s", s=entries[1].sequence)
    result = chain.verify(session.connection())
    assert (result.ok, result.reason, result.broken_sequence) == (False, "missing",
                                                                  entries[1].sequence)


def test_the_database_still_refuses_to_delete_an_entry_not_purged(session):
    write_some(session, 1)
    nested = session.begin_nested()
    with pytest.raises(Exception, match="append-only"):
        session.execute(text("DELETE FROM audit_entry"))
    nested.rollback()


def entries_aged(session, now, *days: int) -> list[AuditEntry]:
    made = [AuditEntry(occurred_at=now - timedelta(days=age), actor_label="test", action="read",
                       entity_type="patient", entity_id=str(index))
            for index, age in enumerate(days)]
    session.add_all(made)
    session.commit()
    return made


# "now" for the purges: far enough ahead that every entry already in the database is older
# than the retention period too (the live tests' entries are committed)
LATER = timedelta(days=3000)


def test_purge_keeps_the_chain_verifiable_and_is_idempotent(session, app):
    now = utcnow() + LATER
    anchored_before = head(session).anchor_sequence
    old = entries_aged(session, now, 400, 399, 398)
    recent = entries_aged(session, now, 10, 1)
    assert app.config["AUDIT_RETENTION_DAYS"] == 365
    counts = purge_audit_entries(session, now)  # the daily job
    session.commit()
    # the old entries and every one written before them (the chain's beginning) are deleted
    assert counts == {"purged": old[-1].sequence - anchored_before}
    assert session.scalar(select(func.min(AuditEntry.sequence))) == recent[0].sequence
    assert session.get(AuditEntry, old[0].id, populate_existing=True) is None
    anchor = head(session)
    assert (anchor.anchor_sequence, anchor.anchor_hash) == (old[-1].sequence, old[-1].entry_hash)
    result = chain.verify(session.connection(), batch_size=1)
    assert (result.ok, result.verified) == (True, 2)
    assert purge_audit_entries(session, now) == {"purged": 0}  # the same day again: nothing
    session.commit()
    assert chain.verify(session.connection()).ok
    # deleting an entry the purge kept, behind the anchor's back, is still detected
    tamper(session, "DELETE FROM audit_entry WHERE id = :id", id=recent[0].id)
    result = chain.verify(session.connection())
    assert (result.reason, result.broken_id) == ("missing", recent[1].id)


def test_purge_stops_before_the_first_entry_kept(session):
    now = utcnow() + LATER
    anchored_before = head(session).anchor_sequence
    entries = entries_aged(session, now, 500, 10, 500)  # an old one written after a recent one
    purged = chain.purge(session.connection(), now, 365)
    assert purged == {"purged": entries[0].sequence - anchored_before}
    assert head(session).anchor_sequence == entries[0].sequence
    assert session.scalar(select(func.min(AuditEntry.sequence))) == entries[1].sequence
    assert chain.verify(session.connection()).ok
    assert chain.purge(session.connection(), now + timedelta(days=1), 365) == {"purged": 0}


def test_purge_refuses_to_anchor_past_a_hole(session):
    now = utcnow() + LATER
    old = entries_aged(session, now, 400, 400, 400)
    tamper(session, "DELETE FROM audit_entry WHERE id = :id", id=old[1].id)
    with pytest.raises(chain.ChainBroken):
        chain.purge(session.connection(), now, 365)


@pytest.mark.live_database
@pytest.mark.skipif(not dbutil.is_postgres(), reason="SQLite has one writer at a time")
def test_concurrent_writers_on_postgresql_keep_the_chain_whole(tmp_path):
    """On a database of its own (its entries are committed: the shared one stays empty)."""
    from tests.core.live import together

    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    per_writer, writers = 25, 4
    try:
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
        engine = create_engine(url)

        def write(index: int) -> int:
            with app.app_context(), Session(engine) as session:
                for number in range(per_writer):
                    if number % 5 == 4:
                        audit.record_each(session, ACTOR, "read", "patient",
                                          [(index, index), (number, None)])
                    else:
                        audit.record(session, ACTOR, "read", "patient", number,
                                     summary=f"writer {index}")
                    session.commit()
            return index

        together(writers, write)
        with Session(engine) as session:
            result = chain.verify(session.connection(), batch_size=7)
            sequences = session.scalars(select(AuditEntry.sequence)).all()
        engine.dispose()
        with app.app_context():
            db.engine.dispose()
    finally:
        dbutil.drop_database(url)
    assert result.ok, result
    assert sorted(sequences) == list(range(1, 1 + writers * per_writer * 6 // 5))


@pytest.mark.live_database
def test_the_migration_chains_the_entries_already_written(tmp_path):
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="0017")
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO audit_entry (occurred_at, actor_label, action, entity_type, "
                    "entity_id, patient_id, summary, details) VALUES "
                    "(:at, 'cli', 'create', 'user', :n, NULL, :s, :d)"),
                    [{"at": f"2026-0{1 + n % 9}-01 10:00:00.{n:06d}", "n": str(n),
                      "s": f"entry {n}", "d": '{"b": 1, "a": [1, "é"]}'} for n in range(2500)])
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                result = chain.verify(connection)
                assert result.ok and result.verified == result.head_sequence == 2500
                last = connection.execute(select(AuditEntry.sequence)
                                          .order_by(AuditEntry.id.desc()).limit(1)).scalar()
                assert last == 2500
            with Session(db.engine) as session:  # writing goes on from the migrated head
                audit.record(session, ACTOR, "read", "patient", 1)
                session.commit()
                assert chain.verify(session.connection()).head_sequence == 2501
                assert chain.verify(session.connection()).ok
            flask_migrate.downgrade(revision="0017")
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                assert chain.verify(connection).verified == 2501
            db.session.remove()
            db.engine.dispose()
    finally:
        dbutil.drop_database(url)

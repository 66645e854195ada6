"""The audit trail as a hash chain: each entry carries its place (`sequence`), the hash of the
entry before it (`previous_hash`) and its own (`entry_hash`, SHA-256 over a canonical JSON of its
fields and the previous hash). Changing an entry breaks its hash; deleting one leaves a hole in
the sequence; deleting the newest ones leaves the chain short of its head.

The head (the last sequence and hash) is one row, `audit_chain_head`, updated by every writer in
its own transaction: the row is locked (an UPDATE) just before the entries are inserted and
stays locked until that transaction ends, so writers on PostgreSQL take their places one after
the other (no two entries share a sequence; a rolled-back writer gives its places back), and on
SQLite the UPDATE takes the one write lock first (core/database.py). Every writer goes through
here: `record` (the ORM flush, `install`), `record_each` and the imports' bulk writes
(`chain_rows`, one lock, hashes computed in Python, one insert for a batch).

The head row also keeps the anchor: the sequence and hash of the last entry purged by the
retention job. The chain is checked from there; the database lets only entries at or before
the anchor be deleted (the triggers of migration 0018).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from coordinator.audit.models import AuditChainHead, AuditEntry
from coordinator.core.time import utcnow

GENESIS = "0" * 64  # the "previous hash" of the first entry
HEAD_ID = 1
# The fields an entry's hash covers (with its sequence and the previous hash); not its id.
FIELDS = ("occurred_at", "actor_user_id", "actor_label", "ip_address", "action", "entity_type",
          "entity_id", "patient_id", "summary", "details")
_HEAD = AuditChainHead.__table__


def _instant(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def canonical(values: Mapping[str, Any], sequence: int, previous_hash: str) -> bytes:
    """The bytes an entry's hash is computed over: its fields as the database gives them back
    (ids as integers, the entity id as text, the instant as naive UTC to the microsecond)."""
    entity_id = values.get("entity_id")
    payload = {
        "sequence": int(sequence),
        "previous_hash": previous_hash,
        "occurred_at": _instant(values["occurred_at"]),
        "actor_user_id": values.get("actor_user_id"),
        "actor_label": values.get("actor_label"),
        "ip_address": values.get("ip_address"),
        "action": values.get("action"),
        "entity_type": values.get("entity_type"),
        "entity_id": None if entity_id is None else str(entity_id),
        "patient_id": values.get("patient_id"),
        "summary": values.get("summary"),
        "details": values.get("details"),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def entry_hash(values: Mapping[str, Any], sequence: int, previous_hash: str) -> str:
    return hashlib.sha256(canonical(values, sequence, previous_hash)).hexdigest()


def take_head(connection: Connection) -> tuple[int, str]:
    """Lock the chain's head for this transaction and read it: (last sequence, last hash). An
    UPDATE, not a SELECT: on PostgreSQL it waits for another writer's commit and returns what
    that writer left (READ COMMITTED re-reads the row); on SQLite it takes the write lock."""
    statement = (update(_HEAD).where(_HEAD.c.id == HEAD_ID)
                 .values(sequence=_HEAD.c.sequence)
                 .returning(_HEAD.c.sequence, _HEAD.c.entry_hash))
    row = connection.execute(statement).first()
    if row is None:  # a schema made without the migrations (create_all)
        connection.execute(insert(_HEAD).values(id=HEAD_ID, sequence=0, entry_hash=GENESIS,
                                                anchor_sequence=0, anchor_hash=GENESIS))
        row = connection.execute(statement).one()
    return row.sequence, row.entry_hash


def _move_head(connection: Connection, sequence: int, last_hash: str) -> None:
    connection.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID)
                       .values(sequence=sequence, entry_hash=last_hash))


def chain_rows(connection: Connection, rows: list[dict]) -> list[dict]:
    """Give each row (a dict of an entry's columns, in the order they are to be inserted) its
    instant when it has none, its sequence and its hashes, and move the head past them. The
    caller inserts them in the same transaction (one statement for the lot)."""
    if not rows:
        return rows
    sequence, previous = take_head(connection)
    now = utcnow()
    for row in rows:
        for name in FIELDS:
            row.setdefault(name, None)
        if row["occurred_at"] is None:
            row["occurred_at"] = now
        if row["entity_id"] is not None:
            row["entity_id"] = str(row["entity_id"])
        sequence += 1
        row["sequence"] = sequence
        row["previous_hash"] = previous
        row["entry_hash"] = previous = entry_hash(row, sequence, previous)
    _move_head(connection, sequence, previous)
    return rows


def _chain_flushed_entries(session: Session, flush_context: UOWTransaction,
                           instances: Iterable[object] | None) -> None:
    """Before a flush: the new `AuditEntry` objects (`record`, or any `session.add`), in the
    order they were added, take the next places of the chain."""
    entries = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if not entries:
        return
    entries.sort(key=lambda obj: inspect(obj).insert_order)
    rows = [{name: getattr(entry, name) for name in FIELDS} for entry in entries]
    chain_rows(session.connection(), rows)
    for entry, row in zip(entries, rows, strict=True):
        entry.occurred_at = row["occurred_at"]
        entry.entity_id = row["entity_id"]
        entry.sequence = row["sequence"]
        entry.previous_hash = row["previous_hash"]
        entry.entry_hash = row["entry_hash"]


def install(session_class: type[Session] = Session) -> None:
    """Chain the entries of every session's flushes (idempotent; called by the app factory)."""
    if not event.contains(session_class, "before_flush", _chain_flushed_entries):
        event.listen(session_class, "before_flush", _chain_flushed_entries)


class ChainBroken(RuntimeError):
    """The purge found entries missing from the part of the chain it was to delete."""


@dataclass(frozen=True)
class Verification:
    ok: bool
    verified: int  # entries checked and found whole (before the break, if any)
    head_sequence: int
    head_hash: str
    anchor_sequence: int
    broken_id: int | None = None
    broken_sequence: int | None = None
    reason: str | None = None  # "altered", "missing" or "relinked"
    detail: str | None = None


_COLUMNS = [AuditEntry.__table__.c[name] for name in ("id", "sequence", "previous_hash",
                                                      "entry_hash", *FIELDS)]


def verify(connection: Connection | Session, batch_size: int = 1000) -> Verification:
    """Walk the chain from the anchor to the head, `batch_size` entries at a time (memory stays
    flat): the first entry whose hash is not that of its fields (altered), that follows a hole
    in the sequence (missing: deleted), or whose previous hash is not the hash of the entry
    before it (relinked), is named; so is a chain that stops short of its head."""
    head = connection.execute(select(_HEAD).where(_HEAD.c.id == HEAD_ID)).first()
    if head is None:
        head_sequence, head_hash, anchor_sequence, anchor_hash = 0, GENESIS, 0, GENESIS
    else:
        head_sequence, head_hash = head.sequence, head.entry_hash
        anchor_sequence, anchor_hash = head.anchor_sequence, head.anchor_hash
    last, previous, verified = anchor_sequence, anchor_hash, 0

    def broken(row: Any, reason: str, detail: str) -> Verification:
        return Verification(False, verified, head_sequence, head_hash, anchor_sequence,
                            None if row is None else row.id,
                            last + 1 if row is None else row.sequence, reason, detail)

    table = AuditEntry.__table__
    while True:
        rows = connection.execute(select(*_COLUMNS).where(table.c.sequence > last)
                                  .order_by(table.c.sequence).limit(batch_size)).all()
        for row in rows:
            values = row._mapping
            if row.sequence != last + 1:
                missing = (f"{last + 1}" if row.sequence == last + 2
                           else f"{last + 1} to {row.sequence - 1}")
                return broken(row, "missing",
                              f"entry sequence {missing} missing (deleted) before it")
            if row.previous_hash != previous:
                return broken(row, "relinked",
                              f"its previous hash is not the hash of entry sequence {last}")
            if entry_hash(values, row.sequence, row.previous_hash) != row.entry_hash:
                return broken(row, "altered", "its fields do not match its hash")
            last, previous = row.sequence, row.entry_hash
            verified += 1
        if len(rows) < batch_size:
            break
    if (last, previous) != (head_sequence, head_hash):
        if last < head_sequence:
            return broken(None, "missing",
                          f"entries {last + 1} to {head_sequence} missing (deleted) at the end")
        return broken(None, "altered", "the last entry is not the head the writers recorded")
    return Verification(True, verified, head_sequence, head_hash, anchor_sequence)


def purge(connection: Connection | Session, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete the oldest entries, those of more than `retention_days` days, and keep the last
    one's sequence and hash as the anchor the chain is checked from. Only a beginning of the
    chain goes: it stops before the first entry still kept (an older entry written after a
    newer one waits for the next run). Idempotent: a second run the same day deletes nothing."""
    if retention_days < 1:
        raise ValueError("AUDIT_RETENTION_DAYS must be at least 1")
    table = AuditEntry.__table__
    cutoff = now - timedelta(days=retention_days)
    head = connection.execute(
        update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(sequence=_HEAD.c.sequence)
        .returning(_HEAD.c.sequence, _HEAD.c.anchor_sequence)).first()  # locks the chain
    if head is None:
        return {"purged": 0}
    first_kept = connection.execute(select(table.c.sequence).where(table.c.occurred_at >= cutoff)
                                    .order_by(table.c.sequence).limit(1)).scalar()
    through = head.sequence if first_kept is None else first_kept - 1
    if through <= head.anchor_sequence:
        return {"purged": 0}
    present = connection.execute(select(func.count()).select_from(table).where(
        table.c.sequence > head.anchor_sequence, table.c.sequence <= through)).scalar_one()
    if present != through - head.anchor_sequence:  # an anchor past a hole would hide it
        raise ChainBroken(f"entries between sequence {head.anchor_sequence} and {through} are "
                          "missing: the purge is refused (flask --app wsgi audit verify)")
    last = connection.execute(select(table.c.sequence, table.c.entry_hash, table.c.occurred_at)
                              .where(table.c.sequence == through)).one()
    connection.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(
        anchor_sequence=last.sequence, anchor_hash=last.entry_hash,
        anchor_occurred_at=last.occurred_at, purged_at=now))
    # the database deletes only entries at or before the anchor (migration 0018's triggers)
    deleted = connection.execute(table.delete().where(table.c.sequence <= last.sequence))
    return {"purged": deleted.rowcount}

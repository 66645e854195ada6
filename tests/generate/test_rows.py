"""The generator's rows before any database: the same seed gives the same rows, the COPY text
is safe, the instants are Paris local times converted as zoneinfo does, NIR keys are valid."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from stdnum.fr import nir as stdnum_nir

from coordinator.core.time import PARIS
from coordinator.generate import vocabulary
from coordinator.generate.clock import Clock, Codec
from coordinator.generate.registry import (
    COLUMNS,
    ChunkWriter,
    Territory,
    birth_department,
    nir,
)
from coordinator.generate.services import STEPS
from coordinator.generate.setup import Options, prepare

TERRITORIES = ("AUBE-SEZ", "CORNOUAILLE", "DEUX-SEVRES", "DOUAISIS", "HAUTE-SAONE")


def _chunk(session, seed: int, dialect: str = "postgresql", patients: int = 150) -> dict:
    options = Options(patients=patients, territories=TERRITORIES, years=2, seed=seed,
                      today=date(2026, 6, 30), chunk_size=patients, password_hash="!")
    ctx, first_rows = prepare(session, options, Codec.for_dialect(dialect))
    writer = ChunkWriter(ctx, 0, ctx.ids("patient", patients), patients)
    lives = writer.lives()
    for step, _tables in STEPS[1:]:
        getattr(writer, step)(lives)
    return {**first_rows, **writer.chunk.rows}


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(session):
    first = _chunk(session, seed=11)
    assert first == _chunk(session, seed=11)
    other = _chunk(session, seed=12)
    assert first["patient"] != other["patient"]
    assert first["appointment"] != other["appointment"]


def test_every_row_has_its_table_columns_and_copy_safe_text(session):
    rows = _chunk(session, seed=5)
    for table, columns in COLUMNS.items():
        assert rows[table], table
        for row in rows[table]:
            assert len(row) == len(columns), table
            for value in row:
                assert isinstance(value, str), (table, row)
                # COPY text: no field separator, line break or escape, but the NULL marker
                assert value == "\\N" or not any(c in value for c in "\t\n\r\\"), (table, value)


def test_sqlite_rows_use_none_and_microseconds(session):
    rows = _chunk(session, seed=5, dialect="sqlite", patients=40)
    patient = dict(zip(COLUMNS["patient"], rows["patient"][0], strict=True))
    assert patient["merged_into_id"] is None
    assert patient["created_at"].endswith(".000000")
    assert patient["consent_share"] in ("0", "1")


def test_instants_are_paris_times_as_zoneinfo_converts_them():
    first = date(2024, 1, 1).toordinal()
    clock = Clock(first, date(2026, 12, 31).toordinal(), Codec.for_dialect("postgresql"))
    rng = random.Random(3)
    days = [first + rng.randrange(1090) for _ in range(300)]
    # the clock-change days, both ways
    days += [date(2025, 3, 30).toordinal(), date(2025, 10, 26).toordinal()]
    for day in days:
        for minute in (0, 90, 150, 239, 240, 600, 1439, rng.randrange(1440)):
            local_day, local_minute = clock.local(day, minute)
            local = datetime.combine(date.fromordinal(local_day), time()) + timedelta(
                minutes=local_minute)
            expected = local.replace(tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)
            assert clock.instant(day, minute) == expected.strftime("%Y-%m-%d %H:%M:%S")
            # the Paris day of the stored instant is the day it was made on
            assert expected.replace(tzinfo=UTC).astimezone(PARIS).date() == \
                date.fromordinal(local_day)
    assert date(2025, 3, 30).toordinal() in clock.clock_changes
    assert clock.local(date(2025, 3, 30).toordinal(), 150)[1] == 240  # 02:30 did not exist


def test_nirs_have_valid_keys_corsica_included_and_never_repeat():
    corsican, place = nir(0, "M", 1948, 3, "2A")
    assert corsican.startswith("148032A001001") and place == "2A001"
    stdnum_nir.validate(corsican)  # the key of 2A reads it as 19
    for department in ("2A", "2B", "59", "01", "95"):
        number, place = nir(12345, "F", 1939, 11, department)
        stdnum_nir.validate(number)
        assert place == f"{department}{number[7:10]}"
    territory = Territory(id=1, code="DOUAISIS", department="59", towns=[], town_weights=[],
                          addresses=[], hospitals=[], hospital_weights=[], university=("", ""),
                          providers={}, gp_weights=[], case_managers=[])
    rng = random.Random(1)
    # Ranks one round apart share their commune and order numbers; their departments come from
    # disjoint sets, so their NIRs differ.
    numbers = set()
    for round_ in range(3):
        for _ in range(50):
            rank = 5 + round_ * vocabulary.NIR_RANKS
            department = birth_department(rng, rank, territory)
            assert department in vocabulary.BIRTH_DEPARTMENT_ROUNDS[round_]
            number, _place = nir(rank, "F", 1950, 6, department)
            stdnum_nir.validate(number)
            numbers.add((round_, number))
    assert len({number for _round, number in numbers}) == len(numbers)
    rounds = vocabulary.BIRTH_DEPARTMENT_ROUNDS
    assert not set(rounds[0]) & set(rounds[1]) and not set(rounds[1]) & set(rounds[2])
    assert not set(rounds[0]) & set(rounds[2])

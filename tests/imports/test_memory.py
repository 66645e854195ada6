"""Files are streamed: the memory an import holds does not grow with the file."""

import gc
import tracemalloc

from benchmarks.import_patients import write_patients, write_providers
from tests.imports.conftest import run


def traced_import(session, tmp_path, count: int) -> list[int]:
    """Python memory in use at 10 %, 50 % and 100 % of a file of `count` patients (live
    objects: garbage waiting for the cycle collector is collected first)."""
    path = tmp_path / f"patients-{count}.csv"
    write_patients(path, count)
    content = path.read_bytes()
    samples: dict[int, int] = {}

    def progress(done: int, rows: int) -> None:
        for percent in (10, 50, 100):
            if percent not in samples and done * 100 >= percent * len(content):
                gc.collect()
                samples[percent] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        report = run(session, "patients", content, batch_size=500, progress=progress,
                     dry_run=True)
    finally:
        tracemalloc.stop()
    assert report.status == "succeeded" and report.rows_read == count, report.errors[:3]
    return [samples[percent] for percent in (10, 50, 100)]


def test_memory_stays_flat_while_a_file_is_imported(session, tmp_path):
    providers = tmp_path / "providers.csv"
    write_providers(providers)
    assert run(session, "providers", providers.read_bytes()).status == "succeeded"
    # The file itself is held by the test (BytesIO): what matters is what grows beyond it.
    # Two small caches of folded names fill up early (1 024 names each), then nothing grows.
    at_10, at_50, at_100 = traced_import(session, tmp_path, 12_000)
    assert at_100 - at_10 < 500_000, (at_10, at_50, at_100)
    assert at_100 - at_50 < 100_000, (at_10, at_50, at_100)

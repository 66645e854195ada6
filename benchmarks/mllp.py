"""Benchmark: HL7 v2 ADT messages accepted per second over MLLP (aim: ≥ 200/s), each message
acknowledged after its effect is committed.

    .venv/bin/python benchmarks/mllp.py [--patients 1000] [--connections 1 --connections 4]
                                        [--workers 2]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_bench \\
        .venv/bin/python benchmarks/mllp.py

Builds a fresh schema (an SQLite file in a temporary folder by default, or the database of
DATABASE_URL, emptied first), bulk-loads N patients with an INS, starts the real listener
(`flask --app wsgi hl7-listener --port 0 --workers W`) and sends, over C connections at once,
an A01 then an A03 for every patient (2 N messages: each admission opens a stay, each discharge
closes it and computes its readmission flags and LACE), each connection waiting for each ACK
before sending its next message, as MLLP senders do. Every ACK must be AA and every stay closed
at the end. Prints markdown rows for docs/performance.md: messages per second (the wall time
from the first message to the last ACK), and the ACK latency (median, p95).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from coordinator import create_app  # noqa: E402
from coordinator.core.normalize import fold  # noqa: E402
from coordinator.extensions import db  # noqa: E402
from coordinator.hl7 import ack  # noqa: E402
from coordinator.hl7.mllp import frame  # noqa: E402
from coordinator.patients.models import Patient  # noqa: E402
from coordinator.stays.models import Stay  # noqa: E402
from coordinator.strata.models import Territory  # noqa: E402
from coordinator.strata.services import load_reference_data  # noqa: E402

FLASK = Path(sys.executable).parent / "flask"
INS_OID = "1.2.250.1.213.1.4.8"


def nir(index: int) -> str:
    body = f"2{50 + index % 40:02d}{1 + index % 12:02d}59{index % 1000:03d}{index // 1000 + 1:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def message(event: str, index: int, control: str) -> bytes:
    """An A01 or A03 (IHE PAM, French extension) for the patient `index`."""
    day = 1 + index % 27
    pv1 = [""] * 46
    pv1[2], pv1[3], pv1[4], pv1[19] = "I", "MED^1^2", "U" if index % 3 else "R", f"V{index}"
    pv1[44] = f"202604{day:02d}0800"
    if event == "A03":
        pv1[36] = "01"
        pv1[45] = f"202604{day:02d}1700"
    segments = [
        "MSH|^~\\&|SIH|CH_DOUAI^590000021^M|COORDINATOR|ARS|20260401080000+0200||"
        f"ADT^{event}^ADT_{event}|{control}|P|2.5^FRA^2.10||||||8859/1",
        f"EVN||20260401080000||||{pv1[44]}",
        f"PID|||{index:07d}^^^CH_DOUAI&590000021&M^PI~{nir(index)}^^^ASIP-SANTE-INS-NIR&"
        f"{INS_OID}&ISO^INS||BENCH{index}^MARIE^^^^^L||19{50 + index % 40}0101|F",
        "PV1|" + "|".join(pv1[1:]),
        f"ZBE|MVT{index}^SIH|20260401080000||INSERT|N",
        "DG1|1||I50.9^Insuffisance cardiaque^I10||20260401|F|||||||||1",
    ]
    return ("\r".join(segments) + "\r").encode("latin-1")


def load(patients: int) -> None:
    territory = db.session.scalar(select(Territory.id).where(Territory.code == "DOUAISIS"))
    db.session.execute(insert(Patient), [{
        "birth_name": f"Bench{i}", "first_names": "Marie", "birth_name_folded": fold(f"Bench{i}"),
        "first_name_folded": "MARIE", "used_name_folded": None,
        "birth_date": date(1950 + i % 40, 1, 1), "sex": "F", "territory_id": territory,
        "identity_status": "qualified", "nir": nir(i), "consent_share": False,
        "advance_directives": False, "version": 1,
    } for i in range(patients)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def start_listener(url: str, workdir: Path, workers: int) -> tuple[subprocess.Popen, int]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COORDINATOR_") and key not in ("DATABASE_URL",
                                                                  "TEST_DATABASE_URL")}
    env.update({"COORDINATOR_ENV": "development", "DATABASE_URL": url,
                "COORDINATOR_INSTANCE_PATH": str(workdir), "COORDINATOR_SCHEDULER": "false",
                "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen([str(FLASK), "--app", "wsgi", "hl7-listener", "--port", "0",
                                "--workers", str(workers)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("HL7 MLLP listener on "):
        process.kill()
        raise SystemExit(f"the listener did not start: {line}")
    return process, int(line.rsplit(":", 1)[1].split()[0])


def send_all(port: int, messages: list[bytes], latencies: list[float], codes: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        buffer = b""
        for payload in messages:
            started = time.perf_counter()
            sock.sendall(frame(payload))
            while b"\x1c\x0d" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("listener closed the connection")
                buffer += chunk
            answer, buffer = buffer.split(b"\x1c\x0d", 1)
            latencies.append(time.perf_counter() - started)
            codes.append(ack.code_of(answer[1:].decode("latin-1")))


def run(url: str, workdir: Path, patients: int, connections: int, workers: int) -> dict:
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url,
                      "SCHEDULER_ENABLED": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        load(patients)
        db.session.remove()
    process, port = start_listener(url, workdir, workers)
    try:
        # Each connection sends its patients' A01s then their A03s (a hospital's feed).
        shares: list[list[bytes]] = [[] for _ in range(connections)]
        for index in range(patients):
            shares[index % connections].append(message("A01", index, f"A01-{index}"))
        for index in range(patients):
            shares[index % connections].append(message("A03", index, f"A03-{index}"))
        latencies: list[float] = []
        codes: list[str] = []
        threads = [threading.Thread(target=send_all, args=(port, share, latencies, codes))
                   for share in shares]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    with app.app_context():
        closed = db.session.scalar(select(func.count()).select_from(Stay)
                                   .where(Stay.discharged_at.is_not(None)))
        db.session.remove()
        db.engine.dispose()
    if codes.count("AA") != 2 * patients or closed != patients:
        raise SystemExit(f"not every message was applied: {codes.count('AA')} AA of "
                         f"{2 * patients}, {closed} stays closed of {patients}")
    latencies.sort()
    return {"messages": len(codes), "seconds": elapsed, "rate": len(codes) / elapsed,
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--connections", type=int, action="append",
                        help="senders at once (repeatable; default 1 and 4)")
    parser.add_argument("--workers", type=int, default=1, help="listener processes")
    args = parser.parse_args()
    connections = args.connections or [1, 4]
    with tempfile.TemporaryDirectory(prefix="coordinator-mllp-") as folder:
        workdir = Path(folder)
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
        dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print("| database | listener processes | connections | messages | seconds | "
              "messages/s | ACK median | ACK p95 |")
        print("|---|---|---|---|---|---|---|---|")
        for count in connections:
            if not url.startswith("postgresql"):
                url = f"sqlite:///{workdir / f'bench-{count}.sqlite3'}"
            result = run(url, workdir, args.patients, count, args.workers)
            print(f"| {dialect} | {args.workers} | {count} | {result['messages']} | "
                  f"{result['seconds']:.1f} | "
                  f"{result['rate']:.0f} | {result['median_ms']:.1f} ms | "
                  f"{result['p95_ms']:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()

"""The MLLP listener as a hospital meets it: `flask --app wsgi hl7-listener --port 0` started by
the test on a database of its own, messages sent over real sockets; each ACK arrives after the
message's effect is committed (read back through another connection before the next message).
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select

from coordinator import create_app
from coordinator.extensions import db
from coordinator.hl7 import ack
from coordinator.hl7.mllp import frame
from coordinator.hl7.models import Hl7Message, MessageStatus
from coordinator.stays.models import Stay
from coordinator.strata.services import load_reference_data
from tests import dbutil
from tests.factories import make_nir, make_patient
from tests.hl7.conftest import adt

pytestmark = pytest.mark.live_database
ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
TIMEOUT = 60


class Listener:
    def __init__(self, app, url: str, process: subprocess.Popen, port: int):
        self.app, self.url, self.process, self.port = app, url, process, port

    def connect(self) -> MllpClient:
        return MllpClient(socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT))

    def read(self, query):
        """Read through a connection of the test's own: what the listener committed."""
        with self.app.app_context():
            try:
                return list(db.session.scalars(query))
            finally:
                db.session.remove()


class MllpClient:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, message: str) -> str:
        self.sock.sendall(frame(message.encode("latin-1")))
        return self.receive()

    def receive(self) -> str:
        while b"\x1c\x0d" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the listener closed the connection")
            self.buffer += chunk
        answer, self.buffer = self.buffer.split(b"\x1c\x0d", 1)
        assert answer.startswith(b"\x0b")
        return answer[1:].decode("latin-1")

    def close(self) -> None:
        self.sock.close()


def _start(tmp_path, *options: str):
    url = dbutil.fresh_database(tmp_path)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        db.session.remove()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COORDINATOR_") and key not in ("DATABASE_URL",
                                                                  "TEST_DATABASE_URL")}
    env.update({"COORDINATOR_ENV": "development", "DATABASE_URL": url,
                "COORDINATOR_INSTANCE_PATH": str(tmp_path), "COORDINATOR_SCHEDULER": "false",
                "PYTHONUNBUFFERED": "1"})
    command = [str(FLASK), "--app", "wsgi", "hl7-listener", "--port", "0", *options]
    process = subprocess.Popen(command,  # noqa: S603
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("HL7 MLLP listener on "):
        process.kill()
        raise AssertionError(line + process.communicate(timeout=TIMEOUT)[1])
    return Listener(app, url, process, int(line.rsplit(":", 1)[1].split()[0]))


def _stop(started: Listener) -> None:
    process, app, url = started.process, started.app, started.url
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT)
    process.stdout.close()
    process.stderr.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_database(url)


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    """One listener (and database) for the module's tests: each uses patients of its own."""
    started = _start(tmp_path_factory.mktemp("mllp"))
    yield started
    _stop(started)


@pytest.fixture
def own_listener(tmp_path, request):
    started = _start(tmp_path, *getattr(request, "param", ()))
    yield started
    _stop(started)


_orders = itertools.count(1)


def _patient(listener: Listener, **overrides):
    birth = date(1969, 5, 20)
    order = next(_orders)
    with listener.app.app_context():
        patient = make_patient(birth_date=birth, sex="F",
                               nir=make_nir("F", birth, order=order), **overrides)
        ids = patient.id, patient.nir
        db.session.remove()
    return ids


def test_a01_then_a03_over_mllp_open_then_close_the_stay(listener):
    patient_id, nir = _patient(listener)
    client = listener.connect()
    try:
        answer = client.send(adt("A01", ins=nir, control="M1", visit="VM"))
        assert ack.code_of(answer) == "AA"
        [stay] = listener.read(select(Stay).where(Stay.external_id == "VM"))
        assert stay.patient_id == patient_id  # committed before the ACK was sent
        assert stay.discharged_at is None
        answer = client.send(adt("A03", ins=nir, control="M2", visit="VM",
                                 discharged="202603121100", disposition="01"))
        assert ack.code_of(answer) == "AA"
        [stay] = listener.read(select(Stay).where(Stay.external_id == "VM"))
        assert stay.discharged_at is not None and stay.discharge_destination == "home"
        again = client.send(adt("A03", ins=nir, control="M2", visit="VM",
                                discharged="202603121100"))
        assert again == answer  # a resent message: the same ACK
    finally:
        client.close()
    assert len(listener.read(select(Hl7Message).where(Hl7Message.control_id.in_(
        ["M1", "M2"])))) == 2


def test_several_connections_at_once(listener):
    patients = [_patient(listener) for _ in range(4)]
    answers: dict[int, list[str]] = {}

    def hospital(index: int, nir: str) -> None:
        client = listener.connect()
        try:
            answers[index] = [client.send(adt("A01", ins=nir, control=f"C{index}-{n}",
                                              visit=f"V{index}-{n}",
                                              admitted=f"2026030{n + 1}1000",
                                              discharged=f"2026030{n + 1}1100"))
                              for n in range(3)]
        finally:
            client.close()

    threads = [threading.Thread(target=hospital, args=(index, nir))
               for index, (_, nir) in enumerate(patients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(answers) == [0, 1, 2, 3]
    assert all(ack.code_of(answer) == "AA" for answer_list in answers.values()
               for answer in answer_list)
    assert len(listener.read(select(Stay).where(Stay.external_id.like("V_-_")))) == 12


def test_messages_arriving_at_once_are_committed_together(own_listener):
    """Eight hospitals sending at once: what arrives while a batch is processed goes in the
    next one (fewer commits than messages), and every message is answered AA once stored."""
    nirs = [_patient(own_listener)[1] for _ in range(8)]
    codes: list[str] = []

    def hospital(index: int, nir: str) -> None:
        client = own_listener.connect()
        try:
            for n in range(5):
                codes.append(ack.code_of(client.send(adt(
                    "A01", ins=nir, control=f"G{index}-{n}", visit=f"G{index}-{n}",
                    admitted=f"2026040{n + 1}1000", discharged=f"2026040{n + 1}1100"))))
        finally:
            client.close()

    threads = [threading.Thread(target=hospital, args=item) for item in enumerate(nirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert codes == ["AA"] * 40
    assert len(own_listener.read(select(Stay).where(Stay.external_id.like("G%")))) == 40
    own_listener.process.send_signal(signal.SIGTERM)
    assert own_listener.process.wait(timeout=TIMEOUT) == 0
    summary = own_listener.process.stdout.read()
    batches = int(summary.split("committed in ")[1].split()[0])
    assert "40 message(s) on 8 connection(s)" in summary
    assert batches < 40


def test_the_listener_survives_broken_frames(listener):
    _, nir = _patient(listener)
    client = listener.connect()
    try:
        client.send_raw(b"garbage outside any frame\r\n")
        client.send_raw(b"\x0bMSH|^~\\&|SIH|CH|unfinished frame")  # never ended...
        answer = client.send(adt("A01", ins=nir, control="B1", visit="VB"))  # a new frame
        assert ack.code_of(answer) == "AA"
        answer = client.send("this is not HL7")
        assert ack.code_of(answer) == "AR"
        broken = adt("A01", ins=nir, control="B2", visit="V-B2").replace("\rPV1|", "\rP#1|")
        assert ack.code_of(client.send(broken)) == "AE"
        # The same connection goes on.
        answer = client.send(adt("A08", ins=nir, control="B3", visit="VB"))
        assert ack.code_of(answer) == "AA"
    finally:
        client.close()
    statuses = {message.control_id: message.status for message in listener.read(
        select(Hl7Message).where(Hl7Message.control_id.like("B_")))}
    assert statuses == {"B1": MessageStatus.APPLIED, "B2": MessageStatus.ERROR,
                        "B3": MessageStatus.APPLIED}
    # A client that disconnects mid-frame leaves the listener serving the others.
    dropped = listener.connect()
    dropped.send_raw(b"\x0bMSH|^~\\&|half")
    dropped.close()
    other = listener.connect()
    try:
        assert ack.code_of(other.send(adt("A05", control="B4"))) == "AR"
    finally:
        other.close()


def test_the_listener_stops_on_sigterm(own_listener):
    client = own_listener.connect()
    client.send(adt("A05", control="S1"))
    client.close()
    own_listener.process.send_signal(signal.SIGTERM)
    assert own_listener.process.wait(timeout=TIMEOUT) == 0
    assert "1 message(s)" in own_listener.process.stdout.read()


@pytest.mark.parametrize("own_listener", [("--workers", "2")], indirect=True)
def test_several_processes_serve_the_port(own_listener):
    nirs = [_patient(own_listener)[1] for _ in range(4)]
    codes: list[str] = []

    def hospital(index: int, nir: str) -> None:
        client = own_listener.connect()
        try:
            codes.extend(ack.code_of(client.send(adt("A01", ins=nir, control=f"W{index}",
                                                     visit=f"W{index}")))
                         for _ in range(2))
        finally:
            client.close()

    threads = [threading.Thread(target=hospital, args=item) for item in enumerate(nirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert codes == ["AA"] * 8  # the second of each pair: a resent message, the same ACK
    assert len(own_listener.read(select(Stay))) == 4
    own_listener.process.send_signal(signal.SIGTERM)
    assert own_listener.process.wait(timeout=TIMEOUT) == 0

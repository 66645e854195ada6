"""The MLLP listener: `flask --app wsgi hl7-listener --port 2575 [--host 127.0.0.1]`.

MLLP (HL7 v2 "minimal lower layer protocol") frames each message as
`0x0B <message> 0x1C 0x0D` over a TCP connection; the receiver answers each message with its
ACK, framed the same way, before the sender sends the next one. Here:

- each connection is served by a thread of its own (several senders at once), which hands
  each message to the process's `Batcher`: one thread, one database session, one unit of work
  at a time. What arrives on several connections while a batch is processed is the next batch
  (up to `HL7_BATCH_MAX` messages), received together and committed once
  (`inbox.process_many`; a batch that cannot go together is taken one message at a time, with
  the answers those would have had alone). On PostgreSQL `--workers` adds processes, each with
  its batcher; on SQLite (one writer) keep one;
- each message is received, **committed**, and only then acknowledged: a listener stopped or
  killed midway has sent no ACK for what it did not store, and the sender sends that message
  again (its control id makes the resend harmless);
- a broken frame does not end the connection: bytes outside a frame are skipped, a start block
  inside a frame starts a new frame (the unfinished one is dropped, unanswered: there is no
  whole message to answer), a frame larger than `HL7_MAX_MESSAGE_BYTES` is answered AR when its
  end block arrives, its bytes in between skipped; a connection silent for
  `HL7_IDLE_TIMEOUT_SECONDS` is closed;
- `--allow` limits the peers (addresses or networks); MLLP itself has no authentication nor
  encryption: expose the port to the hospital's network only (VPN, or a TLS tunnel such as
  stunnel in front).
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import socketserver
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext as _l

from coordinator.extensions import db
from coordinator.hl7 import er7, inbox, services
from coordinator.hl7.services import Receipt, Sender, Settings

log = logging.getLogger(__name__)

START = b"\x0b"
END = b"\x1c"
CARRIAGE_RETURN = b"\x0d"
HEADER_KEPT = 64 * 1024  # of a frame too large: what is read of it to answer it


def frame(payload: bytes) -> bytes:
    return START + payload + END + CARRIAGE_RETURN


@dataclass
class Frame:
    """A whole frame's content, or a frame too large (only its start kept)."""

    payload: bytes
    too_large: bool = False


class Deframer:
    """MLLP frames out of a byte stream, whatever the chunks it comes in (see the module)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._inside = False
        self._size = 0
        self._too_large = False
        self.dropped = 0  # unfinished frames dropped (a start block inside a frame)

    def feed(self, data: bytes) -> Iterator[Frame]:
        position = 0
        while position < len(data):
            if not self._inside:
                start = data.find(START, position)
                if start < 0:
                    return  # bytes outside any frame (a trailing CR included): skipped
                self._begin()
                position = start + 1
                continue
            end = data.find(END, position)
            restart = data.find(START, position)
            if restart >= 0 and (end < 0 or restart < end):
                self.dropped += 1
                self._add(data[position:restart])
                log.warning("MLLP: an unfinished frame dropped (%d bytes)", self._size)
                self._begin()
                position = restart + 1
                continue
            if end < 0:
                self._add(data[position:])
                return
            self._add(data[position:end])
            yield Frame(bytes(self._buffer), self._too_large)
            self._inside = False
            self._buffer.clear()
            position = end + 1

    def _begin(self) -> None:
        self._inside = True
        self._buffer.clear()
        self._size = 0
        self._too_large = False

    def _add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.max_bytes:
            self._too_large = True
            room = HEADER_KEPT - len(self._buffer)
            if room > 0:
                self._buffer += chunk[:room]
            return
        self._buffer += chunk


class _Job:
    """A message waiting for its batch: its receipt once that batch is committed."""

    def __init__(self, payload: bytes, sender: Sender):
        self.payload = payload
        self.sender = sender
        self.receipt: Receipt | None = None
        self.done = threading.Event()


class Batcher:
    """The one thread of a listener process that touches the database (see the module)."""

    def __init__(self, app: Flask, settings: Settings, limit: int):
        self.app = app
        self.settings = settings
        self.limit = max(1, limit)
        self.batches = 0
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Started by `serve_forever` (after `--workers` forked: a thread does not cross a
        fork)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hl7-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """The messages already handed over are processed, then the thread ends."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, payload: bytes, sender: Sender) -> Receipt:
        """Process one message with whatever arrives meanwhile; its receipt once committed."""
        job = _Job(payload, sender)
        self._queue.put(job)
        job.done.wait()
        assert job.receipt is not None
        return job.receipt

    def _next_batch(self) -> tuple[list[_Job], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < self.limit:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _run(self) -> None:
        with self.app.app_context():
            stopping = False
            while not stopping:
                jobs, stopping = self._next_batch()
                if not jobs:
                    continue
                try:
                    receipts = inbox.process_many(db.session, [(job.payload, job.sender)
                                                               for job in jobs], self.settings)
                except Exception:  # pragma: no cover - process_many answers every failure
                    log.exception("MLLP: a batch of %d failed", len(jobs))
                    receipts = [inbox.internal_error(job.payload, self.settings)
                                for job in jobs]
                finally:
                    db.session.remove()
                self.batches += 1
                for job, receipt in zip(jobs, receipts, strict=True):
                    job.receipt = receipt
                    job.done.set()


class Listener(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True  # a stopped listener does not wait for idle connections

    def __init__(self, app: Flask, address: tuple[str, int], sender: Callable[[str], Sender],
                 allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = ()):
        self.app = app
        self.make_sender = sender
        self.allowed = list(allowed)
        self.settings = Settings.of(app.config)
        self.max_bytes = int(app.config.get("HL7_MAX_MESSAGE_BYTES", 1024 * 1024))
        self.idle_timeout = float(app.config.get("HL7_IDLE_TIMEOUT_SECONDS", 300))
        self.batcher = Batcher(app, self.settings, int(app.config.get("HL7_BATCH_MAX", 50)))
        self.counts = {"connections": 0, "messages": 0}
        self._lock = threading.Lock()
        super().__init__(address, Handler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.batcher.start()
        try:
            super().serve_forever(poll_interval)
        finally:
            self.batcher.stop()

    def verify_request(self, request, client_address) -> bool:  # type: ignore[no-untyped-def]
        if not self.allowed:
            return True
        peer = ipaddress.ip_address(client_address[0])
        if any(peer in network for network in self.allowed):
            return True
        log.warning("MLLP: connection from %s refused (not in --allow)", client_address[0])
        return False

    def count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1


class Handler(socketserver.BaseRequestHandler):
    server: Listener

    def handle(self) -> None:
        server = self.server
        peer = self.client_address[0]
        server.count("connections")
        self.request.settimeout(server.idle_timeout)
        deframer = Deframer(server.max_bytes)
        sender = server.make_sender(peer)
        with server.app.app_context():
            try:
                while True:
                    try:
                        data = self.request.recv(65536)
                    except TimeoutError:
                        log.info("MLLP: %s silent for %.0f s: connection closed", peer,
                                 server.idle_timeout)
                        return
                    if not data:
                        return
                    for received in deframer.feed(data):
                        receipt = self._receive(received, sender)
                        self.request.sendall(frame(receipt.ack_bytes()))
                        server.count("messages")
            except OSError as failure:
                log.info("MLLP: connection with %s ended: %s", peer, failure)

    def _receive(self, received: Frame, sender: Sender) -> Receipt:
        settings = self.server.settings
        if received.too_large:
            return services.rejected(received.payload, er7.rejected(
                er7.APPLICATION_INTERNAL_ERROR,
                _l("The message is larger than %(n)d bytes: it is not taken.",
                   n=self.server.max_bytes)), settings)
        return self.server.batcher.submit(received.payload, sender)


def parse_networks(values: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in values]


def serve(app: Flask, host: str, port: int, *, territory_id: int | None = None,
          allowed: Sequence[str] = ()) -> Listener:
    """A listener bound to (host, port) (port 0: a free port, in `server_address`); it serves
    in the calling thread once `serve_forever()` is called, until `shutdown()`."""
    return Listener(app, (host, port), lambda peer: Sender.listener(peer, territory_id),
                    parse_networks(allowed))

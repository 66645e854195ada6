"""The MLLP listener: `flask --app wsgi hl7-listener --port 2575 [--host 127.0.0.1]`.

MLLP (HL7 v2 "minimal lower layer protocol") frames each message as
`0x0B <message> 0x1C 0x0D` over a TCP connection; the receiver answers each message with its
ACK, framed the same way, before the sender sends the next one. Here:

- each connection is served by a thread of its own (several senders at once), each with its
  application context and database session; on SQLite (one writer at a time) the connections
  of a process take turns, on PostgreSQL they work at once;
- each message is received, **committed**, and only then acknowledged (`inbox.process`): a
  listener stopped or killed midway has sent no ACK for what it did not store, and the sender
  sends that message again (its control id makes the resend harmless);
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
        self.counts = {"connections": 0, "messages": 0}
        self._lock = threading.Lock()
        # SQLite has one writer at a time: the connections of a process take turns (rather
        # than wait for each other's write lock, holding the interpreter between them).
        with app.app_context():
            self.one_at_a_time = threading.Lock() if db.engine.dialect.name == "sqlite" \
                else None
        super().__init__(address, Handler)

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
            finally:
                db.session.remove()

    def _receive(self, received: Frame, sender: Sender) -> Receipt:
        settings = self.server.settings
        if received.too_large:
            return services.rejected(received.payload, er7.rejected(
                er7.APPLICATION_INTERNAL_ERROR,
                _l("The message is larger than %(n)d bytes: it is not taken.",
                   n=self.server.max_bytes)), settings)
        if self.server.one_at_a_time is None:
            return inbox.process(db.session, received.payload, sender, settings)
        with self.server.one_at_a_time:
            return inbox.process(db.session, received.payload, sender, settings)


def parse_networks(values: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(value, strict=False) for value in values]


def serve(app: Flask, host: str, port: int, *, territory_id: int | None = None,
          allowed: Sequence[str] = ()) -> Listener:
    """A listener bound to (host, port) (port 0: a free port, in `server_address`); it serves
    in the calling thread once `serve_forever()` is called, until `shutdown()`."""
    return Listener(app, (host, port), lambda peer: Sender.listener(peer, territory_id),
                    parse_networks(allowed))

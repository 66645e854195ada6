"""`flask --app wsgi hl7-listener --port 2575 [--host 127.0.0.1] [--territory CODE]
[--allow NETWORK ...]`: the MLLP listener of the HL7 v2 ADT feed (see coordinator/hl7/mllp.py)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.hl7 import mllp
from coordinator.strata.models import Territory


@click.command("hl7-listener")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=2575, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free port, printed).")
@click.option("--territory", "territory_code",
              help="Territory code whose case managers reconcile the messages matching no "
                   "record (default: the facility's territory in the provider directory).")
@click.option("--allow", multiple=True, metavar="NETWORK",
              help="Accept connections from this address or network only (repeatable, e.g. "
                   "10.20.0.0/16).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes serving the port (one per core: the parsing of HL7 is Python "
                   "work, one core per process).")
@with_appcontext
def listener_command(host: str, port: int, territory_code: str | None,
                     allow: tuple[str, ...], workers: int) -> None:
    """Receive HL7 v2 ADT messages over MLLP: each one committed, then acknowledged."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    territory_id = None
    if territory_code:
        territory_id = db.session.scalar(select(Territory.id)
                                         .where(Territory.code == territory_code))
        if territory_id is None:
            raise click.BadParameter(f"no territory {territory_code}", param_hint="--territory")
    db.session.remove()
    try:
        networks = mllp.parse_networks(allow)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--allow") from error
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    listener = mllp.serve(app, host, port, territory_id=territory_id,
                          allowed=[str(network) for network in networks])
    address = listener.server_address
    click.echo(f"HL7 MLLP listener on {address[0]}:{address[1]}"
               + (f" ({workers} processes)" if workers > 1 else ""))
    children = _fork(workers - 1) if workers > 1 else []
    if children is None:  # a child process: serve, then leave without the parent's cleanup
        db.engine.dispose(close=False)  # the parent's connections are not this process's
        _serve(listener, quiet=True)
        os._exit(0)
    _serve(listener, quiet=False, children=children)


def _fork(count: int) -> list[int] | None:
    """Start `count` more processes serving the same socket: their ids (None in a child)."""
    children = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            return None
        children.append(pid)
    return children


def _serve(listener: mllp.Listener, *, quiet: bool, children: list[int] | None = None) -> None:
    listener.socket.setblocking(False)  # several processes accept: the losers do not wait

    def stop(signum, frame) -> None:  # type: ignore[no-untyped-def]
        for child in children or ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)
        threading.Thread(target=listener.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        listener.serve_forever(poll_interval=0.5)
    finally:
        for child in children or ():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child, 0)
        listener.server_close()
        if not quiet:
            click.echo(f"HL7 MLLP listener stopped: {listener.counts['messages']} message(s) "
                       f"on {listener.counts['connections']} connection(s), committed in "
                       f"{listener.batcher.batches} batch(es)"
                       + (" in this process." if children else "."))

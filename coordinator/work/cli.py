"""`flask --app wsgi worker [--threads N] [--burst]`: run the background work (production)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from coordinator.work import registry, worker


@click.command("worker")
@click.option("--threads", type=int, default=None,
              help="Items run at once by this process (default: WORKER_THREADS, 1).")
@click.option("--burst", is_flag=True, help="Run the queued items, then exit.")
@with_appcontext
def worker_command(threads: int | None, burst: bool) -> None:
    """Run imports, batch prints and the other background work until SIGTERM (a running item
    stops at its next checkpoint and is queued again for another worker)."""
    app = current_app._get_current_object()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    count = threads or int(app.config.get("WORKER_THREADS", 1))
    click.echo(f"worker: {count} thread(s), kinds: {', '.join(registry.of(app).names())}",
               err=True)
    ran = worker.serve(app, threads=count, burst=burst)
    if burst:
        click.echo(f"worker: {ran} item(s) run", err=True)

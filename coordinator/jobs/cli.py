"""`flask --app wsgi jobs list | run NAME`: the periodic jobs from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from coordinator.core.time import PARIS
from coordinator.extensions import db
from coordinator.jobs import registry, runner
from coordinator.jobs.models import JobRun, JobStatus

jobs = AppGroup("jobs", help="Background jobs: list them with their last run, run one by hand.")


def describe_run(job_run: JobRun | None) -> str:
    """"2026-11-24 06:30 succeeded (created 3, sent 0)", or "never run"."""
    if job_run is None:
        return "never run"
    started = job_run.started_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
    detail = job_run.error if job_run.status == JobStatus.FAILED \
        else runner.format_counts(job_run.counts)
    return f"{started} {job_run.status} ({detail})"


@jobs.command("list")
def list_jobs() -> None:
    """List the jobs: name, schedule, description and last run (time, status, counts)."""
    last = runner.last_runs(db.session)
    for job in registry.jobs():
        click.echo(f"{job.name:<24} {job.schedule.label!s:<20} {job.description}")
        click.echo(f"{'':<24} last run: {describe_run(last.get(job.name))}")


@jobs.command("run")
@click.argument("name")
def run_job(name: str) -> None:
    """Run the job NAME now (a run by hand always runs) and print its counts."""
    if registry.get(name) is None:
        click.echo(f"Error: no job named {name!r}; the jobs are: "
                   f"{', '.join(registry.names())}.", err=True)
        raise SystemExit(1)
    job_run = runner.run_manually(current_app._get_current_object(), name)
    if job_run is None or job_run.status != JobStatus.SUCCEEDED:
        error = job_run.error if job_run else "not run"
        click.echo(f"Error: {name} failed: {error}", err=True)
        raise SystemExit(1)
    click.echo(f"{name}: {runner.format_counts(job_run.counts)} ({job_run.duration_ms} ms)")

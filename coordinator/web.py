"""The application's wiring, called by `create_app`: blueprints, sign-in loaders, request hooks,
error pages, CLI, and every extension point filled in one place, in the open — never by the side
effect of importing a module or registering a blueprint: what higher layers add to lower
domains (`wire_extension_points`: page context, the moves of a patient merge), the periodic
jobs (`register_jobs`), the kinds of background work (`register_work`), the template globals
(`templating.init_app`). Registering is idempotent: the same function twice changes nothing."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from coordinator import permissions
from coordinator.core import database


def configure_engine(engine: Engine) -> None:
    """SQLite: foreign keys on, WAL journal, transactions that wait for the writer before them
    (`SQLITE_BUSY_TIMEOUT` seconds) and real SAVEPOINTs (see coordinator/core/database.py)."""
    if engine.dialect.name == "sqlite":
        database.configure_sqlite(engine, current_app.config["SQLITE_BUSY_TIMEOUT"])


def init_app(app: Flask) -> None:
    from coordinator import templating
    from coordinator.api.views import register as register_api
    from coordinator.audit import chain as audit_chain
    from coordinator.audit import session as audited_reads
    from coordinator.audit.views import bp as audit_bp
    from coordinator.auth import loaders
    from coordinator.auth.views import admin_bp
    from coordinator.auth.views import bp as auth_bp
    from coordinator.careplans.views import bp as careplans_bp
    from coordinator.cli import register as register_cli
    from coordinator.core import errorpages, hooks
    from coordinator.home.views import bp as home_bp
    from coordinator.imports.views import bp as imports_bp
    from coordinator.jobs import scheduler
    from coordinator.jobs.views import bp as jobs_bp
    from coordinator.metrics.target_views import bp as metric_targets_bp
    from coordinator.metrics.views import bp as metrics_bp
    from coordinator.patients.views import bp as patients_bp
    from coordinator.providers.views import bp as providers_bp
    from coordinator.scheduling.calendar_views import bp as calendar_bp
    from coordinator.scheduling.views import bp as scheduling_bp
    from coordinator.stays.views import bp as stays_bp
    from coordinator.strata.views import bp as programs_bp
    from coordinator.tasks.views import bp as tasks_bp
    from coordinator.timeline.views import bp as timeline_bp

    wire_extension_points(app)
    register_jobs(app)  # before the scheduler starts
    audited_reads.install()
    audit_chain.install()  # every audit entry written takes its place in the hash chain
    loaders.init_app(app)
    hooks.init_app(app)
    errorpages.init_app(app)
    templating.init_app(app)
    for blueprint in (home_bp, auth_bp, admin_bp, audit_bp, patients_bp, providers_bp,
                      programs_bp, imports_bp, careplans_bp, scheduling_bp, calendar_bp,
                      jobs_bp, stays_bp, tasks_bp, timeline_bp, metric_targets_bp, metrics_bp):
        app.register_blueprint(blueprint)
    register_hl7(app)
    register_metrics_report(app)
    register_rights(app)
    register_api(app)
    register_cli(app)
    scheduler.init_app(app)
    register_work(app)
    # The OpenAPI description is public: other teams build against it.
    permissions.declare(app, "api-docs.openapi_json", permissions.PUBLIC)


def wire_extension_points(app: Flask) -> None:
    """What higher layers add to lower domains (`core/extending.py`), in one place."""
    from coordinator.audit import services as audit_services
    from coordinator.careplans import lists as plan_lists
    from coordinator.careplans import services as plan_services
    from coordinator.core import extending
    from coordinator.metrics import services as metrics
    from coordinator.patients import banner, merge
    from coordinator.patients import services as patient_services
    from coordinator.scheduling import services as scheduling

    extending.provide(app, audit_services.PATIENT_ALIASES, merge.alias_ids_of)
    # The patient banner's flags: a plan overdue for review, the no-shows of the last 90 days.
    extending.provide(app, banner.PATIENT_BANNER, plan_lists.banner_flags)
    extending.provide(app, banner.PATIENT_BANNER, metrics.banner_no_shows)
    extending.provide(app, patient_services.RECORD_PAGE, plan_services.record_page_context)
    extending.provide(app, plan_services.PLAN_APPOINTMENTS, scheduling.upcoming)
    extending.provide(app, scheduling.NO_SHOW_RATE, metrics.no_show_rate)
    # At a merge of two records of a patient, after the patients' own moves, in this order.
    extending.provide(app, merge.MOVE_RECORDS, plan_services.move_plans)
    extending.provide(app, merge.MOVE_RECORDS, scheduling.move_appointments)
    wire_stays(app)
    wire_timeline(app)
    wire_hl7(app)
    wire_rights(app)


def wire_stays(app: Flask) -> None:
    """Hospital stays: the record's "Hospital stays" section, and the merge mover of stays and
    clinical events (after the appointments)."""
    from coordinator.core import extending
    from coordinator.patients import merge
    from coordinator.patients import services as patient_services
    from coordinator.stays import services as stay_services
    from coordinator.stays import views as stay_views

    extending.provide(app, patient_services.RECORD_SECTIONS, stay_views.record_section)
    extending.provide(app, merge.MOVE_RECORDS, stay_services.move_stays)
    wire_tasks(app)


def wire_tasks(app: Flask) -> None:
    """The transition-of-care protocol and its tasks (`coordinator/tasks/`): what they follow
    in the lower domains, and what they add to their pages."""
    from coordinator.core import extending
    from coordinator.patients import merge
    from coordinator.patients import services as patient_services
    from coordinator.scheduling import services as scheduling
    from coordinator.stays import services as stay_services
    from coordinator.tasks import protocol
    from coordinator.tasks import services as task_services

    # `stays.services.STAY_CHANGED` (the stays' own constant; the same name): each change of
    # a stay, its readmission flags and LACE recomputed, brings its tasks in line.
    extending.provide(app, stay_services.STAY_CHANGED, protocol.on_stay_changed)
    # Every recorded outcome (page, day list, API, import): an attended visit resolves tasks.
    extending.provide(app, scheduling.APPOINTMENT_OUTCOME, task_services.on_outcomes_recorded)
    extending.provide(app, patient_services.RECORD_PAGE, task_services.record_page_context)
    extending.provide(app, merge.MOVE_RECORDS, task_services.move_tasks)


def wire_timeline(app: Flask) -> None:
    """The patient's timeline (`coordinator/timeline/`): the record's link to it, after the
    record's other sections."""
    from coordinator.core import extending
    from coordinator.patients import services as patient_services
    from coordinator.timeline import views as timeline_views

    extending.provide(app, patient_services.RECORD_SECTIONS, timeline_views.record_link)


def wire_hl7(app: Flask) -> None:
    """The HL7 v2 feed: at a merge of two records, the messages follow the patient (after the
    stays)."""
    from coordinator.core import extending
    from coordinator.hl7 import services as hl7_services
    from coordinator.patients import merge

    extending.provide(app, merge.MOVE_RECORDS, hl7_services.move_messages)


def wire_rights(app: Flask) -> None:
    """Patients' rights (`coordinator/rights/`): the record's "Patient's rights" section, for
    administrators, last."""
    from coordinator.core import extending
    from coordinator.patients import services as patient_services
    from coordinator.rights import views as rights_views

    extending.provide(app, patient_services.RECORD_SECTIONS, rights_views.record_section)


def register_rights(app: Flask) -> None:
    """The exports of everything held about a patient: their pages and `flask patients
    export` (docs/patients-rights.md)."""
    from coordinator.rights.cli import patients
    from coordinator.rights.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(patients)


def register_hl7(app: Flask) -> None:
    """The reconciliation list's pages (the MLLP listener is a command: coordinator/cli.py; the
    HTTP endpoint an API resource: coordinator/api/views.py)."""
    from coordinator.hl7.views import bp

    app.register_blueprint(bp)


def register_jobs(app: Flask) -> None:
    """The one list of the periodic jobs (README, "Background jobs"): each a plain function of
    (session, now) written by its domain in `<domain>/jobs.py`. The jobs that write messages only
    put them in the outbox; `deliver_outbox` e-mails them."""
    from flask_babel import lazy_gettext as _l

    from coordinator.audit import jobs as audit_jobs
    from coordinator.careplans import jobs as careplans_jobs
    from coordinator.jobs import registry
    from coordinator.jobs.registry import Job
    from coordinator.metrics import jobs as metrics_jobs
    from coordinator.outbox import jobs as outbox_jobs
    from coordinator.printing import jobs as printing_jobs
    from coordinator.scheduling import jobs as scheduling_jobs
    from coordinator.tasks import jobs as tasks_jobs

    for job in (
        Job("mark_outcome_missing",
            _l("Mark the appointments that ended without an outcome (case managers' worklist)."),
            "hourly", scheduling_jobs.mark_outcome_missing),
        Job("appointment_reminders",
            _l("Reminders of the appointments of the next 48 hours, into the outbox."),
            "daily", scheduling_jobs.appointment_reminders),
        Job("review_overdue_plans",
            _l("Tell each case manager which active care plans of their caseload are past "
               "their review date."),
            "daily", careplans_jobs.review_overdue_plans),
        Job("discharged_without_followup",
            _l("Tell each case manager which patients of their caseload were discharged in "
               "the last 7 days with neither a contact nor a visit booked."),
            "daily", tasks_jobs.discharged_without_followup),
        Job("purge_printed_documents",
            _l("Delete cached plan PDFs unused for 30 days and batch PDFs older than 24 hours."),
            "daily", printing_jobs.purge_printed_documents),
        Job("metrics_target_alerts",
            _l("When a month closes, tell each territory's council which indicators of its "
               "programs were below their target that month."),
            "monthly", metrics_jobs.metrics_target_alerts),
        Job("refresh_metric_counts",
            _l("Count again the council dashboard's figures of the closed months, quarters "
               "and years of the last three years, which the dashboard reads."),
            "nightly", metrics_jobs.refresh_metric_counts),
        Job("purge_audit_entries",
            _l("Delete the audit entries older than the retention period (AUDIT_RETENTION_DAYS, "
               "a year by default), keeping the chain verifiable from the last one deleted."),
            "daily", audit_jobs.purge_audit_entries),
        Job("deliver_outbox",
            _l("E-mail the pending messages of the outbox, each once (when SMTP is "
               "configured)."),
            "hourly", outbox_jobs.deliver_outbox),
    ):
        registry.register(app, job)


def register_metrics_report(app: Flask) -> None:
    """The printed council report's pages (metrics/report_views.py)."""
    from coordinator.metrics.report_views import bp

    app.register_blueprint(bp)


def register_work(app: Flask) -> None:
    """The kinds of background work (docs/architecture.md, "Background work"), each handler
    written by its domain in `<domain>/work.py`; then the workers: threads of this process when
    the configuration asks for them (`WORKERS_IN_PROCESS`), else `flask --app wsgi worker`
    processes run them; and their heartbeat in /healthz."""
    from coordinator.careplans import work as careplan_work
    from coordinator.imports import work as import_work
    from coordinator.metrics import report as metrics_report
    from coordinator.work import health as work_health
    from coordinator.work import registry, worker

    kinds = registry.init_app(app)
    import_work.register(kinds)
    careplan_work.register(kinds)
    metrics_report.register(kinds)
    worker.init_app(app)
    work_health.register(app)  # /healthz "workers": their heartbeat, against the queue

"""Benchmark: the largest plan the limits allow, and printing within a time limit (aims: a plan
at every limit prints within the default limit of 20 s; the child renderer adds ≤ 50 ms to a
print; a render over the limit frees the request at the limit, and the next print works).

    .venv/bin/python benchmarks/careplan_limits.py [--repeat 5]

In a fresh SQLite file, saves through the service a plan at every limit of
coordinator/careplans/limits.py (50 goals, 200 actions, 40 care-team members, every text at
its longest, in French), then times:
- saving it (the service, the revision, the commit) and the size of its printed HTML;
- its PDF rendered in this process, and by the renderer (a child process, as a web request
  prints);
- a demo-sized plan printed in this process and by a warm renderer (the renderer's cost);
- a new renderer's start (the first print of a web process pays it);
- a render stopped at a 1 s limit, and the print that follows it.
Prints markdown table rows for docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from flask_babel import force_locale

from coordinator import create_app
from coordinator.auth.models import User
from coordinator.careplans import limits, services
from coordinator.careplans import printing as plan_printing
from coordinator.core.context import Actor
from coordinator.core.normalize import fold
from coordinator.extensions import db
from coordinator.patients.models import Patient
from coordinator.printing import pdf as pdfs
from coordinator.printing import renderer
from coordinator.providers.models import Provider
from coordinator.strata.models import Territory
from coordinator.strata.services import load_reference_data
from tests.careplans import renders, sizes


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def _registry() -> tuple[User, Patient, list[Provider]]:
    from datetime import date

    territory = db.session.query(Territory).filter_by(code="DOUAISIS").one()
    manager = User(email="cm@example.test", full_name="Claire Martin", role="case_manager",
                   password_hash="x", territory=territory, is_active=True)
    providers = [Provider(kind="gp" if n == 0 else "nurse", name=f"Intervenant {n}",
                          name_folded=fold(f"Intervenant {n}"), territory=territory)
                 for n in range(limits.MAX_TEAM)]
    patient = Patient(sex="F", birth_date=date(1941, 3, 12), birth_name="Dubois",
                      first_names="Jeanne", birth_name_folded="DUBOIS", first_name_folded="JEANNE",
                      territory=territory, gp=providers[0], case_manager=manager)
    db.session.add_all([manager, patient, *providers])
    db.session.commit()
    return manager, patient, providers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    rows = []
    with app.test_request_context(), force_locale("fr"):
        flask_migrate.upgrade()
        load_reference_data(db.session)
        db.session.commit()
        manager, patient, providers = _registry()
        actor = Actor.for_user(manager)
        content = sizes.maximal_content(providers[0].id, [p.id for p in providers[1:]])
        start = time.perf_counter()
        plan = services.create_plan(db.session, actor, patient, content)
        db.session.commit()
        saved = time.perf_counter() - start
        html = plan_printing.summary_html(db.session, plan)
        other = Patient(sex="M", birth_date=patient.birth_date, birth_name="Petit",
                        first_names="Paul", birth_name_folded="PETIT", first_name_folded="PAUL",
                        territory=patient.territory)
        db.session.add(other)
        db.session.flush()
        small = services.create_plan(db.session, actor, other, {
            "plan_date": plan.plan_date, "priorities": "Rester à domicile",
            "goals": [{"description": f"Objectif {n}", "actions": [
                {"description": f"Action {n}.{m}", "responsible": "patient"}
                for m in range(3)]} for n in range(4)]})
        db.session.commit()
        small_html = plan_printing.summary_html(db.session, small)
        pdfs.render_pdf(small_html)  # warm-up: fonts, caches

        in_process = timed(lambda: pdfs.render_pdf(html), args.repeat)
        pages = pdfs.page_count(pdfs.render_pdf(html))
        pdfs.render_pdf_within(small_html, 60)  # a renderer waiting, warm
        in_child = timed(lambda: pdfs.render_pdf_within(html, 60), args.repeat)
        small_in_process = timed(lambda: pdfs.render_pdf(small_html), args.repeat * 4)
        small_in_child = timed(lambda: pdfs.render_pdf_within(small_html, 60), args.repeat * 4)
        renderer.stop_all()
        starts = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            worker = renderer._Renderer()
            starts.append(time.perf_counter() - start)
            worker.stop()
        pdfs.render_pdf_within(small_html, 60)
        start = time.perf_counter()
        try:
            renderer.call(renders.never_ends, small_html, seconds=1)
        except pdfs.RenderTimedOut:
            stopped = time.perf_counter() - start
        start = time.perf_counter()
        pdfs.render_pdf_within(small_html, 60)
        after = time.perf_counter() - start

        median = statistics.median
        rows.append(f"| plan at every limit: saved (service, revision, commit) | {saved:.2f} s |")
        rows.append(f"| its printed HTML | {len(html.encode()) / 1000:.0f} kB, {pages} pages |")
        rows.append(f"| its PDF, in this process | {median(in_process):.2f} s (median of "
                    f"{args.repeat}) |")
        rows.append(f"| its PDF, by a warm renderer (child process) | {median(in_child):.2f} s |")
        rows.append(f"| a {pdfs.page_count(pdfs.render_pdf(small_html))}-page plan, in this "
                    f"process / by a warm renderer | {median(small_in_process) * 1000:.0f} ms / "
                    f"{median(small_in_child) * 1000:.0f} ms (+"
                    f"{(median(small_in_child) - median(small_in_process)) * 1000:.0f} ms) |")
        rows.append(f"| a new renderer's start (spawn, import WeasyPrint) | {median(starts):.2f} s "
                    f"(median of {args.repeat}) |")
        rows.append(f"| a render stopped at a 1 s limit / the next print (new renderer) | "
                    f"{stopped:.2f} s / {after:.2f} s |")
    renderer.stop_all()
    print("\n".join(rows))


if __name__ == "__main__":
    main()

"""Benchmark: printing care plans (aims: single-plan overhead ≤ 20 % over a bare WeasyPrint
render of the same HTML; cached re-print ≤ 50 ms; a batch of 100 plans ≤ 0.6 x the serial
time, both cores busy).

    .venv/bin/python benchmarks/careplan_print.py [--plans 100] [--repeat 5]

Loads the demo registry (its level-3 patients have active plans) into a fresh SQLite file,
then times, for real plans of the demo:
- the application's print of a plan whose PDF is not cached yet (context, template, render,
  cache store, stamp, audit) against WeasyPrint alone rendering the very same HTML;
- a cached re-print (what a second reader waits for);
- a batch of N plans rendered serially in this process, then in the pool of worker processes.
Prints markdown table rows for docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
from flask_babel import force_locale
from sqlalchemy import delete, select

from coordinator import create_app, demo
from coordinator.careplans import printing as plan_printing
from coordinator.careplans.models import CarePlan
from coordinator.core.context import Actor
from coordinator.extensions import db
from coordinator.printing import batch as batches
from coordinator.printing import pdf as pdfs
from coordinator.printing.models import PrintedDocument
from coordinator.strata.services import load_reference_data


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def clear_cache() -> None:
    db.session.execute(delete(PrintedDocument))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.test_request_context(), force_locale("fr"):
        flask_migrate.upgrade()
        load_reference_data(db.session)
        demo.seed_demo(db.session, "pbkdf2:sha256:1000")
        db.session.commit()
        actor = Actor.system("benchmark")
        plans = db.session.scalars(select(CarePlan).where(CarePlan.status == "active")
                                   .order_by(CarePlan.id)).all()
        plan = plans[0]
        html = plan_printing.summary_html(db.session, plan)
        pdfs.render_pdf(html)  # warm-up: fonts, caches

        def bare():
            from weasyprint import HTML

            HTML(string=html, base_url=pdfs.BASE_URL, url_fetcher=pdfs._fetcher()).write_pdf()

        def app_uncached():
            clear_cache()
            plan_printing.print_plan(db.session, actor, plan, "Benchmark")
            db.session.commit()

        def app_cached():
            plan_printing.print_plan(db.session, actor, plan, "Benchmark")
            db.session.commit()

        bare_times = timed(bare, args.repeat)
        # the cache clearing is part of app_uncached: time it apart and subtract it
        clear_times = timed(clear_cache, args.repeat)
        uncached_times = timed(app_uncached, args.repeat)
        app_cached()
        cached_times = timed(app_cached, args.repeat * 4)
        bare_median = statistics.median(bare_times)
        app_median = statistics.median(uncached_times) - statistics.median(clear_times)
        pages = pdfs.page_count(pdfs.render_pdf(html))
        print(f"| single plan ({pages} pages), bare WeasyPrint | {bare_median * 1000:.0f} ms |")
        print(f"| single plan, application print (not cached) | {app_median * 1000:.0f} ms "
              f"(overhead {100 * (app_median / bare_median - 1):+.1f} %) |")
        print(f"| cached re-print | median {statistics.median(cached_times) * 1000:.1f} ms, "
              f"max {max(cached_times) * 1000:.1f} ms |")

        chosen = (plans * (args.plans // len(plans) + 1))[:args.plans]
        htmls = [plan_printing.summary_html(db.session, p) for p in chosen]
        # make every document distinct, so that the batch really renders N documents
        htmls = [h.replace("</body>", f"<!-- {i} --></body>") for i, h in enumerate(htmls)]
        clear_cache()
        start = time.perf_counter()
        batches.render_all(db.session, htmls, parallel=False)
        serial = time.perf_counter() - start
        batches.pool().submit(pdfs.render_pdf, htmls[0]).result()  # start the workers
        clear_cache()
        cpu_before = os.times()
        start = time.perf_counter()
        rendered = batches.render_all(db.session, htmls, parallel=True)
        pdfs.merge([r.pdf for r in rendered])
        parallel = time.perf_counter() - start
        cpu_after = os.times()
        children = (cpu_after.children_user - cpu_before.children_user)
        print(f"| batch of {args.plans} plans, serial | {serial:.1f} s |")
        print(f"| batch of {args.plans} plans, {batches.workers()} worker processes (with the "
              f"merge) | {parallel:.1f} s = {parallel / serial:.2f} x serial |")
        del children
    batches.pool().shutdown()


if __name__ == "__main__":
    main()

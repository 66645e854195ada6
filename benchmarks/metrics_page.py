"""Benchmark: the registry dashboard page (`GET /metrics/`) as its readers open it, server time.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coordinator_generator \\
        .venv/bin/python benchmarks/metrics_page.py [--repeat 5] [--year 2025] \\
        [--territory DOUAISIS]

On DATABASE_URL (a registry made by `flask --app wsgi generate`), signed in through the sign-in
form like a person: the territory's council (`council.<territory>@generate.test`) opens its
territory's dashboard for a calendar year, and an administrator (`bench.admin@generate.test`,
created when absent) opens every territory's. Both passwords are set to a random one first
(a benchmark database only). Each request runs the whole page in this process: parsing,
permissions, `services.dashboard`, the audit entries and their commit, the tables, the SVG
charts and the template. Printed: the median and max wall time of `--repeat` requests after one
warm-up, the page's size, its statement count, and whether it read kept counts (the "Counted
on" line, `metrics.stored`) or counted now ("Counted just now").
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

from coordinator import create_app
from coordinator.auth import services as auth
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.strata.models import Territory

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FRESHNESS = re.compile(r'data-testid="figures-freshness">\s*(.*?)\s*</p>', re.S)


def account(session, email: str, password: str, method: str, *, role: str,
            territory_id: int | None) -> None:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name="Benchmark " + role, role=role,
                    territory_id=territory_id, is_active=True)
        session.add(user)
    user.password_hash = auth.hash_password(password, method)
    user.must_change_password = False
    user.locale = "en"
    session.commit()


def sign_in(app, email: str, password: str):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                           "password": password})
    if response.status_code != 302:
        raise SystemExit(f"{email} could not sign in ({response.status_code})")
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--territory", default="DOUAISIS")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("Set DATABASE_URL to a generated registry.")
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    statements = [0]
    password = secrets.token_urlsafe(18)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        territory = db.session.scalar(select(Territory).where(
            Territory.code == args.territory))
        slug = args.territory.lower()
        council = f"council.{slug}@generate.test"
        method = app.config["PASSWORD_HASH_METHOD"]
        account(db.session, council, password, method, role="council",
                territory_id=territory.id)
        account(db.session, "bench.admin@generate.test", password, method, role="admin",
                territory_id=None)
        db.session.remove()
    query = f"period=year&year={args.year}"
    print(f"| page (`GET /metrics/?{query}`) | median | max | statements | KB | figures |")
    print("|---|---:|---:|---:|---:|---|")
    for label, email, extra in ((f"council, {args.territory}", council, ""),
                                ("administrator, all territories",
                                 "bench.admin@generate.test", "&territory=")):
        client = sign_in(app, email, password)
        page = f"/metrics/?{query}{extra}"
        response = client.get(page)  # warm-up
        assert response.status_code == 200, response.status_code
        walls, counts = [], []
        for _ in range(args.repeat):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(page)
            walls.append(time.perf_counter() - started)
            counts.append(statements[0])
            assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
        found = FRESHNESS.search(html)
        freshness = re.sub(r"\s+", " ", found.group(1))[:40] if found else "?"
        print(f"| {label} | {statistics.median(walls):.3f} s | {max(walls):.3f} s | "
              f"{counts[-1]} | {len(html) // 1024} | {freshness} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
